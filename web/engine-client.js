// Main-thread client of engine-worker.js. Requests go through named channels (one per tab): a channel
// has at most one request in the Worker and at most one waiting. A newer request replaces the waiting one,
// and a result that a newer request has superseded is dropped (its promise resolves to `STALE`), so typing
// never queues work behind results nobody will see, and an old answer never overwrites a newer one.
export const STALE = Symbol('stale');

export class EngineClient {
  constructor(url = new URL('./engine-worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.channels = new Map();
    this.worker.onmessage = (event) => {
      const { id, ok, response, error, raw, ms } = event.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ok) p.resolve({ response, raw, ms });
      else p.reject(Object.assign(new Error(error.message), { code: error.code }));
    };
    this.failed = null;
    this.worker.onerror = (event) => {
      // A Worker that fails to load (e.g. the Wasm file is missing) fails every request explicitly, now and later.
      event.preventDefault();
      this.failed = Object.assign(new Error(event.message || 'the engine worker failed to start'), { code: 'engine_unavailable' });
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
    };
  }

  /** One request, outside any channel. */
  call(op, request) {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, request });
    });
  }

  /** The latest request of `channel`: resolves to {response, raw, ms}, or to STALE when superseded. */
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

  #pump(ch) {
    if (ch.busy || !ch.waiting) return;
    const job = ch.waiting;
    ch.waiting = null;
    ch.busy = true;
    const settle = (fn) => (value) => {
      ch.busy = false;
      if (job.generation !== ch.generation) job.resolve(STALE);
      else fn(value);
      this.#pump(ch);
    };
    this.call(job.op, job.request).then(settle(job.resolve), settle(job.reject));
  }
}
