// The engine in a Web Worker: the page never blocks while it computes.
// Protocol: {id, op, request} in; {id, ok: true, response, raw, ms} or {id, ok: false, error: {code, message}} out.
// Each operation is one typed function of the Wasm API (pkg/pve_wasm.d.ts): a JS object in, a JS object out
// (no JSON text crosses the boundary). `response` equals JSON.parse of the CLI's and the HTTP API's output
// for the same request (the same f64 bits); `raw` is that response as JSON text, for the page's "JSON"
// view; `ms` the time the engine took. The potential line tables are a separate static asset
// (data/potential.bin, the compact format, copied there by `scripts/build.sh web`), fetched and installed once, on the first
// operation that needs them.
import init, * as wasm from './pkg/pve_wasm.js';

/**
 * @typedef {import('./pkg/pve_wasm.js').StarforceRequest | import('./pkg/pve_wasm.js').PotentialRequest
 *   | import('./pkg/pve_wasm.js').FlameRequest | import('./pkg/pve_wasm.js').ValuationRequest} EngineRequest
 * @typedef {import('./pkg/pve_wasm.js').StarforceResponse | import('./pkg/pve_wasm.js').PotentialResponse
 *   | import('./pkg/pve_wasm.js').FlameResponse | import('./pkg/pve_wasm.js').ValuationResponse
 *   | import('./pkg/pve_wasm.js').Version} EngineResponse
 * @typedef {'starforce' | 'potential' | 'flame' | 'valuation' | 'version'} EngineOp
 * @typedef {{id: number, op: EngineOp, request: EngineRequest | string | null}} EngineCall
 * @typedef {{id: number, ok: true, response: EngineResponse, raw?: string, ms?: number}
 *   | {id: number, ok: false, error: {code: string, message: string}}} EngineReply
 */

/** Every operation of the Wasm API, by its name (the CLI subcommand and the HTTP route). */
const OPERATIONS = /** @type {Record<string, (request: any) => EngineResponse>} */ ({
  starforce: wasm.starforce,
  potential: wasm.potential,
  flame: wasm.flame,
  valuation: wasm.valuation,
});

const ready = init();
const NEEDS_POTENTIAL_DATA = new Set(['potential', 'valuation']);
/** @type {Promise<void> | null} */
let potentialData = null;

/**
 * @param {string} message
 * @param {string} code
 */
function engineError(message, code) {
  return Object.assign(new Error(message), { code });
}

function installPotentialData() {
  potentialData ??= (async () => {
    const url = new URL('./data/potential.bin', import.meta.url);
    let res;
    try {
      res = await fetch(url);
    } catch (e) {
      throw engineError(`could not fetch ${url.pathname}: ${e.message}`, 'data_unavailable');
    }
    if (!res.ok) throw engineError(`${url.pathname}: HTTP ${res.status}`, 'data_unavailable');
    wasm.install_potential_data(new Uint8Array(await res.arrayBuffer()));
  })();
  // A failed load is retried by the next request rather than cached.
  potentialData.catch(() => { potentialData = null; });
  return potentialData;
}

/**
 * A request given as JSON text (as typed by a user) is parsed here, so that text that is not JSON is
 * `malformed_json`, as on the CLI and the HTTP API.
 * @param {EngineRequest | string | null} request
 */
function requestValue(request) {
  if (typeof request !== 'string') return request;
  try {
    return JSON.parse(request);
  } catch (e) {
    throw engineError(e.message, 'malformed_json');
  }
}

/** @param {EngineReply} reply */
function reply(reply) {
  self.postMessage(reply);
}

self.onmessage = async (/** @type {MessageEvent<EngineCall>} */ event) => {
  const { id, op, request } = event.data;
  try {
    await ready;
    if (op === 'version') {
      reply({ id, ok: true, response: wasm.version() });
      return;
    }
    const compute = Object.hasOwn(OPERATIONS, op) ? OPERATIONS[op] : null;
    if (!compute) throw engineError(`unknown operation ${JSON.stringify(op)}`, 'unknown_variant');
    if (NEEDS_POTENTIAL_DATA.has(op)) await installPotentialData();
    const value = requestValue(request);
    const started = performance.now();
    const response = compute(value);
    const ms = performance.now() - started;
    reply({ id, ok: true, response, raw: JSON.stringify(response), ms });
  } catch (e) {
    reply({ id, ok: false, error: { code: e.code || 'internal', message: String(e.message || e) } });
  }
};
