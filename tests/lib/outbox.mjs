// Helpers for the outbox end-to-end tests: admin calls with the e2e admin token, and a bounded loop
// that runs the relay until nothing is left to deliver.
export const ADMIN_TOKEN = 'e2e-admin-token'; // startStack's default ADMIN_TOKEN var

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Vars for a stack whose webhooks point at a local sink. */
export function outboxVars(sink, extra = {}) {
  return {
    ALLOW_LOOPBACK_WEBHOOKS: 'true',
    ENABLE_TEST_ROUTES: 'true',
    ALERT_WEBHOOK_URL: `${sink.url}/alerts`,
    // Nothing here may reach the real Nexon API: the discard port refuses connections. Tests of the
    // sweep pass their own fake upstream.
    UPSTREAM_BASE_URL: 'http://127.0.0.1:9',
    OUTBOX_BACKOFF_BASE_MS: '50',
    OUTBOX_BACKOFF_CAP_MS: '500',
    OUTBOX_DELIVERY_TIMEOUT_MS: '2000',
    OUTBOX_LEASE_MS: '10000',
    // These tests drive the admin routes as fast as the Worker answers (relayUntilQuiet polls without a
    // pause while work is claimed), so the per-client bucket (20/s, burst 100 by default) answered 429 on a
    // quiet, fast machine: a flake the 20-run measurement found. The client limit is cache-limits' subject.
    CLIENT_RATE_PER_SEC: '1000000',
    CLIENT_BURST: '1000000',
    ...extra,
  };
}

export function adminClient(stack, token = ADMIN_TOKEN) {
  const call = async (method, path, body) => {
    const r = await fetch(stack.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  };
  const ok = async (method, path, body, status = 200) => {
    const r = await call(method, path, body);
    if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${r.text}`);
    return r.json;
  };
  return {
    call,
    stats: () => ok('GET', '/v1/admin/outbox/stats'),
    relay: () => ok('POST', '/v1/admin/outbox/relay'),
    deadLetterPage: (query = '') => ok('GET', `/v1/admin/outbox/dead-letters${query}`),
    async deadLetters() {
      const all = [];
      let cursor = null;
      for (let i = 0; i < 1000; i++) {
        const page = await ok('GET', `/v1/admin/outbox/dead-letters?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
        all.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) return all;
      }
      throw new Error('dead-letter paging did not end');
    },
    replay: (id) => call('POST', `/v1/admin/outbox/dead-letters/${id}/replay`),
    deleteDeadLetter: (id) => call('DELETE', `/v1/admin/outbox/dead-letters/${id}`),
    bulk: (body) => ok('POST', '/v1/admin/test/outbox/events', body, 201),
    valuation: (body) => ok('POST', '/v1/admin/test/valuation', body),
    alert: (body) => ok('POST', '/v1/admin/test/alerts', body),
    sweep: () => ok('POST', '/v1/admin/test/sweep'),
  };
}

/**
 * Run the relay (`parallel` concurrent runs per round) until no event is pending or leased, within
 * `deadlineMs`. Returns {rounds, reports, stats}. Throws with the last stats if the deadline passes.
 */
export async function relayUntilQuiet(admin, { parallel = 1, deadlineMs = 60_000 } = {}) {
  const deadline = Date.now() + deadlineMs;
  const reports = [];
  let rounds = 0;
  let stats;
  while (Date.now() < deadline) {
    rounds += 1;
    const round = await Promise.all(Array.from({ length: parallel }, () => admin.relay()));
    reports.push(...round);
    stats = await admin.stats();
    const o = stats.outbox;
    if (o.pending + o.leased + o.leased_expired === 0) return { rounds, reports, stats };
    // Everything left is waiting for its backoff: give it a moment.
    if (round.every((r) => r.claimed === 0)) await sleep(50);
  }
  throw new Error(`relay not quiet after ${deadlineMs} ms: ${JSON.stringify(stats)}`);
}

/** Waits until `predicate(await probe())` holds, probing every `everyMs`, for at most `timeoutMs`. */
export async function eventually(probe, predicate, { timeoutMs = 10_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (predicate(last)) return last;
    await sleep(everyMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

/** The sink records whose JSON body carries this event id. */
export const recordsOf = (records, eventId) => records.filter((r) => r.json?.event_id === eventId);
