// The vertical slice on the real local stack: health of every binding, the engine route equal to the
// CLI, the cron trigger, and the error model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, runCli } from '../lib/stack.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const post = (path, body, headers = {}) =>
  fetch(stack.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

test('healthz: engine version, KV round trip, Durable Object, D1 migrations', async () => {
  const r = await fetch(`${stack.url}/healthz`);
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.status, 'ok');
  assert.equal(body.engine_version, JSON.parse(runCli('version', '').stdout).engine_version);
  assert.equal(body.checks.kv.ok, true);
  assert.equal(body.checks.kv.detail.round_trip, true);
  assert.equal(body.checks.durable_object.ok, true);
  assert.equal(body.checks.durable_object.detail.pong, true);
  assert.equal(body.checks.d1.ok, true);
  assert.ok(body.checks.d1.detail.migrations.includes('0001_outbox.sql'), JSON.stringify(body.checks.d1));
  assert.equal(body.checks.d1.detail.outbox_rows, 0);
  assert.ok(r.headers.get('x-request-id'));
});

for (const req of [
  { item_level: 200, from_star: 0, to_star: 22 },
  { item_level: 160, from_star: 12, to_star: 17 },
  { item_level: 250, from_star: 0, to_star: 30 },
  { item_level: 100, from_star: 0, to_star: 8 },
]) {
  test(`POST /v1/starforce equals pve starforce byte for byte: ${JSON.stringify(req)}`, async () => {
    const cli = runCli('starforce', req);
    assert.equal(cli.status, 0, cli.stdout);
    const r = await post('/v1/starforce', JSON.stringify(req));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /application\/json/);
    assert.equal(await r.text(), cli.stdout);
  });
}

test('cron trigger runs the scheduled handler', async () => {
  const r = await fetch(`${stack.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(r.status, 200, await r.text());
  const health = await (await fetch(`${stack.url}/healthz`)).json();
  assert.equal(health.last_cron?.cron, '* * * * *', JSON.stringify(health.last_cron));
});

const bad = [
  ['malformed JSON', '{"item_level": 200,', 'malformed_json'],
  ['not JSON at all', 'hello', 'malformed_json'],
  ['wrong type', '{"item_level":"200","from_star":0,"to_star":22}', 'invalid_type'],
  ['unknown field', '{"item_level":200,"from_star":0,"to_star":22,"stars":1}', 'unknown_field'],
  ['missing field', '{"item_level":200,"from_star":0}', 'missing_field'],
  ['negative level', '{"item_level":-1,"from_star":0,"to_star":22}', 'out_of_range'],
  ['level above 300', '{"item_level":301,"from_star":0,"to_star":5}', 'out_of_range'],
  ['to_star above the level cap', '{"item_level":100,"from_star":0,"to_star":22}', 'out_of_range'],
  ['from above to', '{"item_level":200,"from_star":20,"to_star":10}', 'invalid_combination'],
];
for (const [name, body, code] of bad) {
  test(`400 ${code}: ${name}`, async () => {
    const r = await post('/v1/starforce', body);
    const json = await r.json();
    assert.equal(r.status, 400, JSON.stringify(json));
    assert.equal(json.error.code, code, JSON.stringify(json));
    assert.equal(typeof json.error.message, 'string');
    const cli = runCli('starforce', body);
    assert.equal(cli.status, 2);
    assert.equal(JSON.parse(cli.stdout).error.code, code);
  });
}

test('404 for an unknown route, 405 for a wrong method, 413 for a huge body', async () => {
  let r = await fetch(`${stack.url}/v1/nope`, { method: 'POST', body: '{}' });
  assert.equal(r.status, 404);
  assert.equal((await r.json()).error.code, 'route_not_found');
  r = await fetch(`${stack.url}/v1/starforce`);
  assert.equal(r.status, 405);
  // OPTIONS is answered on every path since issue 14 (HTTP's OPTIONS), so Allow names it too.
  assert.equal(r.headers.get('allow'), 'POST, OPTIONS');
  assert.equal((await r.json()).error.code, 'method_not_allowed');
  r = await post('/v1/starforce', ' '.repeat(70 * 1024));
  assert.equal(r.status, 413);
  assert.equal((await r.json()).error.code, 'payload_too_large');
});

test('every request ends in one structured JSON log line', async () => {
  const r = await post('/v1/starforce', '{"item_level":200,"from_star":0,"to_star":10}', { 'cf-ray': 'e2e-log-probe-1' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'e2e-log-probe-1');
  let lines = [];
  for (let i = 0; i < 40 && lines.length === 0; i++) {
    await new Promise((res) => setTimeout(res, 100));
    lines = stack.logs().split('\n').filter((l) => l.includes('"request_id":"e2e-log-probe-1"'));
  }
  assert.equal(lines.length, 1, stack.logs().slice(-2000));
  const line = JSON.parse(lines[0].slice(lines[0].indexOf('{')));
  assert.equal(line.domain, 'engine');
  assert.equal(line.task, 'starforce');
  assert.equal(line.outcome, 'ok');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.ok(!lines[0].includes('e2e-admin-token') && !lines[0].includes('e2e-key'));
});

test('issue 12: the same bad body gets the same code on /v1/watches and /v1/starforce (one strict parser)', async () => {
  // Truncated after an unknown field: malformed_json on both (it was unknown_field on /v1/watches).
  for (const [body, code] of [['{"x": 1', 'malformed_json'], ['{"x": 1}', 'unknown_field'], ['[]', 'invalid_type']]) {
    const engine = await post('/v1/starforce', body);
    const watches = await post('/v1/watches', body, { 'idempotency-key': `e2e-same-code-${code}` });
    assert.equal(engine.status, 400, body);
    assert.equal(watches.status, 400, body);
    assert.equal((await engine.json()).error.code, code, `/v1/starforce ${body}`);
    assert.equal((await watches.json()).error.code, code, `/v1/watches ${body}`);
  }
});
