// Many HTTP requests at once from node, loopback only: a keep-alive agent that opens as many sockets as
// asked, and a bounded pool of workers. Used by the end-to-end tests (1,000 concurrent requests) and by
// the benchmark script. Every request has a timeout, so a load loop is bounded in time as well as count.
import http from 'node:http';

/** One GET (or other method). Resolves {status, headers, body: Buffer, ms}; rejects on timeout. */
export function request(url, { agent, method = 'GET', headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { agent, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started,
      }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Run `count` requests built by `make(i)` (a URL string or {url, ...options}) with at most `concurrency`
 * in flight. Resolves the responses in order.
 */
export async function many(count, make, { concurrency = count, timeoutMs = 60_000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const out = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const spec = make(i);
      const { url, ...opts } = typeof spec === 'string' ? { url: spec } : spec;
      out[i] = await request(url, { agent, timeoutMs, ...opts });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    agent.destroy();
  }
  return out;
}

/** The p-th percentile (0..100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The `detail` parameter of our Cache-Status member: l1, l2, origin or stale. */
export function tierOf(headers) {
  const v = headers instanceof Headers ? headers.get('cache-status') : headers['cache-status'];
  const m = /detail=([a-z0-9-]+)/.exec(v ?? '');
  return m ? m[1] : null;
}
