// The cache when the upstream misbehaves, on the real stack against the fake Nexon Open API: stale-while-
// revalidate refreshes once in the background; failing or hanging upstream answers stale (marked) within the
// deadline, or 503 upstream_unavailable with Retry-After when nothing is stale; a waiter that gives up does
// not cancel the load; a 429's Retry-After stops every upstream call until it passes and is never cached;
// refresh=true skips a copy older than the refresh window; the valuation is recomputed only when the
// equipment changes.
//
// Windows are short here: equipment is fresh for 2 s, then served stale while revalidating for 2 s more, then
// only on upstream errors. A request waits at most 2.5 s (REQUEST_DEADLINE_MS); one upstream attempt may
// take 3 s, so a waiter can give up while the load goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import { many, tierOf } from '../lib/load.mjs';

const DEADLINE_MS = 2500;
// Time for the answer to travel through `wrangler dev` on a busy 2-core machine: a bound on behaviour (no
// request waits for the upstream past the deadline), not a performance claim.
const SLACK_MS = 2000;
const VARS = {
  EQUIPMENT_FRESH_S: '2', STALE_WHILE_REVALIDATE_S: '2', EQUIPMENT_STALE_S: '3600',
  REQUEST_DEADLINE_MS: String(DEADLINE_MS), UPSTREAM_TIMEOUT_MS: '3000', UPSTREAM_MAX_RETRIES: '1',
  BREAKER_FAILURES: '1000', // the breaker has its own test (cache-limits.test.mjs)
  REFRESH_WINDOW_S: '1',
  UPSTREAM_RATE_PER_SEC: '10000', UPSTREAM_BURST: '10000',
  CLIENT_RATE_PER_SEC: '100000', CLIENT_BURST: '100000', REFRESH_PER_MIN: '600000', REFRESH_BURST: '10000',
};

let fake;
let stack;
before(async () => {
  fake = await startFakeUpstream();
  stack = await startStack({ vars: { ...VARS, UPSTREAM_BASE_URL: fake.url } });
});
after(async () => {
  await stack?.stop();
  await fake?.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const equipmentUrl = (name, query = '') => `${stack.url}/v1/characters/${encodeURIComponent(name)}/equipment${query}`;
const tally = (values) => values.reduce((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {});

/** GET a character's equipment: {status, headers, body (parsed), ms}. */
async function get(name, query = '') {
  const started = performance.now();
  const r = await fetch(equipmentUrl(name, query));
  const body = await r.json();
  return { status: r.status, headers: r.headers, body, ms: performance.now() - started };
}

/** Warm a character; resolves its first answer and the instant (ms, local clock) it was fetched. */
async function warm(name) {
  const r = await get(name);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(tierOf(r.headers), 'origin');
  return { ...r, fetchedAt: Date.parse(r.body.fetched_at) };
}
const equipmentCalls = async (ocid) => (await fake.calls()).byKey[`equipment:${ocid}`] ?? 0;

test('6: stale-while-revalidate answers stale at once and refreshes in the background exactly once', async () => {
  await fake.reset();
  const first = await warm('swr1');
  await fake.revise(first.body.ocid); // what the refresh will bring
  await sleep(Math.max(0, first.fetchedAt + 2300 - Date.now())); // past fresh, within the SWR window
  const rs = await many(20, () => equipmentUrl('swr1'));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 20 });
  assert.deepEqual(tally(rs.map((r) => tierOf(r.headers))), { stale: 20 });
  assert.ok(rs.every((r) => JSON.parse(r.body).equipment_hash === first.body.equipment_hash), 'the stale copy');
  assert.match(rs[0].headers['cache-status'], /^pve; hit; ttl=-\d+; detail=stale$/);
  assert.equal(rs[0].headers['cache-control'], 'public, max-age=0, must-revalidate');
  for (let i = 0; i < 50 && (await equipmentCalls(first.body.ocid)) < 2; i++) await sleep(100);
  await sleep(500); // a second background refresh would show up now
  assert.equal(await equipmentCalls(first.body.ocid), 2, 'one background refresh');
  const after = await get('swr1');
  assert.equal(after.status, 200);
  assert.ok(['l1', 'l2'].includes(tierOf(after.headers)), after.headers.get('cache-status'));
  assert.notEqual(after.body.equipment_hash, first.body.equipment_hash, 'the refreshed equipment');
  assert.equal(await equipmentCalls(first.body.ocid), 2);
});

test('3: upstream failing or hanging with stale data: 200 stale (marked) within the deadline', async () => {
  await fake.reset();
  const [failing, hanging] = await Promise.all([warm('sie1'), warm('sie2')]);
  // Past fresh and past the stale-while-revalidate window: only stale-if-error can answer now.
  await sleep(Math.max(0, Math.max(failing.fetchedAt, hanging.fetchedAt) + 4300 - Date.now()));

  await fake.faults({ path: 'equipment', errorRate: 1 });
  let r = await get('sie1');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(tierOf(r.headers), 'stale');
  assert.match(r.headers.get('cache-status'), /fwd=stale/);
  assert.equal(r.body.equipment_hash, failing.body.equipment_hash);
  assert.ok(r.ms < DEADLINE_MS + SLACK_MS, `${r.ms} ms`);

  await fake.faults({ path: 'equipment', hang: true });
  r = await get('sie2');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(tierOf(r.headers), 'stale');
  assert.equal(r.body.equipment_hash, hanging.body.equipment_hash);
  assert.ok(r.ms < DEADLINE_MS + SLACK_MS, `${r.ms} ms`);
  // A 5xx or a timeout is never cached: the next request asks the upstream again, which has recovered.
  await fake.faults({ path: 'equipment' });
  await sleep(3200); // the hanging attempt times out (3 s) and its load ends
  r = await get('sie1');
  assert.equal(r.status, 200);
  assert.equal(tierOf(r.headers), 'origin');
});

test('3: with nothing stale, a failing or hanging upstream is 503 upstream_unavailable with Retry-After, within the deadline', async () => {
  await fake.reset();
  await fake.faults({ path: 'equipment', errorRate: 1 });
  let r = await get('cold1');
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'upstream_unavailable');
  assert.match(r.headers.get('retry-after'), /^[1-9]\d*$/);
  assert.ok(r.ms < DEADLINE_MS + SLACK_MS, `${r.ms} ms`);

  await fake.faults({ path: 'equipment', hang: true });
  const rs = await many(20, (i) => equipmentUrl(`cold${2 + (i % 4)}`), { timeoutMs: 20_000 });
  for (const x of rs) {
    assert.equal(x.status, 503, x.body.toString());
    assert.equal(JSON.parse(x.body).error.code, 'upstream_unavailable');
    assert.match(x.headers['retry-after'], /^[1-9]\d*$/);
    assert.ok(x.ms < DEADLINE_MS + SLACK_MS, `no request waits past the deadline: ${x.ms} ms`);
  }
  await fake.faults({ path: 'equipment' });
  await sleep(3200); // let the hanging attempts time out
  r = await get('cold1');
  assert.equal(r.status, 200, 'the failure was not cached');
});

test('a waiter that reaches its deadline leaves without cancelling the load', async () => {
  await fake.reset();
  await fake.faults({ path: 'equipment', latencyMs: DEADLINE_MS + 300 }); // slower than the deadline, within the timeout
  const first = await get('slow1');
  assert.equal(first.status, 503, JSON.stringify(first.body));
  assert.equal(first.body.error.code, 'upstream_unavailable');
  await sleep(1500); // the load finishes and stores its result
  await fake.faults({ path: 'equipment' });
  const second = await get('slow1');
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.ok(['l1', 'l2'].includes(tierOf(second.headers)), second.headers.get('cache-status'));
  const calls = await fake.calls();
  assert.equal(calls.equipment, 1, JSON.stringify(calls));
});

test('4: an upstream 429 with Retry-After stops every upstream call until then, and is not cached', async () => {
  await fake.reset();
  await fake.faults({ path: 'equipment', throttle: { retryAfterS: 3 } });
  let r = await get('throttle1');
  const throttledAt = Date.now();
  assert.equal(r.status, 503, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'upstream_rate_limited');
  assert.ok(Number(r.headers.get('retry-after')) >= 1, r.headers.get('retry-after'));
  let calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 1, equipment: 1 });
  // Until Retry-After passes, no call reaches the upstream, for this character or any other.
  await fake.faults({ path: 'equipment' });
  for (const name of ['throttle1', 'throttle2', 'throttle3']) {
    r = await get(name);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'upstream_rate_limited');
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 3, `Retry-After ${wait}`);
  }
  calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 1, equipment: 1 }, JSON.stringify(calls));
  await sleep(Math.max(0, throttledAt + 3300 - Date.now()));
  r = await get('throttle1');
  assert.equal(r.status, 200, `not negatively cached: ${JSON.stringify(r.body)}`);
  assert.equal((await fake.calls()).equipment, 2);
});

test('refresh=true skips a fresh copy older than the refresh window; concurrent refreshes share one call', async () => {
  await fake.reset();
  const first = await warm('refresh2');
  await fake.revise(first.body.ocid);
  await sleep(Math.max(0, first.fetchedAt + 1200 - Date.now())); // still fresh, but older than the 1 s window
  const plain = await get('refresh2');
  assert.equal(tierOf(plain.headers), 'l1', 'without refresh the fresh copy answers');
  await fake.faults({ path: 'equipment', latencyMs: 800 });
  const rs = await many(30, () => equipmentUrl('refresh2', '?refresh=true'));
  await fake.faults({ path: 'equipment' });
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 30 });
  const hashes = new Set(rs.map((r) => JSON.parse(r.body).equipment_hash));
  assert.equal(hashes.size, 1);
  assert.notEqual([...hashes][0], first.body.equipment_hash, 'the refreshed equipment');
  assert.equal(await equipmentCalls(first.body.ocid), 2, 'one upstream call for 30 refreshes');
});

/** The JSON log line of a request, by its x-request-id (log lines are written after the response). */
async function logLine(requestId) {
  for (let i = 0; i < 50; i++) {
    const line = stack.logs().split('\n').find((l) => l.includes(`"request_id":"${requestId}"`) && l.includes('"domain":"characters"'));
    if (line) return JSON.parse(line.slice(line.indexOf('{')));
    await sleep(100);
  }
  throw new Error(`no log line for ${requestId}`);
}

test('the valuation is recomputed only when the equipment changes', async () => {
  await fake.reset();
  const valuation = async (query = '') => {
    const r = await fetch(`${stack.url}/v1/characters/val1/valuation${query}`);
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body).slice(0, 300));
    return { body, log: await logLine(r.headers.get('x-request-id')), headers: r.headers };
  };
  const first = await valuation();
  assert.equal(typeof first.log.engine_ms, 'number', 'computed');
  await sleep(1200); // older than the refresh window
  const same = await valuation('?refresh=true');
  assert.equal(same.body.equipment_hash, first.body.equipment_hash, 'the upstream sent the same equipment');
  assert.equal((await fake.calls()).equipment, 2, 'the refresh went to the upstream');
  assert.equal(same.log.engine_ms, undefined, 'same equipment: the valuation came from the cache');
  assert.deepEqual(same.body.valuation, first.body.valuation);
  await fake.revise(first.body.ocid);
  await sleep(1200);
  const changed = await valuation('?refresh=true');
  assert.notEqual(changed.body.equipment_hash, first.body.equipment_hash);
  assert.equal(typeof changed.log.engine_ms, 'number', 'new equipment: computed again');
});
