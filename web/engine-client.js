// Main-thread client of engine-worker.js: one promise per request.
export class EngineClient {
  constructor() {
    this.worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.worker.onmessage = (event) => {
      const { id, ok, response, error, raw } = event.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (ok) p.resolve({ response, raw });
      else p.reject(Object.assign(new Error(error.message), { code: error.code }));
    };
  }

  compute(op, request) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, request });
    });
  }
}
