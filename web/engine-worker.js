// The engine in a Web Worker: the page never blocks while it computes.
// Protocol: {id, op, request} in; {id, ok: true, response} or {id, ok: false, error: {code, message}} out.
import init, { compute, version } from './pkg/pve_wasm.js';

const ready = init();

self.onmessage = async (event) => {
  const { id, op, request } = event.data;
  try {
    await ready;
    if (op === 'version') {
      self.postMessage({ id, ok: true, response: JSON.parse(version()) });
      return;
    }
    const text = compute(op, JSON.stringify(request));
    self.postMessage({ id, ok: true, response: JSON.parse(text), raw: text });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { code: e.code || 'internal', message: String(e.message || e) } });
  }
};
