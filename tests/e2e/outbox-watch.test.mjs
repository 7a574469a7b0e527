// Watches end to end: the scheduled sweep looks characters up in a fake Nexon Open API (the fixtures of
// ../shared/fixtures/nexon), values them with the engine, stores a baseline snapshot, and when the gear
// changes writes the new snapshot and a valuation.changed event in one batch, delivered to the watch's
// webhook. Unknown characters and upstream 429s are reported, and a 429 stops the sweep with a WARNING.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, relayUntilQuiet, eventually } from '../lib/outbox.mjs';

const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'nexon');
const GOLDEN = join(ROOT, 'engine', 'api', 'tests', 'golden');
const evan = readFileSync(join(FIXTURES, 'evan_equip.json'), 'utf8');
const mechanic = readFileSync(join(FIXTURES, 'mechanic_equip.json'), 'utf8');
const equippedTotal = (golden) =>
  JSON.parse(readFileSync(join(GOLDEN, golden), 'utf8')).sets.find((s) => s.set === 'equipped').summary.mean_mesos;

/** A minimal fake of the two upstream paths the sweep calls; `state` is changed by the tests. */
async function startFakeUpstream(state) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://upstream');
    state.calls.push(`${url.pathname}?${url.searchParams}`);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.headers['x-nxopen-api-key'] !== 'e2e-key') return send(401, { error: { name: 'OPENAPI00005', message: 'invalid key' } });
    if (state.rateLimited) return send(429, { error: { name: 'OPENAPI00007', message: 'too many requests' } }, { 'retry-after': '60' });
    if (url.pathname === '/maplestory/v1/id') {
      const ocid = state.ocids[url.searchParams.get('character_name')];
      return ocid ? send(200, { ocid }) : send(400, { error: { name: 'OPENAPI00004', message: 'Please input valid parameter' } });
    }
    if (url.pathname === '/maplestory/v1/character/item-equipment') {
      const equipment = state.equipment[url.searchParams.get('ocid')];
      return equipment ? send(200, equipment) : send(400, { error: { name: 'OPENAPI00004', message: 'Please input valid parameter' } });
    }
    send(404, { error: { name: 'OPENAPI00003', message: 'no such path' } });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const state = { calls: [], rateLimited: false, ocids: { Evanwatch: 'ocid-evan' }, equipment: { 'ocid-evan': evan } };
let upstream;
let sink;
let stack;
let admin;
before(async () => {
  upstream = await startFakeUpstream(state);
  sink = await startSink();
  stack = await startStack({
    vars: outboxVars(sink, { UPSTREAM_BASE_URL: upstream.url, WATCH_SWEEP_INTERVAL_S: '0', WATCH_SWEEP_BATCH: '5' }),
  });
  admin = adminClient(stack);
});
after(async () => {
  await stack?.stop();
  await sink?.close();
  await upstream?.close();
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

let watch;

test('sweep: the first valuation of a watched character is a baseline snapshot, with no event', async () => {
  watch = await newWatch('Evanwatch', '/hooks/evan');
  const report = await admin.sweep();
  assert.deepEqual(report, { characters: 1, changed: 0, unchanged: 0, baseline: 1, errors: [], stopped_by: null }, JSON.stringify(report));
  assert.deepEqual(state.calls, ['/maplestory/v1/id?character_name=Evanwatch', '/maplestory/v1/character/item-equipment?ocid=ocid-evan']);
  const body = await getWatch(watch);
  assert.equal(body.last_snapshot.version, 1);
  assert.equal(body.last_snapshot.total_mean_cost, equippedTotal('valuation_evan.json'), 'the engine total of the equipped set (golden file)');
  assert.equal(body.last_check_error, null);
  await relayUntilQuiet(admin);
  assert.deepEqual((await sink.records('/hooks/evan')).map((r) => r.json.event_type), ['watch.created']);
});

test('sweep: the same gear again is unchanged (no snapshot, no event)', async () => {
  const report = await admin.sweep();
  assert.equal(report.unchanged, 1, JSON.stringify(report));
  assert.equal((await getWatch(watch)).last_snapshot.version, 1);
});

test('sweep: changed gear → a new snapshot and a valuation.changed event, delivered with old/new totals and item changes', async () => {
  state.equipment['ocid-evan'] = mechanic; // the character re-geared
  const report = await admin.sweep();
  assert.equal(report.changed, 1, JSON.stringify(report));
  const body = await getWatch(watch);
  assert.equal(body.last_snapshot.version, 2);
  const note = await eventually(async () => (await sink.records('/hooks/evan')).find((r) => r.json.event_type === 'valuation.changed'), Boolean);
  assert.equal(note.headers['idempotency-key'], note.json.event_id);
  assert.equal(note.json.watch_id, watch.id);
  assert.equal(note.json.character, 'Evanwatch');
  const d = note.json.data;
  assert.equal(d.old_total, equippedTotal('valuation_evan.json'));
  assert.equal(d.new_total, equippedTotal('valuation_mechanic.json'));
  assert.equal(d.delta, d.new_total - d.old_total);
  assert.deepEqual([d.previous_snapshot_version, d.snapshot_version], [1, 2]);
  assert.ok(d.changes.length > 0 && d.changes.length === d.changes_total, JSON.stringify(d).slice(0, 500));
  for (const c of d.changes) {
    assert.equal(typeof c.slot, 'string');
    assert.ok(c.old === null || typeof c.old.name === 'string');
    if (c.old?.mean_cost != null && c.new?.mean_cost != null) assert.equal(c.delta, c.new.mean_cost - c.old.mean_cost);
    if (c.old && c.new && (c.old.mean_cost === null || c.new.mean_cost === null)) assert.equal(c.delta, null, 'no made-up delta');
  }
});

test('sweep: an unknown character is reported per watch and does not stop the others', async () => {
  const ghost = await newWatch('Ghost', '/hooks/ghost');
  state.calls = [];
  const report = await admin.sweep();
  assert.deepEqual(report.errors.map((e) => [e.character, e.code]), [['Ghost', 'character_not_found']], JSON.stringify(report));
  assert.equal(report.characters, 2);
  assert.equal(report.stopped_by, null);
  assert.equal((await getWatch(ghost)).last_check_error, 'character_not_found');
});

test('sweep: an upstream 429 stops the sweep and raises the rate-limit WARNING through the outbox', async () => {
  state.rateLimited = true;
  state.calls = [];
  const report = await admin.sweep();
  state.rateLimited = false;
  assert.equal(report.stopped_by, 'upstream_rate_limited', JSON.stringify(report));
  assert.equal(report.characters, 1, 'no further upstream call after the 429');
  assert.equal(state.calls.length, 1);
  await relayUntilQuiet(admin);
  const alert = (await sink.records('/alerts')).find((r) => r.json?.embeds?.[0]?.title === '[WARNING] Upstream rate limit exhausted');
  assert.ok(alert, 'the WARNING reached ALERT_WEBHOOK_URL');
  assert.equal(alert.json.embeds[0].fields.find((f) => f.name === 'runbook').value, 'RUNBOOK.md#upstream-rate-limit-exhausted');
});

test('the cron trigger sweeps and relays: gear changed back → the next valuation.changed is delivered', async () => {
  state.equipment['ocid-evan'] = evan;
  const cron = await fetch(`${stack.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(cron.status, 200);
  const notes = await eventually(
    async () => (await sink.records('/hooks/evan')).filter((r) => r.json.event_type === 'valuation.changed' && r.action === 'ok'),
    (ns) => ns.length === 2,
  );
  assert.equal(notes[1].json.data.snapshot_version, 3);
  assert.equal(notes[1].json.data.new_total, equippedTotal('valuation_evan.json'));
  assert.equal(notes[1].json.data.old_total, equippedTotal('valuation_mechanic.json'));
});
