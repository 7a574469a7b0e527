// The tiered cache on the real stack (`wrangler dev --local`) against the fake Nexon Open API: single-flight
// under 1,000 concurrent requests, negative caching, name validation, refresh=true, validators, L1 then L2
// across a restart, the engine's deterministic cache, and the valuation route. Limits are set high here;
// cache-faults.test.mjs and cache-limits.test.mjs cover failures and limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, runCli, CLI } from '../lib/stack.mjs';
import { startFakeUpstream, FIXTURES, withLocalIcons } from '../fake-upstream/server.mjs';
import { many, request, tierOf } from '../lib/load.mjs';

// This file is about coalescing, not deadlines: a loaded 2-core machine serving 1,000 concurrent 230 KB
// answers through `wrangler dev` is slow, so the deadline and the upstream timeout are generous here.
const VARS = {
  REQUEST_DEADLINE_MS: '30000', UPSTREAM_TIMEOUT_MS: '10000',
  UPSTREAM_RATE_PER_SEC: '10000', UPSTREAM_BURST: '10000',
  CLIENT_RATE_PER_SEC: '100000', CLIENT_BURST: '100000',
  REFRESH_PER_MIN: '600000', REFRESH_BURST: '10000',
  // 1,000 refreshes reach the Worker over several seconds here: a copy fetched within a minute serves them.
  REFRESH_WINDOW_S: '60',
};

let fake;
let stack;
let stateDir;
before(async () => {
  fake = await startFakeUpstream();
  stack = await startStack({ vars: { ...VARS, UPSTREAM_BASE_URL: fake.url }, keepState: true });
  stateDir = stack.stateDir;
});
after(async () => {
  await stack?.stop();
  await fake?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const sha = (b) => createHash('sha256').update(b).digest('hex');
const equipmentUrl = (name, query = '') => `${stack.url}/v1/characters/${encodeURIComponent(name)}/equipment${query}`;
const valuationUrl = (name, query = '') => `${stack.url}/v1/characters/${encodeURIComponent(name)}/valuation${query}`;
const tally = (values) => values.reduce((m, v) => ({ ...m, [v]: (m[v] ?? 0) + 1 }), {});

test('1: 1,000 concurrent requests for one cold character: one upstream call per path, 1,000 identical 200s', async (t) => {
  await fake.reset();
  await fake.faults({ latencyMs: 300 }); // the load is in flight while the requests arrive
  const rs = await many(1000, () => equipmentUrl('stampede1'));
  await fake.faults({});
  const calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 1, equipment: 1 }, JSON.stringify(calls));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 1000 });
  assert.equal(new Set(rs.map((r) => sha(r.body))).size, 1, 'every answer has the same bytes');
  const tiers = tally(rs.map((r) => tierOf(r.headers)));
  t.diagnostic(`tiers: ${JSON.stringify(tiers)}`);
  const body = JSON.parse(rs[0].body);
  assert.equal(body.character_name, 'stampede1');
  assert.match(body.ocid, /^[0-9a-f]{32}$/);
  assert.equal(typeof body.engine_version, 'string');
  assert.match(body.data_version, /potential:/);
  assert.match(body.equipment_hash, /^[0-9a-f]{64}$/);
  assert.ok(Array.isArray(body.equipment.item_equipment) && body.equipment.item_equipment.length > 10);
});

test('2: 50 characters x 20 concurrent requests each: 50 upstream calls per path', async () => {
  await fake.reset();
  await fake.faults({ latencyMs: 200 });
  const names = Array.from({ length: 50 }, (_, i) => `fifty${i}`);
  const rs = await many(1000, (i) => equipmentUrl(names[i % 50]));
  await fake.faults({});
  const calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 50, equipment: 50 }, JSON.stringify(calls));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 1000 });
  for (let n = 0; n < 50; n++) {
    const bodies = new Set(rs.filter((_, i) => i % 50 === n).map((r) => sha(r.body)));
    assert.equal(bodies.size, 1, `${names[n]}: one body`);
  }
});

test('5: an unknown character is a 404 character_not_found, and a repeat within the TTL calls nobody', async () => {
  await fake.reset();
  let r = await fetch(equipmentUrl('nobody'));
  let body = await r.json();
  assert.equal(r.status, 404);
  assert.equal(body.error.code, 'character_not_found');
  assert.equal(tierOf(r.headers), 'origin');
  assert.equal((await fake.calls()).id, 1);
  r = await fetch(equipmentUrl('nobody'));
  assert.equal(r.status, 404);
  assert.equal(tierOf(r.headers), 'l1');
  r = await fetch(valuationUrl('nobody'));
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, 'character_not_found');
  const calls = await fake.calls();
  assert.equal(calls.total, 1, JSON.stringify(calls));
  // The upstream may also say "unknown" with a 404.
  await fake.faults({ path: 'id', unknownStatus: 404 });
  r = await fetch(equipmentUrl('ghost'));
  body = await r.json();
  assert.equal(r.status, 404, JSON.stringify(body));
  assert.equal(body.error.code, 'character_not_found');
  await fake.faults({ path: 'id' });
});

test('7: bad names and bad queries are 400 before any upstream call', async () => {
  await fake.reset();
  const names = ['a', 'abcdefghijklm', 'has space', 'a.b', 'a-b', '<script>', '😀ok', 'a/b', '../etc', "x'--",
    '가가가가가가가', 'ab\u0000'];
  for (const name of names) {
    const r = await fetch(equipmentUrl(name));
    const body = await r.json();
    assert.equal(r.status, 400, `${JSON.stringify(name)}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, 'invalid_character_name', JSON.stringify(name));
  }
  for (const raw of ['/v1/characters//equipment', '/v1/characters/%FF%FE/equipment', '/v1/characters/%ZZab/valuation',
    `/v1/characters/${'a'.repeat(300)}/equipment`]) {
    const r = await request(stack.url + raw);
    assert.equal(r.status, 400, raw);
    assert.equal(JSON.parse(r.body).error.code, 'invalid_character_name', raw);
  }
  for (const [url, what] of [[equipmentUrl('query1', '?refresh=maybe'), 'bad refresh'],
    [equipmentUrl('query1', '?preset=1'), 'preset on the equipment route'],
    [equipmentUrl('query1', '?nocache=1'), 'unknown parameter'],
    [valuationUrl('query1', '?preset=4'), 'preset out of range'],
    [valuationUrl('query1', '?preset=1&preset=2'), 'repeated parameter']]) {
    const r = await fetch(url);
    const body = await r.json();
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, 'invalid_query', what);
  }
  const calls = await fake.calls();
  assert.equal(calls.total, 0, JSON.stringify(calls));
});

test('refresh=true: 1,000 concurrent refreshes of a cold character make one upstream call per path', async () => {
  await fake.reset();
  await fake.faults({ path: 'equipment', latencyMs: 500 });
  const rs = await many(1000, () => equipmentUrl('refresh1', '?refresh=true'));
  await fake.faults({ path: 'equipment' });
  const calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 1, equipment: 1 }, JSON.stringify(calls));
  assert.deepEqual(tally(rs.map((r) => r.status)), { 200: 1000 });
  assert.equal(new Set(rs.map((r) => sha(r.body))).size, 1);
  assert.ok(rs.every((r) => /fwd=request/.test(r.headers['cache-status'])), rs[0].headers['cache-status']);
  // cache-faults.test.mjs shows that a refresh skips a fresh copy older than the refresh window.
});

test('ETag, If-None-Match -> 304, Cache-Control, Age', async () => {
  const r = await fetch(equipmentUrl('etag1'));
  assert.equal(r.status, 200);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.match(r.headers.get('cache-control'), /^public, max-age=\d+, stale-while-revalidate=\d+, stale-if-error=\d+$/);
  assert.match(r.headers.get('age'), /^\d+$/);
  await r.arrayBuffer();
  const again = await fetch(equipmentUrl('etag1'), { headers: { 'if-none-match': `"other", ${etag}` } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  assert.equal((await again.arrayBuffer()).byteLength, 0);
  const changed = await fetch(equipmentUrl('etag1'), { headers: { 'if-none-match': '"other"' } });
  assert.equal(changed.status, 200);
  await changed.arrayBuffer();
});

const post = (path, body, headers = {}) =>
  fetch(stack.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

test('POST /v1/starforce is cached by its canonical request: origin, then L1, same bytes as the CLI', async () => {
  const req = { item_level: 160, from_star: 0, to_star: 17 };
  const cli = runCli('starforce', req);
  assert.equal(cli.status, 0, cli.stdout);
  const r1 = await post('/v1/starforce', JSON.stringify(req));
  assert.equal(tierOf(r1.headers), 'origin');
  assert.equal(await r1.text(), cli.stdout);
  const r2 = await post('/v1/starforce', JSON.stringify(req));
  assert.equal(tierOf(r2.headers), 'l1');
  assert.equal(await r2.text(), cli.stdout);
  const reordered = ' { "to_star": 17, "item_level": 160,\n "from_star": 0 } ';
  const r3 = await post('/v1/starforce', reordered);
  assert.equal(tierOf(r3.headers), 'l1', 'the same request in another key order hits the cache');
  assert.equal(await r3.text(), cli.stdout);
  assert.equal(r3.headers.get('etag'), r1.headers.get('etag'));
  const r304 = await post('/v1/starforce', JSON.stringify(req), { 'if-none-match': r1.headers.get('etag') });
  assert.equal(r304.status, 304);
  // A duplicate key has no canonical form: never answered from the cache.
  const dup = await post('/v1/starforce', '{"item_level":160,"from_star":0,"to_star":17,"to_star":17}');
  assert.equal(dup.status, 400, await dup.text());
  const bad = await post('/v1/starforce', '{"item_level":160,"from_star":20,"to_star":17}');
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'invalid_combination');
});

test('6: an L1 hit, then after a restart (L1 gone, KV kept) an L2 hit, for characters and the engine', async () => {
  await fake.reset();
  const engineReq = JSON.stringify({ item_level: 200, from_star: 3, to_star: 19 });
  const r1 = await fetch(equipmentUrl('restart1'));
  assert.equal(tierOf(r1.headers), 'origin');
  const body1 = await r1.text();
  const r2 = await fetch(equipmentUrl('restart1'));
  assert.equal(tierOf(r2.headers), 'l1');
  assert.equal(await r2.text(), body1);
  assert.equal(tierOf((await post('/v1/starforce', engineReq)).headers), 'origin');
  // KV writes of derived values happen after the response (waitUntil): give them a moment.
  await new Promise((r) => setTimeout(r, 500));

  await stack.stop();
  stack = await startStack({ vars: { ...VARS, UPSTREAM_BASE_URL: fake.url }, stateDir });

  const r3 = await fetch(equipmentUrl('restart1'));
  assert.equal(r3.status, 200);
  assert.equal(tierOf(r3.headers), 'l2');
  assert.equal(await r3.text(), body1, 'the same bytes from KV');
  const r4 = await fetch(equipmentUrl('restart1'));
  assert.equal(tierOf(r4.headers), 'l1');
  assert.equal(await r4.text(), body1);
  assert.equal(tierOf((await post('/v1/starforce', engineReq)).headers), 'l2');
  const calls = await fake.calls();
  assert.deepEqual({ id: calls.id, equipment: calls.equipment }, { id: 1, equipment: 1 }, JSON.stringify(calls));
});

/** Whether the CLI has a subcommand (`pve --help` lists it). */
function cliHas(op) {
  const r = spawnSync(CLI, ['--help'], { encoding: 'utf8' });
  return r.status === 0 && new RegExp(`^\\s+${op}\\s`, 'm').test(r.stdout);
}
const VALUATION = cliHas('valuation');

test('8: the valuation route gives the same numbers as `pve valuation` on the same fixture',
  { skip: !VALUATION && 'pve valuation does not exist in this build' },
  async () => {
    for (const [name, file] of [['에반', 'evan_equip.json'], ['메카닉', 'mechanic_equip.json']]) {
      // The fixture as the fake serves it (its item_icon URLs point at the fake: issue 15).
      const served = withLocalIcons(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')), fake.url);
      const cli = runCli('valuation', JSON.stringify(served));
      assert.equal(cli.status, 0, cli.stdout.slice(0, 500));
      const expected = JSON.parse(cli.stdout);
      for (const preset of [undefined, 1, 2, 3]) {
        const query = preset === undefined ? '' : `?preset=${preset}`;
        const r = await fetch(valuationUrl(name, query));
        const text = await r.text();
        assert.equal(r.status, 200, text.slice(0, 500));
        const body = JSON.parse(text);
        assert.ok(text.endsWith(`"valuation":${cli.stdout}}`), `${name}: the CLI's bytes`);
        assert.deepEqual(body.valuation, expected, `${name}: the whole valuation`);
        const set = preset === undefined ? 'equipped' : `preset_${preset}`;
        assert.deepEqual(body.set, expected.sets.find((s) => s.set === set), `${name} ${set}`);
        assert.equal(body.preset, preset ?? null);
        assert.equal(body.engine_version, expected.engine_version);
        const again = await fetch(valuationUrl(name, query));
        assert.equal(tierOf(again.headers), 'l1');
        assert.deepEqual((await again.json()).valuation, expected);
      }
    }
  });

test('POST /v1/valuation takes Nexon\'s answer as is (360 KB): the CLI\'s bytes, then from the cache', { skip: !VALUATION && 'pve valuation does not exist in this build' }, async () => {
  const raw = readFileSync(join(FIXTURES, 'mechanic_equip.json'), 'utf8');
  const cli = runCli('valuation', raw);
  assert.equal(cli.status, 0, cli.stdout.slice(0, 300));
  const r1 = await post('/v1/valuation', raw);
  assert.equal(r1.status, 200);
  assert.equal(await r1.text(), cli.stdout);
  const r2 = await post('/v1/valuation', raw);
  assert.equal(tierOf(r2.headers), 'l1');
  assert.equal(await r2.text(), cli.stdout);
});
