// The transactional outbox and watches on the real local stack (wrangler dev --local, D1) with a local
// webhook sink: content-hash tampering (issue 7, test 2), poison events and replay (4), idempotent watch
// creation (5), snapshot+event atomicity (6), admin auth (7), plus alerts, watches and webhook URL rules.
// The 2,000-event fault run (1) is in outbox-load.test.mjs, the expired lease (3) in outbox-lease.test.mjs,
// the sweep against a fake upstream in outbox-watch.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startStack, toolEnv, ROOT } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, relayUntilQuiet, eventually, recordsOf } from '../lib/outbox.mjs';

let sink;
let stack;
let admin;
before(async () => {
  sink = await startSink();
  stack = await startStack({ vars: outboxVars(sink, { OUTBOX_MAX_ATTEMPTS: '4' }) });
  admin = adminClient(stack);
});
after(async () => {
  await stack?.stop();
  await sink?.close();
});

const createWatch = (body, key, headers = {}) =>
  fetch(`${stack.url}/v1/watches`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function newWatch(character, path) {
  const r = await createWatch({ character, webhook_url: `${sink.url}${path}` }, `key-${path}`);
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

/** Runs `sql` against the local D1 from outside the Worker, as an operator (or an attacker) would. */
function d1(sql) {
  const r = spawnSync('wrangler', ['d1', 'execute', 'DB', '--local', '--persist-to', stack.stateDir, '--json', '--command', sql], {
    cwd: ROOT, env: toolEnv(), encoding: 'utf8', input: '',
  });
  assert.equal(r.status, 0, `wrangler d1 execute failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout)[0].results;
}

const alertMessages = async () => (await sink.records('/alerts')).filter((r) => r.action === 'ok' && !r.aborted);

test('2: a payload edited in D1 after insert is dead-lettered as content_hash_mismatch, never delivered, CRITICAL alert', async () => {
  const { events: [ev] } = await admin.bulk({ webhook_url: `${sink.url}/hooks/tamper`, aggregates: 1, events_per_aggregate: 1 });
  const forged = JSON.stringify({ event_id: ev.event_id, event_type: 'test.event', watch_id: ev.watch_id, n: 999, forged: true });
  d1(`UPDATE outbox SET payload = '${forged}' WHERE event_id = '${ev.event_id}'`);
  assert.equal(d1(`SELECT payload FROM outbox WHERE event_id = '${ev.event_id}'`)[0].payload, forged);

  const { reports } = await relayUntilQuiet(admin);
  assert.equal(reports.reduce((n, r) => n + r.content_hash_mismatches, 0), 1, JSON.stringify(reports));
  assert.deepEqual(await sink.records('/hooks/tamper'), [], 'a tampered event must never reach its webhook');

  const dead = (await admin.deadLetters()).find((d) => d.event_id === ev.event_id);
  assert.ok(dead, 'the tampered event is in the dead-letter table');
  assert.equal(dead.reason, 'content_hash_mismatch');
  assert.equal(dead.payload, forged, 'the dead letter keeps the payload as found');
  assert.equal(dead.history.at(-1).error.includes('content hash'), true, JSON.stringify(dead.history));

  // The CRITICAL alert went through the outbox to ALERT_WEBHOOK_URL as a Discord-compatible message.
  const alert = (await alertMessages()).find((m) => m.json.embeds?.[0]?.title.includes('content hash mismatch'));
  assert.ok(alert, JSON.stringify(await sink.records('/alerts')));
  const embed = alert.json.embeds[0];
  assert.match(embed.title, /^\[CRITICAL\]/);
  assert.equal(embed.fields.find((f) => f.name === 'severity').value, 'CRITICAL');
  assert.match(embed.description, new RegExp(ev.event_id));
  assert.equal(embed.fields.find((f) => f.name === 'runbook').value, 'RUNBOOK.md#outbox-content-hash-mismatch');
  assert.equal(typeof alert.json.content, 'string');
  assert.equal(alert.headers['idempotency-key'].startsWith('evt_'), true);

  // A hash-mismatched dead letter cannot be replayed.
  const replay = await admin.replay(ev.event_id);
  assert.equal(replay.status, 409);
  assert.equal(replay.json.error.code, 'content_hash_mismatch');
});

test('4: a poison event (sink always 400) is dead-lettered with a WARNING; replay after the fix delivers it once', async () => {
  await sink.script('/hooks/poison', ['400', '400', '400']);
  const { events: [ev] } = await admin.bulk({ webhook_url: `${sink.url}/hooks/poison`, aggregates: 1, events_per_aggregate: 1 });
  await relayUntilQuiet(admin);
  let records = recordsOf(await sink.records('/hooks/poison'), ev.event_id);
  assert.equal(records.length, 1, 'a 400 is not retried');
  const dead = (await admin.deadLetters()).find((d) => d.event_id === ev.event_id);
  assert.equal(dead?.reason, 'non_retryable_status', JSON.stringify(dead));
  assert.equal(dead.last_error, 'HTTP 400');
  assert.equal(dead.attempts, 1);
  const warning = (await alertMessages()).find((m) => m.json.embeds[0].title === '[WARNING] Outbox event dead-lettered');
  assert.ok(warning, 'a WARNING alert for the dead letter');
  assert.equal(warning.json.embeds[0].fields.find((f) => f.name === 'alert key').value, 'outbox.dead_lettered.non_retryable_status');

  // The sink is fixed (script exhausted: it answers 200 now); replay re-enqueues the same event id.
  await sink.reset();
  const replay = await admin.replay(ev.event_id);
  assert.equal(replay.status, 200, replay.text);
  assert.equal(replay.json.event_id, ev.event_id);
  assert.equal(replay.json.status, 'pending');
  await relayUntilQuiet(admin);
  records = recordsOf(await sink.records('/hooks/poison'), ev.event_id);
  assert.equal(records.length, 1, 'delivered exactly once after replay');
  assert.equal(records[0].action, 'ok');
  assert.equal(records[0].headers['idempotency-key'], ev.event_id, 'same event id, same Idempotency-Key');
  assert.equal(records[0].json.n, 0, 'the original payload');

  // Replayed: no longer listed by default, listed with include_replayed; a second replay is refused.
  assert.equal((await admin.deadLetters()).some((d) => d.event_id === ev.event_id), false);
  const all = await admin.deadLetterPage('?include_replayed=true&limit=200');
  const replayed = all.items.find((d) => d.event_id === ev.event_id);
  assert.equal(replayed.status, 'replayed');
  assert.equal(replayed.replay_count, 1);
  const again = await admin.replay(ev.event_id);
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'dead_letter_already_replayed');
});

test('dead letters: cursor paging, delete, 404 for unknown ids, retries exhausted → max_attempts_exceeded', async () => {
  await sink.configure({ fail500: 1, pathPrefix: '/hooks/always500' });
  const { events } = await admin.bulk({ webhook_url: `${sink.url}/hooks/always500`, aggregates: 3, events_per_aggregate: 1 });
  await relayUntilQuiet(admin);
  for (const ev of events) {
    assert.equal(recordsOf(await sink.records('/hooks/always500'), ev.event_id).length, 4, 'one POST per attempt');
  }
  await sink.reset();
  const all = await admin.deadLetters();
  const mine = all.filter((d) => events.some((e) => e.event_id === d.event_id));
  assert.equal(mine.length, 3);
  for (const d of mine) {
    assert.equal(d.reason, 'max_attempts_exceeded');
    assert.equal(d.attempts, 4, 'OUTBOX_MAX_ATTEMPTS = 4');
    assert.equal(d.history.length, 4, JSON.stringify(d.history));
    assert.match(d.last_error, /HTTP 500/);
  }
  // Paging one at a time visits every dead letter exactly once.
  const seen = [];
  let cursor = null;
  for (let i = 0; i < 100; i++) {
    const page = await admin.deadLetterPage(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.items.map((d) => d.event_id));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, all.map((d) => d.event_id));
  assert.equal(new Set(seen).size, seen.length);
  const badCursor = await admin.call('GET', '/v1/admin/outbox/dead-letters?cursor=nope');
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.json.error.code, 'invalid_cursor');
  const badLimit = await admin.call('GET', '/v1/admin/outbox/dead-letters?limit=0');
  assert.equal(badLimit.json.error.code, 'invalid_query');

  const del = await admin.deleteDeadLetter(mine[0].event_id);
  assert.equal(del.status, 200);
  assert.deepEqual(del.json, { event_id: mine[0].event_id, deleted: true });
  assert.equal((await admin.deadLetters()).some((d) => d.event_id === mine[0].event_id), false);
  for (const r of [await admin.deleteDeadLetter(mine[0].event_id), await admin.replay('evt_nope')]) {
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'dead_letter_not_found');
  }
});

test('5: idempotent create — same key twice → one watch, one event; concurrent repeats too; different body → 409', async () => {
  const body = { character: '아델', webhook_url: `${sink.url}/hooks/idem` };
  const first = await createWatch(body, 'idem-1');
  assert.equal(first.status, 201);
  const created = await first.json();
  assert.match(created.id, /^wch_[0-9a-f]{32}$/);
  assert.match(created.token, /^wtk_[0-9a-f]{64}$/);
  assert.equal(created.character, '아델');
  assert.equal(created.status, 'active');

  const repeats = await Promise.all(Array.from({ length: 10 }, () => createWatch(body, 'idem-1')));
  for (const r of repeats) {
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await r.json(), created, 'the same answer, byte for byte the same watch and token');
  }
  // Concurrent first requests with a fresh key also make one watch.
  const racing = await Promise.all(Array.from({ length: 8 }, () => createWatch({ ...body, character: 'Racer' }, 'idem-race')));
  const ids = new Set(await Promise.all(racing.map(async (r) => { assert.equal(r.status, 201); return (await r.json()).id; })));
  assert.equal(ids.size, 1, 'racing requests with one key create one watch');

  await relayUntilQuiet(admin);
  const records = await sink.records('/hooks/idem');
  const createdEvents = records.filter((r) => r.json?.event_type === 'watch.created' && r.json.watch_id === created.id);
  assert.equal(createdEvents.length, 1, 'one watch.created event');
  assert.equal(createdEvents[0].headers['idempotency-key'], createdEvents[0].json.event_id);
  const raceEvents = records.filter((r) => r.json?.event_type === 'watch.created' && ids.has(r.json.watch_id));
  assert.equal(raceEvents.length, 1);

  const conflict = await createWatch({ ...body, character: 'Other' }, 'idem-1');
  assert.equal(conflict.status, 409);
  assert.equal((await conflict.json()).error.code, 'idempotency_key_reused');
  const missing = await createWatch(body, null);
  assert.equal(missing.status, 400);
  assert.equal((await missing.json()).error.code, 'idempotency_key_required');
  const badKey = await createWatch(body, 'has space');
  assert.equal((await badKey.json()).error.code, 'invalid_idempotency_key');
});

test('watches: create validation (webhook URL rules, character, JSON)', async () => {
  const cases = [
    [{ character: 'Ok', webhook_url: 'http://example.com/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://10.0.0.5/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://192.168.1.1/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://172.16.3.4/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://169.254.169.254/latest/meta-data' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://[fe80::1]/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://[fd00::1]/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://[::ffff:10.0.0.1]/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://100.64.0.1/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://0.0.0.0/hook' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://metadata.google.internal/x' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://printer.local/x' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://intranet/x' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'https://user:pw@example.com/x' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'ftp://example.com/x' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: 'not a url' }, 'invalid_webhook_url'],
    [{ character: 'Ok', webhook_url: `https://example.com/${'a'.repeat(2100)}` }, 'invalid_webhook_url'],
    [{ character: '', webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    [{ character: 'a'.repeat(33), webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    [{ character: 'bad name', webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    [{ character: '<script>', webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    [{ character: 'a', webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    [{ character: '가나다라마바사', webhook_url: 'https://example.com/x' }, 'invalid_character_name'],
    ['{"character":"Ok",', 'malformed_json'],
    [{ character: 'Ok' }, 'missing_field'],
    [{ character: 'Ok', webhook_url: 'https://example.com/x', extra: 1 }, 'unknown_field'],
    [{ character: 1, webhook_url: 'https://example.com/x' }, 'invalid_type'],
  ];
  let i = 0;
  for (const [body, code] of cases) {
    const r = await createWatch(body, `validation-${i++}`);
    const json = await r.json();
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(json)}`);
    assert.equal(json.error.code, code, JSON.stringify(body).slice(0, 80));
  }
  const ok = await createWatch({ character: 'Public', webhook_url: 'https://hooks.example.com/x' }, 'validation-ok');
  assert.equal(ok.status, 201, 'a public https URL is accepted');
});

test('watches: GET and DELETE need the token; delete dead-letters undelivered events as watch_deleted', async () => {
  const w = await newWatch('Getter', '/hooks/getter');
  const get = (token, id = w.id, headers = {}) =>
    fetch(`${stack.url}/v1/watches/${id}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  let r = await get(null);
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'watch_token_required');
  r = await get('wtk_wrong');
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error.code, 'invalid_watch_token');
  r = await get(w.token, 'wch_unknown');
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, 'watch_not_found');
  r = await get(null, w.id, { 'x-watch-token': w.token });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.deepEqual(
    { id: body.id, character: body.character, webhook_url: body.webhook_url, status: body.status, last_snapshot: body.last_snapshot },
    { id: w.id, character: 'Getter', webhook_url: `${sink.url}/hooks/getter`, status: 'active', last_snapshot: null },
  );
  assert.equal(body.token, undefined, 'the token is never shown again');

  // An undelivered event (the sink keeps failing) is moved to the dead letters when the watch is deleted.
  await relayUntilQuiet(admin);
  await sink.configure({ fail500: 1, pathPrefix: '/hooks/getter' });
  await admin.valuation({ character: 'Getter', summary: { total_mean_cost: 1, items: [] } });
  await admin.valuation({ character: 'Getter', summary: { total_mean_cost: 2, items: [] } });
  // The relay started after that write fails once and leaves the event pending (in backoff).
  await eventually(
    () => d1(`SELECT status, attempts FROM outbox WHERE aggregate_id = '${w.id}' AND event_type = 'valuation.changed'`),
    (rows) => rows.length === 1 && rows[0].status === 'pending' && rows[0].attempts >= 1,
  );
  const del = await fetch(`${stack.url}/v1/watches/${w.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${w.token}` } });
  assert.equal(del.status, 200);
  const deleted = await del.json();
  assert.equal(deleted.status, 'deleted');
  assert.equal(deleted.undelivered_events_dead_lettered, 1);
  await sink.reset();
  await relayUntilQuiet(admin);
  const dead = (await admin.deadLetters()).filter((d) => d.aggregate_id === w.id);
  assert.equal(dead.length, 1);
  assert.equal(dead[0].reason, 'watch_deleted');
  assert.equal(dead[0].event_type, 'valuation.changed');
  assert.equal((await get(w.token)).status, 404);
  const put = await fetch(`${stack.url}/v1/watches/${w.id}`, { method: 'PUT' });
  assert.equal(put.status, 405);
});

test('6: atomicity — a batch whose second statement fails leaves neither the snapshot nor the event', async () => {
  const w = await newWatch('Atomic', '/hooks/atomic');
  await relayUntilQuiet(admin);
  const createdEvent = (await sink.records('/hooks/atomic')).find((r) => r.json?.watch_id === w.id);
  assert.ok(createdEvent);
  const summary = (total, hat) => ({ total_mean_cost: total, items: [{ slot: '모자', name: hat, mean_cost: total / 2 }, { slot: '장갑', name: 'Gloves', mean_cost: total / 2 }] });

  const baseline = await admin.valuation({ character: 'Atomic', summary: summary(100, 'Hat A') });
  assert.deepEqual(baseline, { outcome: 'baseline', version: 1 });
  const unchanged = await admin.valuation({ character: 'Atomic', summary: summary(100, 'Hat A') });
  assert.deepEqual(unchanged, { outcome: 'unchanged', version: 1 });

  // The new snapshot is statement 1; the event, statement 2, reuses an existing event id and fails.
  const failed = await admin.valuation({ character: 'Atomic', summary: summary(250, 'Hat B'), collide_with_event_id: createdEvent.json.event_id });
  assert.equal(failed.outcome, 'batch_failed', JSON.stringify(failed));
  assert.deepEqual(d1("SELECT version FROM valuation_snapshots WHERE character = 'Atomic' ORDER BY version"), [{ version: 1 }], 'no snapshot without its event');
  assert.deepEqual(d1(`SELECT count(*) AS n FROM outbox WHERE aggregate_id = '${w.id}' AND event_type = 'valuation.changed'`), [{ n: 0 }], 'no event without its snapshot');

  // The same change without the fault: snapshot 2 and its event, delivered with old/new totals and item changes.
  const changed = await admin.valuation({ character: 'Atomic', summary: summary(250, 'Hat B') });
  assert.equal(changed.outcome, 'changed');
  assert.equal(changed.version, 2);
  assert.equal(changed.event_ids.length, 1);
  await relayUntilQuiet(admin);
  const note = (await sink.records('/hooks/atomic')).find((r) => r.json?.event_type === 'valuation.changed');
  assert.equal(note.json.event_id, changed.event_ids[0]);
  assert.equal(note.headers['idempotency-key'], changed.event_ids[0]);
  assert.equal(note.json.watch_id, w.id);
  assert.equal(note.json.character, 'Atomic');
  assert.deepEqual(
    { old: note.json.data.old_total, new: note.json.data.new_total, delta: note.json.data.delta, prev: note.json.data.previous_snapshot_version, v: note.json.data.snapshot_version },
    { old: 100, new: 250, delta: 150, prev: 1, v: 2 },
  );
  assert.deepEqual(note.json.data.changes, [
    { slot: '모자', old: { name: 'Hat A', mean_cost: 50 }, new: { name: 'Hat B', mean_cost: 125 }, delta: 75 },
    { slot: '장갑', old: { name: 'Gloves', mean_cost: 50 }, new: { name: 'Gloves', mean_cost: 125 }, delta: 75 },
  ]);
  assert.equal(note.json.data.changes_truncated, false);
  const r = await fetch(`${stack.url}/v1/watches/${w.id}`, { headers: { authorization: `Bearer ${w.token}` } });
  assert.equal((await r.json()).last_snapshot.version, 2);

  const bad = await admin.call('POST', '/v1/admin/test/valuation', { character: 'Atomic', summary: { total_mean_cost: 1, items: [{ slot: 'a', name: 'x', mean_cost: 1 }, { slot: 'a', name: 'y', mean_cost: 1 }] } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'invalid_valuation_summary');
  const unwatched = await admin.valuation({ character: 'Nobody', summary: summary(1, 'x') });
  assert.deepEqual(unwatched, { outcome: 'not_watched' });
});

test('a large valuation change is bounded: trailing item changes are dropped and marked', async () => {
  const w = await newWatch('Bigchange', '/hooks/big');
  const items = (cost) => Array.from({ length: 400 }, (_, i) => ({ slot: `slot-${String(i).padStart(3, '0')}`, name: `Item ${'x'.repeat(40)} ${i}`, mean_cost: cost + i }));
  await admin.valuation({ character: 'Bigchange', summary: { total_mean_cost: 1, items: items(1) } });
  const changed = await admin.valuation({ character: 'Bigchange', summary: { total_mean_cost: 2, items: items(2) } });
  assert.equal(changed.outcome, 'changed');
  await relayUntilQuiet(admin);
  const note = (await sink.records('/hooks/big')).find((r) => r.json?.event_type === 'valuation.changed' && r.json.watch_id === w.id);
  assert.ok(Buffer.byteLength(note.body) <= 16384, `body of ${Buffer.byteLength(note.body)} bytes`);
  assert.equal(note.json.data.changes_total, 400);
  assert.equal(note.json.data.changes_truncated, true);
  assert.ok(note.json.data.changes.length > 0 && note.json.data.changes.length < 400);
});

test('alerts: the same key within the window is counted, not re-sent; INFO is only logged and counted', async () => {
  const raise = (kind) => admin.alert({ kind, what_happened: `test ${kind}` });
  const first = await raise('upstream_circuit_open');
  assert.equal(first.outcome, 'enqueued');
  const second = await raise('upstream_circuit_open');
  assert.deepEqual(second, { outcome: 'counted', count_in_window: 2 });
  assert.equal((await raise('upstream_rate_limit_exhausted')).outcome, 'enqueued');
  assert.deepEqual(await raise('watch_sweep_degraded'), { outcome: 'logged' });
  await relayUntilQuiet(admin);
  const messages = await alertMessages();
  const circuit = messages.filter((m) => m.json.embeds[0].fields.find((f) => f.name === 'alert key').value === 'upstream.circuit_open');
  assert.equal(circuit.length, 1, 'sent once in the window');
  assert.equal(circuit[0].headers['idempotency-key'], first.event_id);
  assert.equal(circuit[0].json.embeds[0].title, '[WARNING] Upstream circuit open');
  assert.equal(circuit[0].json.embeds[0].fields.find((f) => f.name === 'runbook').value, 'RUNBOOK.md#upstream-circuit-open');
  assert.ok(messages.some((m) => m.json.embeds[0].title === '[WARNING] Upstream rate limit exhausted'));
  assert.ok(!messages.some((m) => m.json.embeds[0].title.includes('sweep')), 'INFO is not sent');
  const { alerts } = await admin.stats();
  const byKey = Object.fromEntries(alerts.map((a) => [a.alert_key, a]));
  assert.equal(byKey['upstream.circuit_open'].total_count, 2);
  assert.equal(byKey['upstream.circuit_open'].severity, 'WARNING');
  assert.equal(byKey['watches.sweep_degraded'].severity, 'INFO');
  const unknown = await admin.call('POST', '/v1/admin/test/alerts', { kind: 'nope', what_happened: 'x' });
  assert.equal(unknown.json.error.code, 'unknown_variant');
});

test('alerts: concurrent raises of one key open its window once; each of the others is counted once (issue 12)', async () => {
  // The rule (pve_edge::alerts::raise) decides on the state a raise read; the write is guarded by that state.
  const key = 'outbox.dead_lettered.concurrency';
  const raise = () => admin.alert({ kind: 'dead_lettered', what_happened: 'concurrent', key_suffix: 'concurrency' });
  const round = async (n) => {
    const answers = await Promise.all(Array.from({ length: n }, raise));
    const enqueued = answers.filter((a) => a.outcome === 'enqueued');
    const counted = answers.filter((a) => a.outcome === 'counted').map((a) => a.count_in_window).sort((a, b) => a - b);
    assert.equal(enqueued.length, 1, JSON.stringify(answers));
    assert.deepEqual(counted, Array.from({ length: n - 1 }, (_, i) => i + 2), 'every count is seen once');
    return enqueued[0];
  };
  await round(12);
  let row = (await admin.stats()).alerts.find((a) => a.alert_key === key);
  assert.equal(row.total_count, 12);
  assert.equal(row.count_in_window, 12);
  // Resolved, the next raises open one new window again.
  const resolved = await admin.call('POST', `/v1/admin/alerts/${key}/resolve`);
  assert.equal(resolved.json.outcome, 'resolved', JSON.stringify(resolved.json));
  const reopened = await round(6);
  row = (await admin.stats()).alerts.find((a) => a.alert_key === key);
  assert.equal(row.total_count, 18);
  assert.equal(row.count_in_window, 6);
  assert.equal(row.last_event_id, reopened.event_id);
  assert.equal(row.resolved_at, null);
});

test('the cron trigger runs the sweep and the relay (the real scheduled handler)', async () => {
  const w = await newWatch('Cronwatch', '/hooks/cron');
  const cron = await fetch(`${stack.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(cron.status, 200);
  await eventually(() => admin.stats(), (s) => s.outbox.pending + s.outbox.leased === 0);
  assert.equal((await sink.records('/hooks/cron')).filter((r) => r.json?.watch_id === w.id).length, 1);
  // This stack's upstream refuses connections: the sweep recorded why it could not refresh.
  const r = await fetch(`${stack.url}/v1/watches/${w.id}`, { headers: { authorization: `Bearer ${w.token}` } });
  const body = await r.json();
  if (body.last_checked_at !== null) assert.equal(body.last_check_error, 'upstream_unavailable');
});

test('7: admin routes reject a missing or wrong token with 401', async () => {
  const routes = [
    ['GET', '/v1/admin/outbox/stats'],
    ['GET', '/v1/admin/outbox/dead-letters'],
    ['POST', '/v1/admin/outbox/dead-letters/evt_x/replay'],
    ['DELETE', '/v1/admin/outbox/dead-letters/evt_x'],
    ['POST', '/v1/admin/outbox/relay'],
    ['POST', '/v1/admin/test/outbox/events'],
    ['POST', '/v1/admin/test/valuation'],
    ['GET', '/v1/admin/anything'],
  ];
  const headerSets = [
    {},
    { authorization: 'Bearer wrong-token' },
    { authorization: 'Bearer e2e-admin-token-but-longer' },
    { authorization: 'Basic e2e-admin-token' },
    { authorization: 'e2e-admin-token' },
  ];
  for (const [method, path] of routes) {
    for (const headers of headerSets) {
      const r = await fetch(stack.url + path, { method, headers });
      const body = await r.json();
      assert.equal(r.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(body.error.code, 'unauthorized');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    }
  }
  const ok = await fetch(`${stack.url}/v1/admin/outbox/stats`, { headers: { authorization: 'Bearer e2e-admin-token' } });
  assert.equal(ok.status, 200);
});

test('without ALLOW_LOOPBACK_WEBHOOKS and ENABLE_TEST_ROUTES (the defaults), loopback webhooks and test routes are refused', async () => {
  const plain = await startStack();
  try {
    const r = await fetch(`${plain.url}/v1/watches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k' },
      body: JSON.stringify({ character: 'Loop', webhook_url: `${sink.url}/hooks/loop` }),
    });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error.code, 'invalid_webhook_url');
    assert.match(body.error.message, /loopback/);
    for (const url of ['https://localhost/x', 'https://127.0.0.1/x', 'https://[::1]/x', 'https://app.localhost/x']) {
      const again = await fetch(`${plain.url}/v1/watches`, {
        method: 'POST', headers: { 'idempotency-key': url }, body: JSON.stringify({ character: 'Loop', webhook_url: url }),
      });
      assert.equal((await again.json()).error.code, 'invalid_webhook_url', url);
    }
    const t = await fetch(`${plain.url}/v1/admin/test/outbox/events`, { method: 'POST', headers: { authorization: 'Bearer e2e-admin-token' }, body: '{}' });
    assert.equal(t.status, 404);
  } finally {
    await plain.stop();
  }
});
