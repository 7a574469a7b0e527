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

/** The route table's arms: `["v1", "characters", name, "equipment"] =>` becomes ['v1', 'characters', '*', 'equipment']. */
function routeArms() {
  const src = read('worker/src/lib.rs');
  const body = src.slice(src.indexOf('async fn route('), src.indexOf('\nfn only('));
  return [...body.matchAll(/^\s*\[([^\]]*)\]\s*=>/gm)].map((m) =>
    m[1].split(',').map((s) => s.trim()).map((s) => (s.startsWith('"') ? s.slice(1, -1) : '*')));
}
const segments = (path) => path.split('/').filter(Boolean);
const matches = (arm, path) => {
  const segs = segments(path);
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
  const edge = literalsAfterArrows(fnBody(read('worker/src/error.rs'), 'pub fn code(&self)'));
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
    const url = stack.url + path.replace('{name}', 'spec1');
    const r = await fetch(url, method === 'post' ? { method: 'POST', body: '{}' } : {});
    const text = await r.text();
    const where = `${method.toUpperCase()} ${path} -> ${r.status} ${text.slice(0, 200)}`;
    assert.ok(op.responses[String(r.status)], `undocumented status: ${where}`);
    if (r.status >= 400 && r.headers.get('content-type')?.includes('json')) {
      const codes = op.responses[String(r.status)]['x-error-codes'] ?? [];
      assert.ok(codes.includes(JSON.parse(text).error.code), `undocumented code: ${where}`);
    }
    const wrong = await fetch(url, { method: method === 'get' ? 'DELETE' : 'GET' });
    await wrong.arrayBuffer();
    assert.equal(wrong.status, 405, `${path}: wrong method`);
    assert.ok(op.responses['405'], `${method.toUpperCase()} ${path}: 405 is not documented`);
  }
});
