// The engine in a Web Worker: the page never blocks while it computes.
// Protocol: {id, op, request} in; {id, ok: true, response, raw, ms} or {id, ok: false, error: {code, message}} out.
// `raw` is the engine's JSON exactly as computed (the same bytes as the CLI and the HTTP API), `ms` the time
// the engine took.
import init, * as wasm from './pkg/pve_wasm.js';

const ready = init();

self.onmessage = async (event) => {
  const { id, op, request } = event.data;
  try {
    await ready;
    if (op === 'version') {
      self.postMessage({ id, ok: true, response: JSON.parse(wasm.version()) });
      return;
    }
    const text = typeof request === 'string' ? request : JSON.stringify(request);
    const started = performance.now();
    const raw = wasm.compute(op, text);
    const ms = performance.now() - started;
    self.postMessage({ id, ok: true, response: JSON.parse(raw), raw, ms });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { code: e.code || 'internal', message: String(e.message || e) } });
  }
};
