// Cache purge on the real stack (`wrangler dev --local`) against the fake Nexon Open API (issue 17, item 3):
// POST /v1/admin/characters/{name}/purge deletes the character's KV entries, drops them from L1 and raises
// its purge generation, so no tier answers with the purged copy again.
//
// The fake's answer changes (`revise`: the equipment's `date`) before each purge, so an answer tells which
// copy it came from: the old one (cached before the purge) or the new one (loaded after it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startStack } from '../lib/stack.mjs';
import { startFakeUpstream, ocidOf } from '../fake-upstream/server.mjs';
import { many, request, tierOf } from '../lib/load.mjs';
import { adminClient } from '../lib/outbox.mjs';

const VARS = {
  REQUEST_DEADLINE_MS: '30000', UPSTREAM_TIMEOUT_MS: '10000',
  UPSTREAM_RATE_PER_SEC: '10000', UPSTREAM_BURST: '10000',
  CLIENT_RATE_PER_SEC: '100000', CLIENT_BURST: '100000',
};

let fake;
let stack;
let admin;
before(async () => {
  fake = await startFakeUpstream();
  stack = await startStack({ vars: { ...VARS, UPSTREAM_BASE_URL: fake.url } });
  admin = adminClient(stack);
});
after(async () => {
  await stack?.stop();
  await fake?.stop();
});

const sha = (b) => createHash('sha256').update(b).digest('hex');
const equipmentUrl = (name) => `${stack.url}/v1/characters/${encodeURIComponent(name)}/equipment`;
const purge = (name) => admin.call('POST', `/v1/admin/characters/${encodeURIComponent(name)}/purge`);
const tally = (values) => values.reduce((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {});

/**
 * What an equipment answer says about itself: the equipment's `date` (which copy), and whether it is one
 * copy (the raw `equipment` bytes hash to the `equipment_hash` it reports, so the envelope and the payload
 * cannot come from two different copies).
 */
function copyOf(r) {
  const text = r.body.toString('utf8');
  const json = JSON.parse(text);
  const at = text.indexOf('"equipment":');
  const raw = text.slice(at + '"equipment":'.length, text.length - 1);
  return { date: json.equipment.date, hash: json.equipment_hash, consistent: sha(raw) === json.equipment_hash };
}

const upstreamCalls = async (name) => {
  const c = await fake.calls();
  return { id: c.byKey[`id:${name}`] ?? 0, equipment: c.byKey[`equipment:${ocidOf(name)}`] ?? 0 };
};

test('after a purge returns, no answer comes from the purged copy, and the next 300 concurrent requests reach the origin once per path', async () => {
  const name = 'purge1';
  const first = await request(equipmentUrl(name));
  assert.equal(first.status, 200, first.body.toString());
  const old = copyOf(first);
  const hit = await request(equipmentUrl(name));
  assert.equal(tierOf(hit.headers), 'l1');
  assert.equal(copyOf(hit).date, old.date);

  await fake.revise(ocidOf(name)); // the origin's answer changes; the cache still has the old one
  const cached = await request(equipmentUrl(name));
  assert.equal(copyOf(cached).date, old.date, 'before the purge the cached copy answers');
  assert.deepEqual(await upstreamCalls(name), { id: 1, equipment: 1 });

  const purged = await purge(name);
  assert.equal(purged.status, 200, purged.text);
  assert.equal(purged.json.character_name, name);
  assert.equal(purged.json.ocid, ocidOf(name));
  assert.ok(purged.json.generation > purged.json.previous_generation, JSON.stringify(purged.json));
  assert.ok(purged.json.kv_deleted.includes(`v1:ocid:${name}`), JSON.stringify(purged.json));
  assert.ok(purged.json.kv_deleted.includes(`v1:equipment:${ocidOf(name)}`), JSON.stringify(purged.json));
  assert.ok(purged.json.l1_dropped >= 2, JSON.stringify(purged.json));

  await fake.faults({ latencyMs: 300 }); // the reload is in flight while the burst arrives
  const rs = await many(300, () => equipmentUrl(name));
  await fake.faults({});
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 300 });
  const copies = rs.map(copyOf);
  assert.ok(copies.every((c) => c.consistent), 'every answer is one copy');
  assert.deepEqual(tally(copies.map((c) => c.date === old.date ? 'old' : 'new')), { new: 300 });
  assert.equal(new Set(rs.map((r) => sha(r.body))).size, 1, 'every answer has the same bytes');
  assert.deepEqual(await upstreamCalls(name), { id: 2, equipment: 2 }, 'one more upstream call per path');

  // The reloaded copy is cached again: no further upstream call.
  const again = await request(equipmentUrl(name));
  assert.equal(tierOf(again.headers), 'l1');
  assert.notEqual(copyOf(again).date, old.date);
  assert.deepEqual(await upstreamCalls(name), { id: 2, equipment: 2 });
});

test('requests running while a purge runs get the old or the new copy, never a mixture or an error; those after it get the new one', async () => {
  const name = 'purge2';
  const warm = await request(equipmentUrl(name));
  assert.equal(warm.status, 200);
  const old = copyOf(warm);
  await fake.revise(ocidOf(name));
  await fake.faults({ latencyMs: 150 });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  let purgeReturnedAt = Infinity;
  let stopAt = Infinity;
  const seen = [];
  const client = async () => {
    while (performance.now() < stopAt) {
      const startedAt = performance.now();
      const r = await request(equipmentUrl(name), { agent });
      seen.push({ startedAt, status: r.status, copy: r.status === 200 ? copyOf(r) : null, body: r.body.toString() });
    }
  };
  const clients = Array.from({ length: 20 }, client);
  await new Promise((r) => setTimeout(r, 300)); // the clients are running
  const purged = await purge(name);
  purgeReturnedAt = performance.now();
  stopAt = purgeReturnedAt + 1500;
  await Promise.all(clients);
  agent.destroy();
  await fake.faults({});

  assert.equal(purged.status, 200, purged.text);
  const failed = seen.filter((s) => s.status !== 200);
  assert.deepEqual(failed, [], 'no errors');
  assert.ok(seen.every((s) => s.copy.consistent), 'every answer is one copy');
  const label = (s) => (s.copy.date === old.date ? 'old' : 'new');
  const during = tally(seen.filter((s) => s.startedAt < purgeReturnedAt).map(label));
  const afterwards = tally(seen.filter((s) => s.startedAt >= purgeReturnedAt).map(label));
  assert.ok((during.old ?? 0) > 0, `requests before the purge were answered from the cache: ${JSON.stringify(during)}`);
  assert.equal(afterwards.old ?? 0, 0, `after the purge returned: ${JSON.stringify(afterwards)}`);
  assert.ok((afterwards.new ?? 0) > 0, JSON.stringify(afterwards));
  // Only two copies exist: the old and the new one, each with one hash.
  assert.equal(new Set(seen.map((s) => s.copy.hash)).size, 2);
  assert.deepEqual(await upstreamCalls(name), { id: 2, equipment: 2 }, 'the reload reached the origin once per path');
});

test('a purge survives nothing cached, and the route checks its input and its token', async () => {
  const cold = await purge('purge3');
  assert.equal(cold.status, 200, cold.text);
  assert.equal(cold.json.ocid, null);
  assert.deepEqual(cold.json.kv_deleted, ['v1:ocid:purge3']);
  // Two purges in a row: the generation only goes up.
  const twice = await purge('purge3');
  assert.ok(twice.json.generation > cold.json.generation);
  // The character is then loaded normally.
  const r = await request(equipmentUrl('purge3'));
  assert.equal(r.status, 200);

  const bad = await purge('a-b');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'invalid_character_name');
  const anonymous = await fetch(`${stack.url}/v1/admin/characters/purge3/purge`, { method: 'POST' });
  assert.equal(anonymous.status, 401);
  const get = await admin.call('GET', '/v1/admin/characters/purge3/purge');
  assert.equal(get.status, 405);
});
