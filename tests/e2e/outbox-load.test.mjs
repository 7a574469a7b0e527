// Issue 7, test 1: 2,000 events against a sink that fails 30% of deliveries (25% HTTP 500, 5% connection
// reset) and hangs on 5% (past the relay's delivery timeout). Relay runs are triggered by the test, several
// at once, until nothing is pending. Then: zero lost (every event delivered or dead-lettered), every
// duplicate delivery carries the same Idempotency-Key, and per-aggregate order holds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, relayUntilQuiet } from '../lib/outbox.mjs';

const AGGREGATES = 200;
const PER_AGGREGATE = 10;
const PATH = '/hooks/load';

let sink;
let stack;
let admin;
before(async () => {
  sink = await startSink();
  stack = await startStack({
    vars: outboxVars(sink, {
      OUTBOX_DELIVERY_TIMEOUT_MS: '1000',
      OUTBOX_LEASE_MS: '5000',
      OUTBOX_BACKOFF_BASE_MS: '50',
      OUTBOX_BACKOFF_CAP_MS: '1000',
      OUTBOX_MAX_ATTEMPTS: '8',
      OUTBOX_BATCH_SIZE: '10',
      OUTBOX_RELAY_BUDGET_MS: '10000',
      OUTBOX_BACKLOG_ALERT_THRESHOLD: '1000',
    }),
  });
  admin = adminClient(stack);
});
after(async () => {
  await stack?.stop();
  await sink?.close();
});

test('1: 2,000 events, 30% failures + 5% timeouts: zero lost, same Idempotency-Key on duplicates, order per aggregate', async () => {
  await sink.configure({ fail500: 0.25, reset: 0.05, hang: 0.05, pathPrefix: PATH, seed: 20261121 });
  const { events } = await admin.bulk({ webhook_url: `${sink.url}${PATH}`, aggregates: AGGREGATES, events_per_aggregate: PER_AGGREGATE });
  assert.equal(events.length, AGGREGATES * PER_AGGREGATE);

  // The cron trigger first: it sees the backlog (2,000 > 1,000) and raises a WARNING, then relays.
  const cron = await fetch(`${stack.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(cron.status, 200);
  const { reports, rounds, stats } = await relayUntilQuiet(admin, { parallel: 4, deadlineMs: 150_000 });
  const sum = (k) => reports.reduce((n, r) => n + r[k], 0);
  console.log(`relay: ${rounds} rounds, ${sum('claimed')} claims of events, ${sum('delivered')} delivered, ` +
    `${sum('retried')} retried, ${sum('dead_lettered')} dead-lettered, ${sum('fenced_out')} fenced out`);
  assert.equal(stats.outbox.pending + stats.outbox.leased + stats.outbox.leased_expired, 0);
  assert.equal(sum('fenced_out'), 0, 'leases (5 s) outlive the delivery timeout (1 s): no relay loses one');

  const records = await sink.records(PATH);
  const byEvent = new Map(events.map((e) => [e.event_id, e]));
  const ok = new Map(); // event id → the first record answered 200
  for (const r of records) {
    // Every delivery of an event, duplicates included, carries the event id as its Idempotency-Key.
    assert.ok(byEvent.has(r.json?.event_id), `unknown delivery ${r.body.slice(0, 200)}`);
    assert.equal(r.headers['idempotency-key'], r.json.event_id);
    if (r.action === 'ok' && !ok.has(r.json.event_id)) ok.set(r.json.event_id, r);
  }
  const duplicates = records.length - new Set(records.map((r) => r.json.event_id)).size;
  const failures = records.filter((r) => r.action !== 'ok').length;
  console.log(`sink: ${records.length} deliveries for ${events.length} events (${duplicates} repeats, ${failures} injected failures, ` +
    `${records.filter((r) => r.action === 'hang').length} hangs)`);
  assert.ok(duplicates > 0 && failures > 0, 'the faults were exercised');

  // Zero lost: each event either reached the sink with a 200 or is in the dead-letter table, not both.
  const dead = new Map((await admin.deadLetters()).filter((d) => byEvent.has(d.event_id)).map((d) => [d.event_id, d]));
  for (const e of events) {
    assert.ok(ok.has(e.event_id) !== dead.has(e.event_id), `event ${e.event_id}: delivered=${ok.has(e.event_id)} dead=${dead.has(e.event_id)}`);
  }
  for (const d of dead.values()) {
    assert.equal(d.reason, 'max_attempts_exceeded');
    assert.equal(d.attempts, 8);
    assert.equal(d.history.length, 8, JSON.stringify(d.history));
    console.log(`dead letter ${d.event_id}: ${d.history.map((h) => h.error).join(' | ')}`);
  }
  console.log(`outcome: ${ok.size} delivered, ${dead.size} dead-lettered`);

  // Order per aggregate: an attempt at event n comes after event k < n was answered 200 or, if k was
  // dead-lettered, after k's last attempt. (Arrival order at the sink = `seq`.)
  const eventOf = new Map(events.map((e) => [`${e.watch_id}/${e.n}`, e.event_id]));
  const firstOkSeq = new Map([...ok].map(([id, r]) => [id, r.seq]));
  const lastSeq = new Map();
  for (const r of records) lastSeq.set(r.json.event_id, Math.max(lastSeq.get(r.json.event_id) ?? 0, r.seq));
  for (const r of records) {
    for (let k = 0; k < r.json.n; k++) {
      const earlier = eventOf.get(`${r.json.watch_id}/${k}`);
      const doneAt = dead.has(earlier) ? (lastSeq.get(earlier) ?? 0) : firstOkSeq.get(earlier);
      assert.ok(doneAt !== undefined && doneAt < r.seq,
        `watch ${r.json.watch_id}: event ${r.json.n} attempted (seq ${r.seq}) before event ${k} was done (${doneAt})`);
    }
  }

  const backlog = (await sink.records('/alerts')).find((m) => m.json?.embeds?.[0]?.title === '[WARNING] Outbox backlog over threshold');
  assert.ok(backlog, 'the backlog WARNING was sent');
  assert.equal(backlog.json.embeds[0].fields.find((f) => f.name === 'undelivered_events').value, String(events.length));
});
