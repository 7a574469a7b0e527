// Paging for CRITICAL alerts (issue 17, item 4) against the webhook sink: CRITICAL goes to the chat webhook
// and to PAGER_WEBHOOK_URL as a PagerDuty Events API v2 event, through the outbox, with the chat message's
// dedup window; WARNING goes to chat only; INFO to neither; a resolution sends `resolve` with the same
// dedup_key. And the circuit breaker opening raises its alert from production code (issue 12, item 7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, relayUntilQuiet, eventually } from '../lib/outbox.mjs';

const ROUTING_KEY = 'e2e-routing-key-0123456789abcdef';

let sink;
let stack;
let admin;
before(async () => {
  sink = await startSink();
  stack = await startStack({
    vars: outboxVars(sink, {
      PAGER_WEBHOOK_URL: `${sink.url}/pager`,
      PAGER_ROUTING_KEY: ROUTING_KEY,
      // The upstream (the discard port) refuses every connection: two failed loads open the breaker.
      BREAKER_FAILURES: '2', UPSTREAM_MAX_RETRIES: '0', REQUEST_DEADLINE_MS: '5000',
    }),
  });
  admin = adminClient(stack);
});
after(async () => {
  await stack?.stop();
  await sink?.close();
});

const delivered = async (path) => (await sink.records(path)).filter((r) => r.action === 'ok' && !r.aborted);
const pagesFor = async (key) => (await delivered('/pager')).filter((r) => r.json.dedup_key === key);
const chatFor = async (key) => (await delivered('/alerts'))
  .filter((r) => r.json.embeds?.[0]?.fields?.find((f) => f.name === 'alert key')?.value === key);

test('one CRITICAL: one page and one chat message; repeats in the window: no new page; resolution: resolve', async () => {
  const key = 'outbox.content_hash_mismatch';
  const first = await admin.alert({ kind: 'content_hash_mismatch', what_happened: 'evt_e2e was tampered with' });
  assert.equal(first.outcome, 'enqueued');
  assert.match(first.page_event_id, /^evt_/);
  await relayUntilQuiet(admin);

  let pages = await pagesFor(key);
  assert.equal(pages.length, 1, JSON.stringify(await sink.records('/pager')));
  const page = pages[0];
  assert.equal(page.headers['idempotency-key'], first.page_event_id);
  assert.equal(page.json.routing_key, ROUTING_KEY);
  assert.equal(page.json.event_action, 'trigger');
  assert.equal(page.json.dedup_key, key);
  assert.equal(page.json.payload.severity, 'critical');
  assert.equal(page.json.payload.source, 'pve');
  assert.match(page.json.payload.summary, /^\[CRITICAL\] Outbox content hash mismatch: evt_e2e was tampered with$/);
  assert.ok(!Number.isNaN(Date.parse(page.json.payload.timestamp)));
  assert.deepEqual(page.json.links, [{ href: 'RUNBOOK.md#outbox-content-hash-mismatch', text: 'Runbook' }]);
  let chat = await chatFor(key);
  assert.equal(chat.length, 1);
  assert.equal(chat[0].headers['idempotency-key'], first.event_id);
  assert.match(chat[0].json.embeds[0].title, /^\[CRITICAL\]/);

  // Repeats within the window are counted: no page, no chat message.
  assert.deepEqual(await admin.alert({ kind: 'content_hash_mismatch', what_happened: 'again' }), { outcome: 'counted', count_in_window: 2 });
  assert.deepEqual(await admin.alert({ kind: 'content_hash_mismatch', what_happened: 'again' }), { outcome: 'counted', count_in_window: 3 });
  await relayUntilQuiet(admin);
  assert.equal((await pagesFor(key)).length, 1);
  assert.equal((await chatFor(key)).length, 1);

  // Resolution: a resolve page with the same dedup_key, after the trigger, and a chat message.
  const resolved = await admin.call('POST', `/v1/admin/alerts/${key}/resolve`);
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal(resolved.json.outcome, 'resolved');
  assert.equal(resolved.json.severity, 'CRITICAL');
  await relayUntilQuiet(admin);
  pages = await pagesFor(key);
  assert.deepEqual(pages.map((p) => p.json.event_action), ['trigger', 'resolve']);
  assert.equal(pages[1].headers['idempotency-key'], resolved.json.page_event_id);
  assert.equal(pages[1].json.routing_key, ROUTING_KEY);
  chat = await chatFor(key);
  assert.deepEqual(chat.map((c) => c.json.embeds[0].title), ['[CRITICAL] Outbox content hash mismatch', '[RESOLVED] Outbox content hash mismatch']);

  // Resolving again sends nothing; the next raise opens a new window and pages again.
  const again = await admin.call('POST', `/v1/admin/alerts/${key}/resolve`);
  assert.equal(again.json.outcome, 'already_resolved');
  const reraised = await admin.alert({ kind: 'content_hash_mismatch', what_happened: 'a new one' });
  assert.equal(reraised.outcome, 'enqueued');
  await relayUntilQuiet(admin);
  assert.deepEqual((await pagesFor(key)).map((p) => p.json.event_action), ['trigger', 'resolve', 'trigger']);
  const { alerts } = await admin.stats();
  const row = alerts.find((a) => a.alert_key === key);
  assert.equal(row.total_count, 4);
  assert.equal(row.resolved_at, null);

  const unknown = await admin.call('POST', '/v1/admin/alerts/no.such.alert/resolve');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'alert_not_found');
  const anonymous = await fetch(`${stack.url}/v1/admin/alerts/${key}/resolve`, { method: 'POST' });
  assert.equal(anonymous.status, 401);
});

test('WARNING goes to chat only, INFO to neither', async () => {
  const warning = await admin.alert({ kind: 'outbox_backlog', what_happened: 'backlog in e2e' });
  assert.equal(warning.outcome, 'enqueued');
  assert.equal(warning.page_event_id, undefined);
  assert.deepEqual(await admin.alert({ kind: 'watch_sweep_degraded', what_happened: 'info in e2e' }), { outcome: 'logged' });
  await relayUntilQuiet(admin);
  assert.equal((await chatFor('outbox.backlog')).length, 1);
  assert.equal((await pagesFor('outbox.backlog')).length, 0);
  assert.equal((await chatFor('watches.sweep_degraded')).length, 0);
  assert.equal((await pagesFor('watches.sweep_degraded')).length, 0);
  // A resolved WARNING: a chat message, no page.
  const resolved = await admin.call('POST', '/v1/admin/alerts/outbox.backlog/resolve');
  assert.equal(resolved.json.outcome, 'resolved');
  assert.equal(resolved.json.page_event_id, undefined);
  await relayUntilQuiet(admin);
  assert.equal((await chatFor('outbox.backlog')).length, 2);
  assert.equal((await pagesFor('outbox.backlog')).length, 0);
});

test('the circuit breaker opening raises upstream.circuit_open (production code, no test route)', async () => {
  // Every load fails (connection refused); the second consecutive failure opens the breaker.
  for (const name of ['breaker1', 'breaker2', 'breaker3']) {
    const r = await fetch(`${stack.url}/v1/characters/${name}/equipment`);
    assert.equal(r.status, 503);
  }
  const row = await eventually(() => admin.stats(), (s) => s.alerts.some((a) => a.alert_key === 'upstream.circuit_open'));
  const circuit = row.alerts.find((a) => a.alert_key === 'upstream.circuit_open');
  assert.equal(circuit.severity, 'WARNING');
  assert.equal(circuit.total_count, 1, 'one opening, one raise');
  await relayUntilQuiet(admin);
  const chat = await chatFor('upstream.circuit_open');
  assert.equal(chat.length, 1);
  assert.equal(chat[0].json.embeds[0].title, '[WARNING] Upstream circuit open');
  assert.match(chat[0].json.embeds[0].description, /opened after 2 consecutive failures/);
  assert.equal((await pagesFor('upstream.circuit_open')).length, 0, 'a WARNING does not page');
});
