// The engine in a Web Worker: the page never blocks while it computes.
// Protocol: {id, op, request} in; {id, ok: true, response, raw, ms} or {id, ok: false, error: {code, message}} out.
// `raw` is the engine's JSON exactly as computed (the same bytes as the CLI and the HTTP API), `ms` the time
// the engine took. The potential line tables are a separate static asset (data/potential.bin, the compact
// format, copied there by `scripts/build.sh web`), fetched and installed once, on the first operation that
// needs them.
import init, * as wasm from './pkg/pve_wasm.js';

const ready = init();
const NEEDS_POTENTIAL_DATA = new Set(['potential', 'valuation']);
let potentialData = null;

function installPotentialData() {
  potentialData ??= (async () => {
    const url = new URL('./data/potential.bin', import.meta.url);
    let res;
    try {
      res = await fetch(url);
    } catch (e) {
      throw Object.assign(new Error(`could not fetch ${url.pathname}: ${e.message}`), { code: 'data_unavailable' });
    }
    if (!res.ok) throw Object.assign(new Error(`${url.pathname}: HTTP ${res.status}`), { code: 'data_unavailable' });
    wasm.install_potential_data(new Uint8Array(await res.arrayBuffer()));
  })();
  // A failed load is retried by the next request rather than cached.
  potentialData.catch(() => { potentialData = null; });
  return potentialData;
}

self.onmessage = async (event) => {
  const { id, op, request } = event.data;
  try {
    await ready;
    if (op === 'version') {
      self.postMessage({ id, ok: true, response: JSON.parse(wasm.version()) });
      return;
    }
    if (NEEDS_POTENTIAL_DATA.has(op)) await installPotentialData();
    const text = typeof request === 'string' ? request : JSON.stringify(request);
    const started = performance.now();
    const raw = wasm.compute(op, text);
    const ms = performance.now() - started;
    self.postMessage({ id, ok: true, response: JSON.parse(raw), raw, ms });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { code: e.code || 'internal', message: String(e.message || e) } });
  }
};
