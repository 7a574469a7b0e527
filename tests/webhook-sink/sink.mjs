// A webhook sink for tests and benchmarks: a small HTTP server on 127.0.0.1 (free port) that records
// every delivery it receives (path, headers, body, arrival order) and answers 200, or fails on demand.
//
// Behaviour of a delivery (any method/path not under /_control):
//   1. the next scripted action for its path, if any (POST /_control/script);
//   2. else, when the path starts with `pathPrefix`, a seeded random draw against the failure rates:
//      fail500, hang (never answers; the socket is closed when the client gives up, or after
//      maxHangMs), reset (the socket is destroyed without an answer), fail400;
//   3. else 200.
// Actions: "ok", "500", "400", "429", "reset", "hang", "delay:<ms>" (200 after <ms>).
//
// Control endpoints:
//   POST /_control/config  {"fail500":0.3,"hang":0.05,"reset":0,"fail400":0,"pathPrefix":"/hooks","seed":1}
//   POST /_control/script  {"path":"/hooks/a","actions":["delay:3000","ok"]}   (appends)
//   GET  /_control/records[?path=/prefix]                                    → [{seq, at, method, path, headers, body, action, aborted}]
//   POST /_control/reset                                                     → clears records, config and scripts
//
// Run standalone: `node tests/webhook-sink/sink.mjs [port]` (prints its URL); tests import startSink().
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const MAX_BODY = 1 << 20;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const defaults = () => ({ fail500: 0, hang: 0, reset: 0, fail400: 0, pathPrefix: '/', seed: 1, maxHangMs: 60_000 });

export async function startSink({ port = 0 } = {}) {
  let config = defaults();
  let rand = mulberry32(config.seed);
  let records = [];
  // The records whose path starts with `prefix` (all without one): the control route's answer and
  // localRecords'.
  const select = (prefix) => (prefix ? records.filter((r) => r.path.startsWith(prefix)) : records);
  let scripts = new Map();
  let seq = 0;
  const hung = new Set();

  const draw = (path) => {
    const script = scripts.get(path);
    if (script && script.length) return script.shift();
    if (!path.startsWith(config.pathPrefix)) return 'ok';
    let r = rand();
    for (const [action, rate] of [['500', config.fail500], ['hang', config.hang], ['reset', config.reset], ['400', config.fail400]]) {
      if (r < rate) return action;
      r -= rate;
    }
    return 'ok';
  };

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const control = (req, res, url, body) => {
    if (req.method === 'POST' && url.pathname === '/_control/config') {
      const c = JSON.parse(body || '{}');
      config = { ...defaults(), ...c };
      rand = mulberry32(config.seed);
      return json(res, 200, config);
    }
    if (req.method === 'POST' && url.pathname === '/_control/script') {
      const { path, actions } = JSON.parse(body);
      scripts.set(path, [...(scripts.get(path) ?? []), ...actions]);
      return json(res, 200, { path, queued: scripts.get(path).length });
    }
    if (req.method === 'GET' && url.pathname === '/_control/records') {
      const prefix = url.searchParams.get('path');
      return json(res, 200, select(prefix));
    }
    if (req.method === 'POST' && url.pathname === '/_control/reset') {
      config = defaults();
      rand = mulberry32(config.seed);
      records = [];
      scripts = new Map();
      return json(res, 200, { reset: true });
    }
    return json(res, 404, { error: 'no such control endpoint' });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://sink');
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname.startsWith('/_control/')) return control(req, res, url, body);
      const action = draw(url.pathname);
      const record = {
        seq: ++seq, at: Date.now(), method: req.method, path: url.pathname, headers: req.headers, body,
        action, aborted: false,
      };
      try { record.json = JSON.parse(body); } catch { record.json = null; }
      records.push(record);
      // A hang ends when the client closes the connection (its timeout), which we note.
      res.on('close', () => { if (!res.writableEnded) record.aborted = true; });
      if (action === 'ok') return json(res, 200, { ok: true });
      if (action === '500') return json(res, 500, { error: 'injected 500' });
      if (action === '400') return json(res, 400, { error: 'injected 400' });
      if (action === '429') { res.setHeader('retry-after', '1'); return json(res, 429, { error: 'injected 429' }); }
      if (action === 'reset') return req.socket.destroy();
      if (action === 'hang') {
        const t = setTimeout(() => req.socket.destroy(), config.maxHangMs);
        hung.add(t);
        res.on('close', () => { clearTimeout(t); hung.delete(t); });
        return;
      }
      const delay = /^delay:(\d+)$/.exec(action);
      if (delay) {
        const t = setTimeout(() => { hung.delete(t); if (!res.destroyed) json(res, 200, { ok: true, delayed: Number(delay[1]) }); }, Number(delay[1]));
        hung.add(t);
        return;
      }
      json(res, 500, { error: `unknown scripted action ${action}` });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address();
  const url = `http://127.0.0.1:${bound}`;

  const call = async (method, path, body) => {
    const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`sink control ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return {
    url,
    port: bound,
    configure: (c) => call('POST', '/_control/config', c),
    script: (path, actions) => call('POST', '/_control/script', { path, actions }),
    records: (prefix) => call('GET', `/_control/records${prefix ? `?path=${encodeURIComponent(prefix)}` : ''}`),
    // The same records without the HTTP round trip, for a caller in this process: a soak's million records
    // are more JSON than one string can hold (V8's limit is about 512 MiB).
    localRecords: select,
    reset: () => call('POST', '/_control/reset'),
    close: () => new Promise((resolve) => {
      for (const t of hung) clearTimeout(t);
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sink = await startSink({ port: Number(process.argv[2] ?? 0) });
  console.log(sink.url);
}
