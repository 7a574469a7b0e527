// /metrics on the real stack: protected by a bearer token, valid Prometheus text format (parsed by an
// independent parser), and counters that move as traffic is driven.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';

// The reference parser (Python prometheus_client), independent of our renderer.
function parsePrometheus(text) {
  const r = spawnSync('python3', [join(ROOT, 'tests', 'lib', 'promparse.py')], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `reference parser rejected /metrics:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

let stack;
before(async () => { stack = await startStack({ vars: { METRICS_SCRAPE_TOKEN: 'e2e-scrape-token' } }); });
after(async () => { await stack?.stop(); });

async function scrape(token = 'e2e-admin-token') {
  const r = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { text, families: parsePrometheus(text) };
}

// The value of the sample `sampleName` (default: the family name) whose labels include `labels`; 0 if absent.
function sample(families, family, labels, sampleName = family) {
  const fam = families.find((f) => f.name === family);
  assert.ok(fam, `family ${family} missing`);
  const m = fam.samples.find((x) => x.name === sampleName && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return m ? Number(m.value) : 0;
}
const counter = (families, name, labels) => sample(families, name.replace(/_total$/, ''), labels, name);

test('/metrics rejects missing and wrong tokens with 401', async () => {
  let r = await fetch(`${stack.url}/metrics`);
  assert.equal(r.status, 401);
  assert.equal((await r.json()).error.code, 'unauthorized');
  r = await fetch(`${stack.url}/metrics`, { headers: { authorization: 'Bearer wrong' } });
  assert.equal(r.status, 401);
  r = await fetch(`${stack.url}/metrics`, { headers: { authorization: 'Bearer e2e-scrape-token' } });
  assert.equal(r.status, 200);
});

test('every family is declared with HELP and TYPE and parses', async () => {
  const { families } = await scrape();
  const names = families.map((f) => f.name);
  // The reference parser names counter families without their _total suffix.
  for (const n of ['pve_http_requests', 'pve_http_request_duration_seconds', 'pve_cache_answers',
    'pve_upstream_requests', 'pve_engine_compute_seconds', 'pve_outbox_events']) {
    assert.ok(names.includes(n), `${n} not in ${names}`);
  }
  for (const f of families) assert.ok(f.help && f.type !== 'unknown', JSON.stringify(f));
});

test('counters and histograms move with traffic', async () => {
  const before = (await scrape()).families;
  const ok0 = counter(before, 'pve_http_requests_total', { route: 'starforce', status: '200' });
  const bad0 = counter(before, 'pve_http_requests_total', { route: 'starforce', status: '400' });
  const N = 7;
  for (let i = 0; i < N; i++) {
    const r = await fetch(`${stack.url}/v1/starforce`, { method: 'POST', body: JSON.stringify({ item_level: 200, from_star: 0, to_star: 10 + i }) });
    assert.equal(r.status, 200);
  }
  const bad = await fetch(`${stack.url}/v1/starforce`, { method: 'POST', body: '{' });
  assert.equal(bad.status, 400);
  const after = (await scrape()).families;
  assert.equal(counter(after, 'pve_http_requests_total', { route: 'starforce', status: '200' }) - ok0, N);
  assert.equal(counter(after, 'pve_http_requests_total', { route: 'starforce', status: '400' }) - bad0, 1);
  const h = 'pve_http_request_duration_seconds';
  const count = sample(after, h, { route: 'starforce' }, `${h}_count`);
  assert.ok(count - sample(before, h, { route: 'starforce' }, `${h}_count`) === N + 1);
  assert.equal(sample(after, h, { route: 'starforce', le: '+Inf' }, `${h}_bucket`), count);
  const e = 'pve_engine_compute_seconds';
  assert.ok(sample(after, e, { op: 'starforce' }, `${e}_count`) - sample(before, e, { op: 'starforce' }, `${e}_count`) === N);
});

test('ops/ uses only metric names the service exposes, and every runbook link has an entry', async () => {
  const { readFileSync } = await import('node:fs');
  const { text } = await scrape();
  const declared = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const ops = ['ops/prometheus-alerts.yml', 'ops/grafana-dashboard.json'].map((f) => readFileSync(join(ROOT, f), 'utf8'));
  const used = new Set(ops.flatMap((t) => [...t.matchAll(/\bpve_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))));
  assert.ok(used.size >= 10, [...used].join(' '));
  for (const name of used) assert.ok(declared.has(name), `ops/ uses ${name}, which /metrics does not declare`);

  const runbook = readFileSync(join(ROOT, 'RUNBOOK.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));
  const linked = [...ops[0].matchAll(/RUNBOOK\.md#([a-z0-9-]+)/g)].map((m) => m[1]);
  // The alert kinds and their runbook anchors live in pve-edge (issue 12).
  const alertsRs = readFileSync(join(ROOT, 'edge', 'src', 'alerts.rs'), 'utf8');
  const start = alertsRs.indexOf('fn runbook_anchor');
  const fromAlerts = [...alertsRs.slice(start, alertsRs.indexOf('\n    }\n', start)).matchAll(/=> "([a-z0-9-]+)"/g)].map((m) => m[1]);
  assert.ok(fromAlerts.length >= 5, fromAlerts.join(' '));
  for (const a of [...linked, ...fromAlerts]) assert.ok(anchors.has(a), `RUNBOOK.md has no entry #${a}`);
});
