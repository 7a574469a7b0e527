// Main-thread client of engine-worker.js. Requests go through named channels (one per tab): a channel
// has at most one request in the Worker and at most one waiting. A newer request replaces the waiting one,
// and a result that a newer request has superseded is dropped (its promise resolves to `STALE`), so typing
// never queues work behind results nobody will see, and an old answer never overwrites a newer one.
export const STALE = Symbol('stale');

/**
 * @typedef {import('./engine-worker.js').EngineOp} EngineOp
 * @typedef {import('./engine-worker.js').EngineRequest} EngineRequest
 * @typedef {import('./engine-worker.js').EngineResponse} EngineResponse
 * @typedef {import('./engine-worker.js').EngineReply} EngineReply
 * @typedef {{response: EngineResponse, raw?: string, ms?: number}} EngineResult
 * @typedef {Error & {code: string}} EngineError an engine failure: `code` as on the CLI and the HTTP API
 * @typedef {{resolve: (r: EngineResult) => void, reject: (e: EngineError) => void}} Pending
 * @typedef {{op: EngineOp, request: EngineRequest | string, generation: number,
 *   resolve: (r: EngineResult | typeof STALE) => void, reject: (e: EngineError) => void}} Job
 * @typedef {{busy: boolean, waiting: Job | null, generation: number}} Channel
 */

export class EngineClient {
  constructor(url = new URL('./engine-worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.next = 1;
    /** @type {Map<number, Pending>} */
    this.pending = new Map();
    /** @type {Map<string, Channel>} */
    this.channels = new Map();
    this.worker.onmessage = (/** @type {MessageEvent<EngineReply>} */ event) => {
      const reply = event.data;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else p.resolve({ response: reply.response, raw: reply.raw, ms: reply.ms });
    };
    /** @type {EngineError | null} */
    this.failed = null;
    this.worker.onerror = (event) => {
      // A Worker that fails to load (e.g. the Wasm file is missing) fails every request explicitly, now and later.
      event.preventDefault();
      this.failed = Object.assign(new Error(event.message || 'the engine worker failed to start'), { code: 'engine_unavailable' });
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
    };
  }

  /**
   * One request, outside any channel.
   * @param {EngineOp} op
   * @param {EngineRequest | string | null} request
   * @returns {Promise<EngineResult>}
   */
  call(op, request) {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, request });
    });
  }

  /**
   * The latest request of `channel`: resolves to {response, raw, ms}, or to STALE when superseded.
   * @param {string} channel
   * @param {EngineOp} op
   * @param {EngineRequest | string} request
   * @returns {Promise<EngineResult | typeof STALE>}
   */
  latest(channel, op, request) {
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = { busy: false, waiting: null, generation: 0 };
      this.channels.set(channel, ch);
    }
    const generation = ++ch.generation;
    return new Promise((resolve, reject) => {
      if (ch.waiting) ch.waiting.resolve(STALE);
      ch.waiting = { op, request, generation, resolve, reject };
      this.#pump(ch);
    });
  }

  /** @param {Channel} ch */
  #pump(ch) {
    if (ch.busy || !ch.waiting) return;
    const job = ch.waiting;
    ch.waiting = null;
    ch.busy = true;
    /** @type {<T>(fn: (value: T) => void) => (value: T) => void} */
    const settle = (fn) => (value) => {
      ch.busy = false;
      if (job.generation !== ch.generation) job.resolve(STALE);
      else fn(value);
      this.#pump(ch);
    };
    this.call(job.op, job.request).then(settle(job.resolve), settle(job.reject));
  }
}
