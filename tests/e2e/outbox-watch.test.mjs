// Watches end to end: the scheduled sweep looks characters up through the Worker's cached character lookup
// (cache tiers, single-flight Durable Object, global upstream budget) against the fake Nexon Open API
// (tests/fake-upstream, fixtures of ../shared/fixtures/nexon), values them with the engine, stores a
// baseline snapshot, and when the gear changes writes the new snapshot and a valuation.changed event in
// one batch, delivered to the watch's webhook. Unknown characters and upstream 429s are reported, and a 429
// stops the sweep with a WARNING. A refresh through GET /v1/characters/{name}/valuation notices a change
// of a watched character too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { startFakeUpstream, ocidOf } from '../fake-upstream/server.mjs';
import { adminClient, outboxVars, relayUntilQuiet, eventually } from '../lib/outbox.mjs';

const GOLDEN = join(ROOT, 'engine', 'api', 'tests', 'golden');
const equippedTotal = (golden) =>
  JSON.parse(readFileSync(join(GOLDEN, golden), 'utf8')).sets.find((s) => s.set === 'equipped').summary.mean_mesos;
const EVAN_TOTAL = equippedTotal('valuation_evan.json');
const MECHANIC_TOTAL = equippedTotal('valuation_mechanic.json');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Synthetic names the fake knows (lower-case letters then digits); their gear is set with revise().
const WATCHED = 'evanwatch1';
const UNKNOWN = 'zghost'; // not a name the fake knows (no digits)
const ROUTE_WATCHED = 'routewatch1';

let fake;
let sink;
let stack;
let admin;
before(async () => {
  fake = await startFakeUpstream();
  sink = await startSink();
  stack = await startStack({
    vars: outboxVars(sink, {
      UPSTREAM_BASE_URL: fake.url,
      WATCH_SWEEP_INTERVAL_S: '0',
      WATCH_SWEEP_BATCH: '5',
      // Every sweep and refresh=true loads the equipment again (no sharing of a just-loaded copy).
      REFRESH_WINDOW_S: '0',
      REFRESH_BURST: '50',
    }),
  });
  admin = adminClient(stack);
  await fake.revise(ocidOf(WATCHED), 'evan_equip.json');
  await fake.revise(ocidOf(ROUTE_WATCHED), 'evan_equip.json');
});
after(async () => {
  await stack?.stop();
  await sink?.close();
  await fake?.stop();
});

async function newWatch(character, path) {
  const r = await fetch(`${stack.url}/v1/watches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `watch-${character}` },
    body: JSON.stringify({ character, webhook_url: `${sink.url}${path}` }),
  });
  assert.equal(r.status, 201);
  return r.json();
}
const getWatch = async (w) =>
  (await fetch(`${stack.url}/v1/watches/${w.id}`, { headers: { authorization: `Bearer ${w.token}` } })).json();
/** Upstream calls made while `f` runs, by key. */
async function callsDuring(f) {
  const before = (await fake.calls()).byKey;
  const result = await f();
  const after = (await fake.calls()).byKey;
  const delta = {};
  for (const [k, n] of Object.entries(after)) if (n !== (before[k] ?? 0)) delta[k] = n - (before[k] ?? 0);
  return { result, delta };
}
const changedNotes = async (path) =>
  (await sink.records(path)).filter((r) => r.json?.event_type === 'valuation.changed' && r.action === 'ok');

function assertChange(note, watch, character, oldTotal, newTotal, versions) {
  assert.equal(note.headers['idempotency-key'], note.json.event_id);
  assert.equal(note.json.watch_id, watch.id);
  assert.equal(note.json.character, character);
  const d = note.json.data;
  assert.equal(d.old_total, oldTotal);
  assert.equal(d.new_total, newTotal);
  assert.equal(d.delta, d.new_total - d.old_total);
  assert.deepEqual([d.previous_snapshot_version, d.snapshot_version], versions);
  assert.ok(d.changes.length > 0 && d.changes.length === d.changes_total, JSON.stringify(d).slice(0, 500));
  for (const c of d.changes) {
    assert.equal(typeof c.slot, 'string');
    assert.ok(c.old === null || typeof c.old.name === 'string');
    if (c.old?.mean_cost != null && c.new?.mean_cost != null) assert.equal(c.delta, c.new.mean_cost - c.old.mean_cost);
    if (c.old && c.new && (c.old.mean_cost === null || c.new.mean_cost === null)) assert.equal(c.delta, null, 'no made-up delta');
  }
}

let watch;

test('sweep: the first valuation of a watched character is a baseline snapshot, with no event', async () => {
  watch = await newWatch(WATCHED, '/hooks/evan');
  const { result: report, delta } = await callsDuring(() => admin.sweep());
  assert.deepEqual(report, { characters: 1, changed: 0, unchanged: 0, baseline: 1, errors: [], stopped_by: null }, JSON.stringify(report));
  assert.deepEqual(delta, { [`id:${WATCHED}`]: 1, [`equipment:${ocidOf(WATCHED)}`]: 1 });
  const body = await getWatch(watch);
  assert.equal(body.last_snapshot.version, 1);
  assert.equal(body.last_snapshot.total_mean_cost, EVAN_TOTAL, 'the engine total of the equipped set (golden file)');
  assert.equal(body.last_check_error, null);
  await relayUntilQuiet(admin);
  assert.deepEqual((await sink.records('/hooks/evan')).map((r) => r.json.event_type), ['watch.created']);
});

test('sweep: the same gear again is unchanged (no snapshot, no event); the equipment is refreshed, the ocid is cached', async () => {
  const { result: report, delta } = await callsDuring(() => admin.sweep());
  assert.equal(report.unchanged, 1, JSON.stringify(report));
  assert.deepEqual(delta, { [`equipment:${ocidOf(WATCHED)}`]: 1 }, 'the name → ocid mapping comes from the cache');
  assert.equal((await getWatch(watch)).last_snapshot.version, 1);
});

test('sweep: changed gear → a new snapshot and a valuation.changed event, delivered with old/new totals and item changes', async () => {
  await fake.revise(ocidOf(WATCHED), 'mechanic_equip.json'); // the character re-geared
  const report = await admin.sweep();
  assert.equal(report.changed, 1, JSON.stringify(report));
  assert.equal((await getWatch(watch)).last_snapshot.version, 2);
  const [note] = await eventually(() => changedNotes('/hooks/evan'), (ns) => ns.length === 1);
  assertChange(note, watch, WATCHED, EVAN_TOTAL, MECHANIC_TOTAL, [1, 2]);
});

test('sweep: an unknown character is reported per watch and does not stop the others', async () => {
  const ghost = await newWatch(UNKNOWN, '/hooks/ghost');
  const report = await admin.sweep();
  assert.deepEqual(report.errors.map((e) => [e.character, e.code]), [[UNKNOWN, 'character_not_found']], JSON.stringify(report));
  assert.equal(report.characters, 2);
  assert.equal(report.unchanged, 1);
  assert.equal(report.stopped_by, null);
  assert.equal((await getWatch(ghost)).last_check_error, 'character_not_found');
});

test('sweep: an upstream 429 stops the sweep and raises the rate-limit WARNING through the outbox', async () => {
  await fake.faults({ path: '*', throttle: { retryAfterS: 1 } });
  const { result: report, delta } = await callsDuring(() => admin.sweep());
  await fake.faults({ path: '*' });
  assert.equal(report.stopped_by, 'upstream_rate_limited', JSON.stringify(report));
  assert.equal(report.characters, 1, 'no further character after the 429');
  assert.deepEqual(delta, { [`equipment:${ocidOf(WATCHED)}`]: 1 }, 'one upstream call, no retry of a 429');
  assert.equal(report.errors[0].code, 'upstream_rate_limited');
  await relayUntilQuiet(admin);
  const alert = (await sink.records('/alerts')).find((r) => r.json?.embeds?.[0]?.title === '[WARNING] Upstream rate limit exhausted');
  assert.ok(alert, 'the WARNING reached ALERT_WEBHOOK_URL');
  assert.equal(alert.json.embeds[0].fields.find((f) => f.name === 'runbook').value, 'RUNBOOK.md#upstream-rate-limit-exhausted');
  await sleep(1_200); // the upstream's Retry-After, which the Worker's upstream budget honours
});

test('the cron trigger sweeps and relays: gear changed back → the next valuation.changed is delivered', async () => {
  await fake.revise(ocidOf(WATCHED), 'evan_equip.json');
  const cron = await fetch(`${stack.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(cron.status, 200);
  const notes = await eventually(() => changedNotes('/hooks/evan'), (ns) => ns.length === 2);
  assert.equal(notes[1].json.data.snapshot_version, 3);
  assert.equal(notes[1].json.data.new_total, EVAN_TOTAL);
  assert.equal(notes[1].json.data.old_total, MECHANIC_TOTAL);
});

// --- A refresh through the valuation route notices changes of watched characters too ---

const valuation = (name, query = '?refresh=true') => fetch(`${stack.url}/v1/characters/${name}/valuation${query}`);
let routeWatch;

test('route: a refresh of a watched character stores its baseline snapshot after the response, no event', async () => {
  routeWatch = await newWatch(ROUTE_WATCHED, '/hooks/route');
  const r = await valuation(ROUTE_WATCHED);
  assert.equal(r.status, 200, await r.clone().text());
  assert.match(r.headers.get('cache-status'), /fwd=request/);
  const body = await eventually(() => getWatch(routeWatch), (w) => w.last_snapshot !== null);
  assert.equal(body.last_snapshot.version, 1);
  assert.equal(body.last_snapshot.total_mean_cost, EVAN_TOTAL);
});

test('route: changed gear seen by refresh=true → exactly one valuation.changed with old/new totals', async () => {
  await fake.revise(ocidOf(ROUTE_WATCHED), 'mechanic_equip.json');
  const r = await valuation(ROUTE_WATCHED);
  assert.equal(r.status, 200);
  const v = await r.json();
  assert.equal(v.set.summary.mean_mesos, MECHANIC_TOTAL, 'the client sees the new valuation at once');
  const [note] = await eventually(() => changedNotes('/hooks/route'), (ns) => ns.length === 1);
  assertChange(note, routeWatch, ROUTE_WATCHED, EVAN_TOTAL, MECHANIC_TOTAL, [1, 2]);
});

test('route: an unchanged refresh, a preset refresh and a cached answer send nothing more', async () => {
  await fake.revise(ocidOf(ROUTE_WATCHED)); // a new fetch date, the same items: the same valuation
  for (const query of ['?refresh=true', '?refresh=true&preset=1', '']) {
    const r = await valuation(ROUTE_WATCHED, query);
    assert.equal(r.status, 200, `${query}: ${await r.text()}`);
  }
  await sleep(1_500); // the background work of those answers
  await relayUntilQuiet(admin);
  assert.equal((await changedNotes('/hooks/route')).length, 1);
  assert.equal((await getWatch(routeWatch)).last_snapshot.version, 2);
});

test('route: a character nobody watches gets no snapshot and no event', async () => {
  const r = await valuation('nowatch7');
  assert.equal(r.status, 200);
  await sleep(500);
  await relayUntilQuiet(admin);
  const stats = await admin.stats();
  assert.equal(stats.outbox.pending + stats.outbox.leased, 0);
  assert.equal((await changedNotes('/hooks/')).length, 3, 'the two sweep changes and the route change, nothing else');
});
