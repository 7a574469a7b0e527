// Issue 7, test 3: stalled-event recovery. A relay that stalls past its lease (the sink hangs longer than
// the lease) or dies mid-lease (wrangler is killed) does not lose the event: once the lease expires another
// relay claims and delivers it, and the late relay's settlement is refused by the lease-token fence.
// The stack runs with a lease (1.5 s) SHORTER than the delivery timeout (8 s) on purpose: that is how a
// relay stuck mid-delivery looks to the others. (In production the lease must exceed the timeout.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, eventually, relayUntilQuiet, recordsOf } from '../lib/outbox.mjs';

const LEASE_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let sink;
let stack;
const vars = () => outboxVars(sink, { OUTBOX_LEASE_MS: String(LEASE_MS), OUTBOX_DELIVERY_TIMEOUT_MS: '8000' });
before(async () => {
  sink = await startSink();
  stack = await startStack({ vars: vars(), keepState: true });
});
after(async () => {
  await stack?.stop();
  await sink?.close();
  if (stack?.stateDir) rmSync(stack.stateDir, { recursive: true, force: true });
});

test('3a: a relay stalled past its lease is overtaken; its late completion is fenced out; order holds', async () => {
  const admin = adminClient(stack);
  const path = '/hooks/stall';
  const { events } = await admin.bulk({ webhook_url: `${sink.url}${path}`, aggregates: 1, events_per_aggregate: 2 });
  const [first, second] = events;
  // The first delivery is answered 200 only after 4 s: long after the 1.5 s lease.
  await sink.script(path, ['delay:4000']);

  const late = admin.relay(); // relay A: claims `first`, then waits on the sink
  await eventually(() => sink.records(path), (rs) => rs.length === 1);
  await sleep(LEASE_MS + 200);
  const overtaking = await admin.relay(); // relay B: the lease expired, so it claims `first` again
  assert.equal(overtaking.delivered, 2, JSON.stringify(overtaking));
  assert.equal(overtaking.fenced_out, 0);

  const stalled = await late;
  assert.equal(stalled.claimed, 1, JSON.stringify(stalled));
  assert.equal(stalled.fenced_out, 1, 'the late relay got its 200 but may not mark the event: the fence refused it');
  assert.equal(stalled.delivered, 0);

  const records = await sink.records(path);
  const a = recordsOf(records, first.event_id);
  const b = recordsOf(records, second.event_id);
  assert.equal(a.length, 2, 'delivered twice (at least once), both with the same Idempotency-Key');
  assert.deepEqual(a.map((r) => r.headers['idempotency-key']), [first.event_id, first.event_id]);
  assert.equal(b.length, 1);
  assert.ok(b[0].seq > a[1].seq, 'the second event of the aggregate went out after the first was delivered');

  const { outbox } = await admin.stats();
  assert.equal(outbox.pending + outbox.leased + outbox.leased_expired, 0);
  assert.equal((await admin.deadLetters()).length, 0);
});

test('3b: a relay killed mid-lease (wrangler restarted) — the event is delivered after the lease expires', async () => {
  let admin = adminClient(stack);
  const path = '/hooks/killed';
  const { events: [ev] } = await admin.bulk({ webhook_url: `${sink.url}${path}`, aggregates: 1, events_per_aggregate: 1 });
  await sink.script(path, ['hang']);
  const doomed = admin.relay().then(() => 'answered', () => 'connection lost');
  await eventually(() => sink.records(path), (rs) => rs.length === 1);

  // Kill the runtime in the middle of the delivery, keep its state, start it again.
  const stateDir = stack.stateDir;
  await stack.stop();
  assert.equal(await doomed, 'connection lost');
  stack = await startStack({ vars: vars(), stateDir });
  admin = adminClient(stack);

  // The event is still leased by the dead relay until the lease expires; then a relay delivers it.
  await sleep(LEASE_MS + 200);
  await relayUntilQuiet(admin);
  const records = recordsOf(await sink.records(path), ev.event_id);
  assert.equal(records.length, 2);
  assert.equal(records[0].action, 'hang');
  assert.equal(records[1].action, 'ok');
  assert.deepEqual(records.map((r) => r.headers['idempotency-key']), [ev.event_id, ev.event_id]);
  const { outbox } = await admin.stats();
  assert.equal(outbox.pending + outbox.leased + outbox.leased_expired, 0);
});
