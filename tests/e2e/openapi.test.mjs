// GET /openapi.json describes every route and every error code, and stays in sync with the code: the route
// table (worker/src/lib.rs), the engine operations (pve-api), the error codes (worker/src/error.rs and
// engine/api/src/error.rs), and what the running Worker actually answers for each documented operation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';

const read = (path) => readFileSync(join(ROOT, path), 'utf8');
const SPEC = JSON.parse(read('worker/src/openapi.json'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The text of the function whose signature starts with `signature` (up to its closing brace at 4 spaces). */
function fnBody(src, signature) {
  const i = src.indexOf(signature);
  assert.ok(i >= 0, `${signature} not found`);
  return src.slice(i, src.indexOf('\n    }\n', i));
}
const literalsAfterArrows = (text) => [...text.matchAll(/=> "([a-z_.]+)"/g)].map((m) => m[1]);

/**
 * The arms of a route table, as patterns: `["v1", "characters", name, "equipment"] =>` becomes
 * ['v1', 'characters', '*', 'equipment']; `["v1", "admin", rest @ ..]` ends in '**' (any rest). Arms
 * guarded by ENABLE_TEST_ROUTES (dev and tests only) are not part of the API.
 */
function armsOf(path, fnStart, fnEnd) {
  const src = read(path);
  const body = src.slice(src.indexOf(fnStart), src.indexOf(fnEnd, src.indexOf(fnStart) + 1));
  return [...body.matchAll(/^\s*\[([^\]]*)\]\s*(if [^\n]*)?=>/gm)]
    .filter((m) => !(m[2] ?? '').includes('ENABLE_TEST_ROUTES'))
    .map((m) => m[1].split(',').map((x) => x.trim()).map((x) => {
      if (x.startsWith('"')) return x.slice(1, -1);
      return x.endsWith('..') ? '**' : '*';
    }));
}
/** Every route: the Worker's table, with the admin router's arms under /v1/admin. */
function routeArms() {
  const top = armsOf('worker/src/lib.rs', 'async fn route(', '\nfn only(');
  const admin = armsOf('worker/src/routes/admin.rs', 'pub async fn route(', '\nfn authorize(');
  return top.flatMap((arm) => (arm.join('/') === 'v1/admin/**' ? admin.map((a) => ['v1', 'admin', ...a]) : [arm]));
}
const segments = (path) => path.split('/').filter(Boolean);
const matches = (arm, path) => {
  const segs = segments(path);
  if (arm.at(-1) === '**') return segs.length >= arm.length - 1 && matches(arm.slice(0, -1), segs.slice(0, arm.length - 1).join('/'));
  return segs.length === arm.length && arm.every((a, i) => a === '*' || (a === segs[i] && !segs[i].startsWith('{')));
};
const operations = () => Object.entries(SPEC.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })));

test('every route arm is documented, and every documented path has a route arm', () => {
  const arms = routeArms();
  assert.ok(arms.length >= 6, JSON.stringify(arms));
  for (const arm of arms) {
    assert.ok(Object.keys(SPEC.paths).some((p) => matches(arm, p)), `route /${arm.join('/')} is not in openapi.json`);
  }
  for (const path of Object.keys(SPEC.paths)) {
    assert.ok(arms.some((arm) => matches(arm, path)), `${path} is documented but not routed`);
  }
});

test('every engine operation is documented as POST /v1/<op>', () => {
  const ops = literalsAfterArrows(fnBody(read('engine/api/src/lib.rs'), 'pub fn as_str(self)'));
  assert.ok(ops.includes('starforce'), JSON.stringify(ops));
  for (const op of ops) assert.ok(SPEC.paths[`/v1/${op}`]?.post, `POST /v1/${op} is not documented`);
});

test('the ErrorCode enum is exactly the codes the Worker and the engine schema can send', () => {
  const edge = literalsAfterArrows(fnBody(read('edge/src/error.rs'), 'pub fn code(&self)'));
  const api = literalsAfterArrows(fnBody(read('engine/api/src/error.rs'), 'pub fn as_str(self)'));
  const code = new Set([...edge, ...api]);
  const documented = new Set(SPEC.components.schemas.ErrorCode.enum);
  assert.deepEqual([...documented].filter((c) => !code.has(c)), [], 'documented but never sent');
  assert.deepEqual([...code].filter((c) => !documented.has(c)), [], 'sent but not documented');
  for (const { path, method, op } of operations()) {
    for (const [status, resp] of Object.entries(op.responses)) {
      for (const c of resp['x-error-codes'] ?? []) {
        assert.ok(documented.has(c), `${method.toUpperCase()} ${path} ${status}: unknown code ${c}`);
      }
    }
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

test('GET /openapi.json serves the checked-in document, OpenAPI 3.1', async () => {
  const r = await fetch(`${stack.url}/openapi.json`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  const served = await r.json();
  assert.deepEqual(served, SPEC);
  assert.equal(served.openapi, '3.1.0');
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
