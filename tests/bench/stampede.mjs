// Benchmark (not a test): a stampede at scale on `wrangler dev --local` against the fake Nexon Open API.
//
//   node tests/bench/stampede.mjs [--characters 100] [--per 100] [--sockets 1000]   (scripts/bench.sh runs it)
//
// Fires characters × per requests at once (default 10,000: 100 for each of 100 cold characters) at
// GET /v1/characters/{name}/equipment and reports, per scenario: the 200 answers, the characters whose
// answers differ from one another, the upstream calls per character and path (id, item-equipment:
// min/max over the characters; a healthy upstream must show exactly 1), and p50/p99 latency. The second
// scenario makes the fake upstream fail 20% of its calls (500): every character must still have one
// leader, so its calls per path are at most 1 + UPSTREAM_MAX_RETRIES (the retry budget). The breaker is
// set out of reach here (BREAKER_FAILURES) so that it measures single-flight, not the breaker.
// Results also go to tests/artifacts/bench-stampede.json.
//
// Connections: all characters × per requests are issued at once, over one keep-alive agent with at most
// --sockets connections (default 1,000); the rest wait in the agent's queue, so 10,000 requests are in
// flight from the client's side while the local server holds at most 1,000 connections. One socket per
// request (--sockets 10000) made `wrangler dev` reset connections (ECONNRESET, "socket hang up"): see
// the connection probe this script prints first. The "tiers" column says how the answers were served:
// `collapsed` ones shared a load in flight (or its result in the Durable Object), `l1`/`l2` came later from
// the cache; every one of them counts against "one upstream call per character and path".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import http from 'node:http';
import { many, percentile, request } from '../lib/load.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CHARACTERS = arg('characters', 100);
const PER = arg('per', 100);
const SOCKETS = arg('sockets', 1000);
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

const results = { characters: CHARACTERS, per: PER, sockets: SOCKETS, maxRetries: MAX_RETRIES, scenarios: [] };
const minMax = (xs) => `${Math.min(...xs)}–${Math.max(...xs)}`;
try {
  // The connection probe: the same number of requests to a trivial route (GET /nope: the Worker answers
  // 404 with no binding touched), one socket each, then through the bounded pool. It shows whether a
  // connection limit, not the cache, fails. (It was /healthz, whose D1 and KV checks made 10,000 of them
  // alone run for over 20 minutes of workerd CPU on this machine, and most answered 503.)
  const probe = async (sockets) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
    const rs = await Promise.all(Array.from({ length: CHARACTERS * PER }, () =>
      request(`${stack.url}/nope`, { agent, timeoutMs: 15_000 }).catch((e) => ({ error: e.code ?? e.message }))));
    agent.destroy();
    const errors = rs.filter((r) => r.error).reduce((m, r) => ({ ...m, [r.error]: (m[r.error] ?? 0) + 1 }), {});
    const statuses = rs.filter((r) => !r.error).reduce((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
    return { sockets, ok: rs.filter((r) => r.status === 404).length, statuses, errors };
  };
  console.log(`${CHARACTERS * PER} requests issued at once: ${PER} for each of ${CHARACTERS} cold characters, over a keep-alive ` +
    `pool of ${SOCKETS} sockets (fake upstream latency 200 ms; UPSTREAM_MAX_RETRIES=${MAX_RETRIES})`);
  console.log('| upstream | requests | 200 answers | characters with differing answers | id calls per character | item-equipment calls per character | calls beyond the retry budget | tiers | p50 ms | p99 ms | time s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, prefix, errorRate] of [['healthy', 'stampa', 0], ['failing 20% (500)', 'stampb', 0.2]]) {
    await fake.reset();
    await fake.faults({ latencyMs: 200, errorRate });
    const names = Array.from({ length: CHARACTERS }, (_, i) => `${prefix}${i}`);
    // Interleaved, so every character's 100 requests are spread over the whole burst.
    const started = performance.now();
    const rs = await many(CHARACTERS * PER, (i) => `${stack.url}/v1/characters/${names[i % CHARACTERS]}/equipment`,
      { concurrency: SOCKETS, timeoutMs: 300_000 });
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
    const tiers = rs.reduce((m, r) => {
      const cs = r.headers['cache-status'] ?? '';
      const t = /collapsed/.test(cs) ? 'collapsed' : (/detail=([a-z0-9-]+)/.exec(cs)?.[1] ?? 'none');
      return { ...m, [t]: (m[t] ?? 0) + 1 };
    }, {});
    const row = {
      label, errorRate, requests: rs.length, ok, statuses, differing, idCalls: minMax(idCalls),
      equipmentCalls: `${minMax(eqCalls)} over ${eqCalls.length} ocids`, beyondBudget: beyond,
      totalCalls: calls.total, tiers, p50: percentile(ms, 50), p99: percentile(ms, 99), seconds,
    };
    results.scenarios.push(row);
    console.log(`| ${label} | ${row.requests} | ${ok}${ok === row.requests ? '' : ` (${JSON.stringify(statuses)})`} | ${differing} | ` +
      `${row.idCalls} | ${row.equipmentCalls} | ${beyond} | ${Object.entries(tiers).map(([k, v]) => `${k} ${v}`).join(', ')} | ${row.p50.toFixed(0)} | ${row.p99.toFixed(0)} | ${seconds.toFixed(1)} |`);
  }
  // The probe runs last: 10,000 sockets at once left `wrangler dev` answering nothing afterwards (seen
  // 2026-12-03: 1 of 10,000 answered, then 0 of 10,000 through 1,000 sockets), which ended the stampede.
  console.log();
  // The bounded pool first, then one socket per request (which may leave the server unusable), each
  // request given 15 s: a wedged server would otherwise hold every queued request for its whole timeout.
  results.probe = [await probe(SOCKETS), await probe(CHARACTERS * PER)];
  console.log(`Connection probe, ${CHARACTERS * PER} GET /nope (a trivial 404) at once:`);
  for (const p of results.probe) {
    console.log(`- ${p.sockets} sockets: ${p.ok} answered 404; statuses ${JSON.stringify(p.statuses)}; errors ${JSON.stringify(p.errors)}`);
  }
  console.log();
  writeFileSync(join(artifactsDir(), 'bench-stampede.json'), JSON.stringify(results, null, 2));
} finally {
  await stack.stop();
  await fake.stop();
}
