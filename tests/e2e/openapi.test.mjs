// GET /openapi.json is the document generated from the code (`cargo run -q -p pve-openapi`: the route
// table of pve-edge, pve-api's JSON Schemas, the error codes; scripts/test.sh checks the committed copy
// regenerates byte for byte), and the running Worker agrees with it: every documented operation answers
// with a documented status and error code, errors provoked on purpose carry codes the document lists for
// that status, and every path refuses undeclared methods with the documented Allow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';

const TEXT = readFileSync(join(ROOT, 'worker/src/openapi.json'), 'utf8');
const SPEC = JSON.parse(TEXT);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = () => Object.entries(SPEC.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })));
const ENGINE_OPS = ['starforce', 'potential', 'flame', 'valuation'];

test('the document is OpenAPI 3.1 and self-consistent: refs resolve, codes are declared, ids unique', () => {
  assert.equal(SPEC.openapi, '3.1.0');
  const refs = [...TEXT.matchAll(/"\$ref": "#\/components\/(schemas|headers)\/([^"]+)"/g)];
  assert.ok(refs.length > 50, `${refs.length} refs`);
  for (const [, kind, name] of refs) assert.ok(SPEC.components[kind][name], `unresolved ${kind}/${name}`);
  const declared = new Set(SPEC.components.schemas.ErrorCode.enum);
  for (const code of ['malformed_json', 'method_not_allowed', 'invalid_character_name', 'invalid_cursor']) {
    assert.ok(declared.has(code), code);
  }
  const ids = operations().map(({ op }) => op.operationId);
  assert.equal(new Set(ids).size, ids.length);
  for (const { path, method, op } of operations()) {
    assert.ok(op.responses['405'], `${method} ${path}: 405 is not documented`);
    for (const [status, resp] of Object.entries(op.responses)) {
      for (const c of resp['x-error-codes'] ?? []) assert.ok(declared.has(c), `${method} ${path} ${status}: ${c}`);
      const error = resp.content?.['application/json']?.schema?.$ref === '#/components/schemas/Error';
      if (error) assert.ok(resp['x-error-codes']?.length, `${method} ${path} ${status}: no codes`);
    }
  }
  for (const op of ENGINE_OPS) {
    const post = SPEC.paths[`/v1/${op}`]?.post;
    assert.ok(post, `POST /v1/${op} is not documented`);
    const ref = post.requestBody.content['application/json'].schema.$ref;
    assert.ok(SPEC.components.schemas[ref.split('/').at(-1)].anyOf || SPEC.components.schemas[ref.split('/').at(-1)].required, ref);
  }
  // No schema name carries a disambiguation suffix (two Rust types with one name).
  assert.deepEqual(Object.keys(SPEC.components.schemas).filter((n) => /\d$/.test(n)), []);
});

test('a created watch links to reading and deleting it with the returned id and token', () => {
  const links = SPEC.paths['/v1/watches'].post.responses['201'].links;
  for (const [name, target] of [['GetWatch', 'getWatch'], ['DeleteWatch', 'deleteWatch']]) {
    assert.equal(links[name].operationId, target);
    assert.equal(links[name].parameters['path.id'], '$response.body#/id');
    assert.equal(links[name].parameters['header.X-Watch-Token'], '$response.body#/token');
  }
});

let fake;
let stack;
before(async () => {
  fake = await startFakeUpstream();
  stack = await startStack({ vars: { UPSTREAM_BASE_URL: fake.url } });
});
after(async () => {
  await stack?.stop();
  await fake?.stop();
});

test('GET /openapi.json serves the generated document byte for byte', async () => {
  const r = await fetch(`${stack.url}/openapi.json`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  assert.equal(await r.text(), TEXT);
});

/** Asserts that `r` (already read as `text`) is a status and code the document lists for the operation. */
function documented(path, method, r, text, code) {
  const op = SPEC.paths[path][method];
  const where = `${method.toUpperCase()} ${path} -> ${r.status} ${text.slice(0, 200)}`;
  assert.ok(op.responses[String(r.status)], `undocumented status: ${where}`);
  if (code) assert.equal(JSON.parse(text).error.code, code, where);
  if (r.status >= 400) {
    assert.ok((op.responses[String(r.status)]['x-error-codes'] ?? []).includes(JSON.parse(text).error.code), `undocumented code: ${where}`);
  }
}

test('errors provoked on purpose carry a status and code the document lists for that operation', async () => {
  const admin = { authorization: 'Bearer e2e-admin-token' };
  const cases = [
    ['/v1/characters/{name}/equipment', 'get', '/v1/characters/a/equipment', {}, 'invalid_character_name'],
    ['/v1/characters/{name}/equipment', 'get', '/v1/characters/abcdefghijklm/equipment', {}, 'invalid_character_name'],
    ['/v1/characters/{name}/valuation', 'get', '/v1/characters/spec1/valuation?preset=4', {}, 'invalid_query'],
    ['/v1/characters/{name}/valuation', 'get', '/v1/characters/spec1/valuation?nope=1', {}, 'invalid_query'],
    ['/v1/starforce', 'post', '/v1/starforce', { body: '{' }, 'malformed_json'],
    ['/v1/starforce', 'post', '/v1/starforce', { body: '{"item_level":200,"from_star":0}' }, 'missing_field'],
    ['/v1/starforce', 'post', '/v1/starforce', { body: '{"item_level":200,"from_star":5,"to_star":3}' }, 'invalid_combination'],
    ['/v1/starforce', 'post', '/v1/starforce', { body: '{"item_level":200,"from_star":0,"to_star":22,"x":1}' }, 'unknown_field'],
    ['/v1/potential', 'post', '/v1/potential', { body: '{"cube":"nope","part":"무기","level":200,"grade":"레어","goal":{"lines":{"att_pct":1}}}' }, 'unknown_variant'],
    ['/v1/flame', 'post', '/v1/flame', { body: '{"flame":"eternal"}' }, 'missing_field'],
    ['/v1/valuation', 'post', '/v1/valuation', { body: '{"item_equipment":[]}' }, 'missing_field'],
    ['/v1/valuation', 'post', '/v1/valuation', { body: '{"equipment":{},"extra":1}' }, 'unknown_field'],
    ['/v1/watches', 'post', '/v1/watches', { body: '{"character":"spec1","webhook_url":"https://example.com/h"}' }, 'idempotency_key_required'],
    ['/v1/watches', 'post', '/v1/watches', { body: '{"character":"a","webhook_url":"https://example.com/h"}', headers: { 'idempotency-key': 'k-openapi-1' } }, 'invalid_character_name'],
    ['/v1/watches', 'post', '/v1/watches', { body: '{"character":"spec1","webhook_url":"http://10.0.0.1/h"}', headers: { 'idempotency-key': 'k-openapi-2' } }, 'invalid_webhook_url'],
    ['/v1/watches/{id}', 'get', '/v1/watches/wch_nope', { headers: { 'x-watch-token': `wtk_${'0'.repeat(64)}` } }, 'watch_not_found'],
    ['/v1/watches/{id}', 'get', '/v1/watches/wch_nope', { headers: { 'x-watch-token': 'wtk_nope' } }, 'invalid_watch_token'],
    ['/v1/watches/{id}', 'get', '/v1/watches/wch_nope', {}, 'watch_token_required'],
    ['/v1/watches/{id}', 'delete', '/v1/watches/wch_nope', { headers: { 'x-watch-token': 'wtk_nope' } }, null],
    ['/metrics', 'get', '/metrics', {}, 'unauthorized'],
    ['/v1/admin/outbox/stats', 'get', '/v1/admin/outbox/stats', {}, 'unauthorized'],
    ['/v1/admin/outbox/dead-letters', 'get', '/v1/admin/outbox/dead-letters?cursor=zzz', { headers: admin }, 'invalid_cursor'],
    ['/v1/admin/outbox/dead-letters', 'get', '/v1/admin/outbox/dead-letters?limit=0', { headers: admin }, 'invalid_query'],
    ['/v1/admin/outbox/dead-letters/{event_id}', 'delete', '/v1/admin/outbox/dead-letters/evt_nope', { headers: admin }, 'dead_letter_not_found'],
    ['/v1/admin/outbox/dead-letters/{event_id}/replay', 'post', '/v1/admin/outbox/dead-letters/evt_nope/replay', { headers: admin }, 'dead_letter_not_found'],
  ];
  for (const [path, method, url, { body, headers = {} }, code] of cases) {
    const r = await fetch(stack.url + url, { method: method.toUpperCase(), headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await r.text();
    assert.ok(r.status >= 400, `${url}: ${r.status}`);
    documented(path, method, r, text, code);
  }
});

test('each documented operation answers with a documented status and error code', async () => {
  for (const { path, method, op } of operations()) {
    const url = stack.url + path.replace('{name}', 'spec1').replace('{id}', 'wch_nope').replace('{event_id}', 'evt_nope');
    const auth = (op.security ?? []).some((s) => s.bearer) ? { authorization: 'Bearer e2e-admin-token' } : {};
    const r = await fetch(url, { method: method.toUpperCase(), headers: auth, body: method === 'post' ? '{}' : undefined });
    const text = await r.text();
    const where = `${method.toUpperCase()} ${path} -> ${r.status} ${text.slice(0, 200)}`;
    assert.ok(op.responses[String(r.status)], `undocumented status: ${where}`);
    if (r.status >= 400 && r.headers.get('content-type')?.includes('json')) {
      const codes = op.responses[String(r.status)]['x-error-codes'] ?? [];
      assert.ok(codes.includes(JSON.parse(text).error.code), `undocumented code: ${where}`);
    }
    const wrong = await fetch(url, { method: 'PATCH', headers: auth });
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 405, `${path}: PATCH`);
    assert.ok(op.responses['405'], `${method.toUpperCase()} ${path}: 405 is not documented`);
  }
});

/** The Allow header a documented path must send: its methods, HEAD when it has GET, then OPTIONS. */
const allowOf = (path) => {
  const declared = METHODS.filter((m) => SPEC.paths[path][m]).map((m) => m.toUpperCase());
  return [...declared, ...(declared.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
};
const concrete = (path) => path.replace('{name}', 'spec1').replace('{id}', 'wch_nope').replace('{event_id}', 'evt_nope');

test('a method a path does not declare, even one HTTP does not define, is 405 with Allow', async () => {
  for (const path of Object.keys(SPEC.paths)) {
    for (const method of ['QUERY', 'PROPFIND', 'PUT', 'REPORT']) {
      const r = await fetch(stack.url + concrete(path), { method });
      const text = await r.text();
      assert.equal(r.status, 405, `${method} ${path} -> ${r.status} ${text.slice(0, 200)}`);
      assert.equal(r.headers.get('allow'), allowOf(path), `${method} ${path}`);
      assert.equal(JSON.parse(text).error.code, 'method_not_allowed');
    }
  }
});

test('OPTIONS answers 204 with Allow; HEAD answers as GET without a body', async () => {
  for (const path of Object.keys(SPEC.paths)) {
    const r = await fetch(stack.url + concrete(path), { method: 'OPTIONS' });
    await r.arrayBuffer();
    assert.equal(r.status, 204, `OPTIONS ${path}`);
    assert.equal(r.headers.get('allow'), allowOf(path), `OPTIONS ${path}`);
  }
  for (const path of ['/healthz', '/openapi.json', '/metrics', '/v1/watches/{id}', '/v1/admin/outbox/stats']) {
    const auth = path.includes('admin') ? { authorization: 'Bearer e2e-admin-token' } : {};
    const get = await fetch(stack.url + concrete(path), { headers: auth });
    await get.arrayBuffer();
    const head = await fetch(stack.url + concrete(path), { method: 'HEAD', headers: auth });
    const body = await head.arrayBuffer();
    assert.equal(head.status, get.status, `HEAD ${path}`);
    assert.equal(body.byteLength, 0, `HEAD ${path}`);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), `HEAD ${path}`);
  }
  const relay = await fetch(`${stack.url}/v1/admin/outbox/relay`, { method: 'HEAD' });
  await relay.arrayBuffer();
  assert.equal(relay.status, 405);
  assert.equal(relay.headers.get('allow'), 'POST, OPTIONS');
});
