// The engine in a Web Worker: the page never blocks while it computes.
// Protocol: {id, op, request} in; {id, ok: true, response, raw, ms} or {id, ok: false, error: {code, message}} out.
// Each operation is one typed function of the Wasm API (pkg/pve_wasm.d.ts): a JS object in, a JS object out
// (no JSON text crosses the boundary). `response` equals JSON.parse of the CLI's and the HTTP API's output
// for the same request (the same f64 bits); `raw` is that response as JSON text, for the page's "JSON"
// view; `ms` the time the engine took. The potential line tables are a separate static asset
// (data/potential.bin, the compact format, copied there by `scripts/build.sh web`), fetched and installed once, on the first
// operation that needs them.
// Two modules (issue 16): the star force module (pkg/pve_wasm_starforce.js: `starforce` and `version`, a
// third of the size) is loaded at once; the full module (pkg/pve_wasm.js) on the first operation that
// needs it. Both are built from the same crate and run the same star force code, so it does not matter
// which answers; `version` comes from the full module once it is loaded (it holds the potential data).
import initStarforce, * as starforceWasm from './pkg/pve_wasm_starforce.js';

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

/** @typedef {typeof import('./pkg/pve_wasm.js')} FullEngine */
/** @typedef {(request: any) => EngineResponse} Operation */

/** The operations of the full module, by name (the CLI subcommand and the HTTP route). */
const FULL_OPERATIONS = /** @type {Record<string, (m: FullEngine) => Operation>} */ ({
  potential: (m) => m.potential,
  flame: (m) => m.flame,
  valuation: (m) => m.valuation,
});

const starforceReady = initStarforce();
/** @type {Promise<FullEngine> | null} */
let fullEngine = null;
/** @type {FullEngine | null} */
let fullLoaded = null;
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

/** The full module, fetched and compiled once, on first use. */
function full() {
  fullEngine ??= (async () => {
    let m;
    try {
      m = await import('./pkg/pve_wasm.js');
      await m.default();
    } catch (e) {
      throw engineError(`could not load the engine module: ${e.message}`, 'engine_unavailable');
    }
    fullLoaded = m;
    return m;
  })();
  // A failed load is retried by the next request rather than cached.
  fullEngine.catch(() => { fullEngine = null; });
  return fullEngine;
}

/** @param {FullEngine} wasm */
function installPotentialData(wasm) {
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
    await starforceReady;
    if (op === 'version') {
      reply({ id, ok: true, response: (fullLoaded ?? starforceWasm).version() });
      return;
    }
    /** @type {Operation} */
    let compute;
    if (op === 'starforce') compute = starforceWasm.starforce;
    else if (Object.hasOwn(FULL_OPERATIONS, op)) {
      const wasm = await full();
      if (NEEDS_POTENTIAL_DATA.has(op)) await installPotentialData(wasm);
      compute = FULL_OPERATIONS[op](wasm);
    } else throw engineError(`unknown operation ${JSON.stringify(op)}`, 'unknown_variant');
    const value = requestValue(request);
    const started = performance.now();
    const response = compute(value);
    const ms = performance.now() - started;
    reply({ id, ok: true, response, raw: JSON.stringify(response), ms });
  } catch (e) {
    reply({ id, ok: false, error: { code: e.code || 'internal', message: String(e.message || e) } });
  }
};
