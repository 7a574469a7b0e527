// Benchmark (not a test): a stampede at scale on `wrangler dev --local` against the fake Nexon Open API.
//
//   node tests/bench/stampede.mjs [--characters 100] [--per 100]   (scripts/bench.sh runs it)
//
// Fires characters × per requests at once (default 10,000: 100 for each of 100 cold characters) at
// GET /v1/characters/{name}/equipment and reports, per scenario: the 200 answers, the characters whose
// answers differ from one another, the upstream calls per character and path (id, item-equipment:
// min/max over the characters; a healthy upstream must show exactly 1), and p50/p99 latency. The second
// scenario makes the fake upstream fail 20% of its calls (500): every character must still have one
// leader, so its calls per path are at most 1 + UPSTREAM_MAX_RETRIES (the retry budget). The breaker is
// set out of reach here (BREAKER_FAILURES) so that it measures single-flight, not the breaker.
// Results also go to tests/artifacts/bench-stampede.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import { many, percentile } from '../lib/load.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CHARACTERS = arg('characters', 100);
const PER = arg('per', 100);
const MAX_RETRIES = 5;

const fake = await startFakeUpstream();
const stack = await startStack({
  vars: {
    UPSTREAM_BASE_URL: fake.url, REQUEST_DEADLINE_MS: '60000', UPSTREAM_TIMEOUT_MS: '30000',
    UPSTREAM_MAX_RETRIES: String(MAX_RETRIES), BREAKER_FAILURES: '1000000',
    UPSTREAM_RATE_PER_SEC: '100000', UPSTREAM_BURST: '100000',
    CLIENT_RATE_PER_SEC: '1000000', CLIENT_BURST: '1000000',
  },
});

const results = { characters: CHARACTERS, per: PER, maxRetries: MAX_RETRIES, scenarios: [] };
const minMax = (xs) => `${Math.min(...xs)}–${Math.max(...xs)}`;
try {
  console.log(`${CHARACTERS * PER} concurrent requests: ${PER} for each of ${CHARACTERS} cold characters ` +
    `(fake upstream latency 200 ms; UPSTREAM_MAX_RETRIES=${MAX_RETRIES})`);
  console.log('| upstream | requests | 200 answers | characters with differing answers | id calls per character | item-equipment calls per character | calls beyond the retry budget | p50 ms | p99 ms | time s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, prefix, errorRate] of [['healthy', 'stampa', 0], ['failing 20% (500)', 'stampb', 0.2]]) {
    await fake.reset();
    await fake.faults({ latencyMs: 200, errorRate });
    const names = Array.from({ length: CHARACTERS }, (_, i) => `${prefix}${i}`);
    // Interleaved, so every character's 100 requests are spread over the whole burst.
    const started = performance.now();
    const rs = await many(CHARACTERS * PER, (i) => `${stack.url}/v1/characters/${names[i % CHARACTERS]}/equipment`,
      { timeoutMs: 300_000 });
    const seconds = (performance.now() - started) / 1000;
    const calls = await fake.calls();
    const ok = rs.filter((r) => r.status === 200).length;
    const statuses = rs.reduce((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
    const bodies = new Map();
    rs.forEach((r, i) => {
      const name = names[i % CHARACTERS];
      if (!bodies.has(name)) bodies.set(name, new Set());
      bodies.get(name).add(`${r.status}:${createHash('sha256').update(r.body).digest('hex')}`);
    });
    const differing = names.filter((n) => bodies.get(n).size > 1).length;
    // The id path is keyed by name; item-equipment by ocid (one ocid per name in the fake).
    const idCalls = names.map((n) => calls.byKey[`id:${n}`] ?? 0);
    const eqCalls = Object.entries(calls.byKey).filter(([k]) => k.startsWith('equipment:')).map(([, v]) => v);
    const beyond = [...idCalls, ...eqCalls].filter((c) => c > 1 + MAX_RETRIES).length;
    const ms = rs.map((r) => r.ms);
    const row = {
      label, errorRate, requests: rs.length, ok, statuses, differing, idCalls: minMax(idCalls),
      equipmentCalls: `${minMax(eqCalls)} over ${eqCalls.length} ocids`, beyondBudget: beyond,
      totalCalls: calls.total, p50: percentile(ms, 50), p99: percentile(ms, 99), seconds,
    };
    results.scenarios.push(row);
    console.log(`| ${label} | ${row.requests} | ${ok}${ok === row.requests ? '' : ` (${JSON.stringify(statuses)})`} | ${differing} | ` +
      `${row.idCalls} | ${row.equipmentCalls} | ${beyond} | ${row.p50.toFixed(0)} | ${row.p99.toFixed(0)} | ${seconds.toFixed(1)} |`);
  }
  writeFileSync(join(artifactsDir(), 'bench-stampede.json'), JSON.stringify(results, null, 2));
} finally {
  await stack.stop();
  await fake.stop();
}
