// Benchmark (not a test): the cache tiers on `wrangler dev --local` against the fake Nexon Open API.
//
//   node tests/bench/api.mjs [--requests 2000] [--concurrency 50] [--rounds 2]   (scripts/bench.sh runs it)
//
// Reports, from one run on one stack, requests/s and p50/p99 latency for
//   - a trivial route (GET /nope: the Worker, no bindings, a 404 body),
//   - an L1 hit and a KV (L2) hit of GET /v1/characters/{name}/equipment, each twice: with If-None-Match
//     (304, no body: the cost of the cache path) and without (200, ~230 KB of equipment JSON),
//   - the engine route POST /v1/flame: a cached answer (L1) and distinct requests computed each time,
// as ratios to the trivial route; and the upstream calls made for N = 1, 100, 1000 concurrent requests for
// a cold character. Local dev-runtime numbers on a shared machine: compare them as ratios, never as
// production figures. Results also go to tests/artifacts/bench-api.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import { many, percentile, tierOf } from '../lib/load.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg('requests', 2000);
const CONCURRENCY = arg('concurrency', 50);
const ROUNDS = arg('rounds', 2);

const fake = await startFakeUpstream();
// L1 keeps two entries (one character's ocid and equipment): the KV scenario cycles through more
// characters than that, so each of its requests misses L1 and hits KV.
const stack = await startStack({
  vars: {
    UPSTREAM_BASE_URL: fake.url, L1_MAX_ENTRIES: '2', REQUEST_DEADLINE_MS: '30000', UPSTREAM_TIMEOUT_MS: '10000',
    UPSTREAM_RATE_PER_SEC: '100000', UPSTREAM_BURST: '100000',
    CLIENT_RATE_PER_SEC: '1000000', CLIENT_BURST: '1000000',
  },
});

const url = (name) => `${stack.url}/v1/characters/${name}/equipment`;
const KV_NAMES = Array.from({ length: 20 }, (_, i) => `kvbench${i}`);

async function measure(label, make, expectTier) {
  await many(Math.min(200, REQUESTS), make, { concurrency: CONCURRENCY }); // warm-up
  const started = performance.now();
  const rs = await many(REQUESTS, make, { concurrency: CONCURRENCY });
  const seconds = (performance.now() - started) / 1000;
  const statuses = new Set(rs.map((r) => r.status));
  const tiers = rs.reduce((m, r) => ({ ...m, [tierOf(r.headers) ?? '-']: (m[tierOf(r.headers) ?? '-'] ?? 0) + 1 }), {});
  if (expectTier && (tiers[expectTier] ?? 0) < 0.95 * REQUESTS) {
    throw new Error(`${label}: expected ${expectTier} answers, got ${JSON.stringify(tiers)}`);
  }
  const ms = rs.map((r) => r.ms);
  return {
    label, status: [...statuses].join(','), tiers, rps: REQUESTS / seconds,
    p50: percentile(ms, 50), p99: percentile(ms, 99), bytes: rs[0].body.length,
  };
}

let distinct = 0; // makes every "computed" engine request a new cache key, across rounds and warm-ups
const results = { requests: REQUESTS, concurrency: CONCURRENCY, rounds: [], coldUpstreamCalls: [] };
try {
  // Warm: one character for L1, twenty in KV.
  for (const name of ['hotbench1', ...KV_NAMES]) {
    const r = await fetch(url(name));
    if (r.status !== 200) throw new Error(`warm ${name}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }
  const etag = (await fetch(url('hotbench1'))).headers.get('etag');
  const etags = {};
  for (const name of KV_NAMES) etags[name] = (await fetch(url(name))).headers.get('etag');

  for (let round = 1; round <= ROUNDS; round++) {
    const rows = [];
    rows.push(await measure('trivial route (404, no bindings)', () => `${stack.url}/nope`));
    rows.push(await measure('L1 hit, 304', () => ({ url: url('hotbench1'), headers: { 'if-none-match': etag } }), 'l1'));
    rows.push(await measure('KV hit, 304', (i) => {
      const name = KV_NAMES[i % KV_NAMES.length];
      return { url: url(name), headers: { 'if-none-match': etags[name] } };
    }, 'l2'));
    rows.push(await measure('L1 hit, 200 with body', () => url('hotbench1'), 'l1'));
    rows.push(await measure('KV hit, 200 with body', (i) => url(KV_NAMES[i % KV_NAMES.length]), 'l2'));
    // The engine route: one flame request (an engine-cache L1 hit after the warm-up), and distinct
    // requests that each compute (the target score differs, so every one misses the cache).
    const flame = (target) => ({
      url: `${stack.url}/v1/flame`, method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flame: 'eternal', item: { level: 200, boss: true, kind: 'armor' }, score: { class: '히어로' }, target_score: target }),
    });
    rows.push(await measure('engine route POST /v1/flame, cached answer (L1)', () => flame(120), 'l1'));
    rows.push(await measure('engine route POST /v1/flame, computed each time', () => flame(`${100000 + distinct++}/1000`), 'origin'));
    const base = rows[0];
    for (const r of rows) {
      r.rpsRatio = r.rps / base.rps;
      r.p50Ratio = r.p50 / base.p50;
      r.p99Ratio = r.p99 / base.p99;
    }
    results.rounds.push(rows);
    console.log(`\nround ${round}: ${REQUESTS} requests, concurrency ${CONCURRENCY}`);
    console.log('| scenario | status | req/s | p50 ms | p99 ms | req/s ÷ trivial | p50 ÷ trivial | p99 ÷ trivial |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(`| ${r.label} | ${r.status} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ` +
        `${r.rpsRatio.toFixed(2)} | ${r.p50Ratio.toFixed(2)} | ${r.p99Ratio.toFixed(2)} |`);
    }
  }

  console.log('\nupstream calls for N concurrent requests for one cold character (fake upstream latency 200 ms)');
  console.log('| N | 200 answers | id calls | item-equipment calls |');
  console.log('|---|---|---|---|');
  await fake.faults({ latencyMs: 200 });
  for (const n of [1, 100, 1000]) {
    await fake.reset();
    await fake.faults({ latencyMs: 200 });
    const rs = await many(n, () => url(`cold${n}`));
    const calls = await fake.calls();
    const ok = rs.filter((r) => r.status === 200).length;
    results.coldUpstreamCalls.push({ n, ok, id: calls.id, equipment: calls.equipment });
    console.log(`| ${n} | ${ok} | ${calls.id} | ${calls.equipment} |`);
  }
  writeFileSync(join(artifactsDir(), 'bench-api.json'), JSON.stringify(results, null, 2));
} finally {
  await stack.stop();
  await fake.stop();
}
