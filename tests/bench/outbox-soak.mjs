// Outbox soak (a benchmark, not a test; `scripts/bench.sh --soak` runs it): EVENTS events over AGGREGATES
// aggregates (watches) through the relay on `wrangler dev --local` into the webhook sink, which fails 30% of
// deliveries with 500 and lets 5% hang (the relay's delivery timeout ends them), while the `wrangler dev`
// process is killed (SIGKILL, no shutdown) and restarted on the same state RESTARTS times mid-run.
//
//   node tests/bench/outbox-soak.mjs [--events 1000000] [--aggregates 10000] [--restarts 2] [--parallel 8]
//                                    [--batch 50] [--timeout 500]
//
// Throughput is bounded by the hangs: a relay run delivers its claimed batch (--batch, OUTBOX_BATCH_SIZE, at
// most 50) concurrently and settles it when the slowest delivery ends, so with 5% hangs nearly every batch
// of 50 waits the whole delivery timeout (--timeout, OUTBOX_DELIVERY_TIMEOUT_MS; 0.95^50 = 8% of batches
// have no hang): at most about parallel × batch / timeout, 800 events/s at the defaults; the two cores are
// the bound before that (482 events/s measured on 100,000 events). The sink answers in about a millisecond
// on loopback, so 500 ms still separates a hang (held up to 30 s) from an answer; the deployed default is
// 10 s. On Cloudflare a run has 6 simultaneous connections, so there it is about parallel × 6 / timeout.
//
// Reports: events delivered, dead-lettered (by reason, and how many of those the sink had answered ok
// before: at least once allows it), lost (inserted, neither delivered nor
// dead-lettered: must be 0), duplicates (deliveries of an event after its first; each must carry the same
// Idempotency-Key, the event id), per-aggregate order violations (an event delivered after a later event
// of its aggregate was: must be 0), throughput and time. Results also go to tests/artifacts/bench-soak.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars } from '../lib/outbox.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EVENTS = arg('events', 1_000_000);
const AGGREGATES = arg('aggregates', 10_000);
const RESTARTS = arg('restarts', 2);
const PARALLEL = arg('parallel', 8);
const BATCH = arg('batch', 50);
const TIMEOUT_MS = arg('timeout', 500);
const PER_AGGREGATE = Math.ceil(EVENTS / AGGREGATES);
// The bulk route takes at most 10,000 events per call.
const AGGREGATES_PER_CALL = Math.max(1, Math.min(AGGREGATES, Math.floor(10_000 / PER_AGGREGATE)));
const LEASE_MS = 10_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sink = await startSink();
await sink.configure({ fail500: 0.3, hang: 0.05, pathPrefix: '/soak', seed: 17, maxHangMs: 30_000 });
const vars = outboxVars(sink, {
  CLIENT_RATE_PER_SEC: '1000000', CLIENT_BURST: '1000000',
  OUTBOX_BATCH_SIZE: String(BATCH), OUTBOX_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS), OUTBOX_LEASE_MS: String(LEASE_MS),
  OUTBOX_BACKOFF_BASE_MS: '50', OUTBOX_BACKOFF_CAP_MS: '2000', OUTBOX_MAX_ATTEMPTS: '10',
  OUTBOX_RELAY_BUDGET_MS: '15000',
});
let stack = await startStack({ vars, keepState: true });
const { stateDir, port } = stack;
let admin = adminClient(stack);
const t0 = performance.now();
const results = { events: 0, aggregates: 0, restarts: [], parallel: PARALLEL, batch: BATCH, timeoutMs: TIMEOUT_MS };
try {
  // 1. The events: watches of PER_AGGREGATE events each, written in bulk (not timed as relay throughput).
  const inserted = new Map(); // event_id -> {watch_id, n}
  const watches = new Set();
  for (let made = 0; made < AGGREGATES; made += AGGREGATES_PER_CALL) {
    const aggregates = Math.min(AGGREGATES_PER_CALL, AGGREGATES - made);
    const r = await admin.bulk({ webhook_url: `${sink.url}/soak/hooks`, aggregates, events_per_aggregate: PER_AGGREGATE });
    for (const id of r.watch_ids) watches.add(id);
    for (const e of r.events) inserted.set(e.event_id, { watch_id: e.watch_id, n: e.n });
  }
  results.events = inserted.size;
  results.aggregates = watches.size;
  const insertSeconds = (performance.now() - t0) / 1000;
  console.log(`soak: ${inserted.size} events over ${watches.size} aggregates written in ${insertSeconds.toFixed(1)} s; ` +
    `sink: 30% 500, 5% hang; ${RESTARTS} kill -9 + restarts of wrangler dev; ${PARALLEL} concurrent relay runs of batches of ${BATCH}, delivery timeout ${TIMEOUT_MS} ms`);

  // 2. Relay until quiet, killing wrangler dev at evenly spaced fractions of the events delivered.
  const relayStarted = performance.now();
  const killAt = Array.from({ length: RESTARTS }, (_, i) => Math.floor(((i + 1) * inserted.size) / (RESTARTS + 1)));
  let stopping = false;
  let relayErrors = 0;
  const relayer = async () => {
    while (!stopping) {
      try {
        const r = await admin.call('POST', '/v1/admin/outbox/relay');
        if (r.status !== 200) relayErrors += 1;
        else if (r.json.claimed === 0) await sleep(100);
      } catch {
        relayErrors += 1; // the process is being killed or restarted
        await sleep(500);
      }
    }
  };
  let relayers = Array.from({ length: PARALLEL }, relayer);
  // In-process reads of the sink (this process runs it): a million records do not fit one JSON answer.
  // The sink answers from this process's event loop, so the progress check reads only the records
  // added since its last call: re-reading 1.6 million records every 2 s held the loop for long enough
  // that answered deliveries outlived the relay's 500 ms timeout (the first 1M run: 39,009 events
  // delivered twice or more, against 0.2% on 100,000 events).
  const isDelivery = (r) => r.path.startsWith('/soak') && r.action === 'ok' && !r.aborted;
  const delivered = () => sink.localRecords().filter(isDelivery);
  const deliveredIds = new Set();
  let scanned = 0;
  const deliveredSoFar = () => {
    const all = sink.localRecords(); // the sink's own array, not a copy
    for (; scanned < all.length; scanned += 1) if (isDelivery(all[scanned])) deliveredIds.add(all[scanned].json.event_id);
    return deliveredIds.size;
  };
  let quietSince = null;
  for (;;) {
    await sleep(2000);
    const ok = deliveredSoFar();
    if (killAt.length && ok >= killAt[0]) {
      killAt.shift();
      const at = (performance.now() - relayStarted) / 1000;
      await stack.kill();
      const down = performance.now();
      stack = await startStack({ vars, stateDir, port, keepState: true });
      admin = adminClient(stack);
      const restart = { at_s: Math.round(at), delivered_before: ok, down_s: Number(((performance.now() - down) / 1000).toFixed(1)) };
      results.restarts.push(restart);
      console.log(`killed wrangler dev (SIGKILL) after ${restart.at_s} s with ${ok} delivered; back up after ${restart.down_s} s`);
    }
    let stats;
    try { stats = (await admin.stats()).outbox; } catch { continue; }
    const left = stats.pending + stats.leased + stats.leased_expired;
    if (left === 0 && killAt.length === 0) {
      quietSince ??= performance.now();
      if (performance.now() - quietSince > 1000) break;
    } else quietSince = null;
  }
  stopping = true;
  await Promise.all(relayers);
  const relaySeconds = (performance.now() - relayStarted) / 1000;

  // 3. The account.
  const records = delivered();
  const firstAt = new Map();
  const copies = new Map();
  const keyMismatch = [];
  for (const r of records) {
    const id = r.json.event_id;
    copies.set(id, (copies.get(id) ?? 0) + 1);
    if (!firstAt.has(id)) firstAt.set(id, r.seq);
    if (r.headers['idempotency-key'] !== id) keyMismatch.push(id);
  }
  const dead = await admin.deadLetters();
  const deadIds = new Set(dead.map((d) => d.event_id));
  const deadByReason = dead.reduce((m, d) => ({ ...m, [d.reason]: (m[d.reason] ?? 0) + 1 }), {});
  const lost = [...inserted.keys()].filter((id) => !copies.has(id) && !deadIds.has(id));
  // At least once: a delivery the sink answered but the relay never learned of (a kill, or a timeout
  // that beat the answer) is retried, and the retries can run out. Counted as delivered and dead.
  const deadAfterDelivery = [...deadIds].filter((id) => copies.has(id)).length;
  const duplicates = [...copies.values()].reduce((n, c) => n + c - 1, 0);
  const duplicatedEvents = [...copies.values()].filter((c) => c > 1).length;
  // Order: per aggregate, in arrival order, no delivery of an event numbered below one already delivered.
  const byWatch = new Map();
  for (const r of records) {
    const { watch_id: w, n } = r.json;
    if (!byWatch.has(w)) byWatch.set(w, []);
    byWatch.get(w).push({ seq: r.seq, n });
  }
  let orderViolations = 0;
  for (const list of byWatch.values()) {
    list.sort((a, b) => a.seq - b.seq);
    let highest = -1;
    for (const { n } of list) {
      if (n < highest) orderViolations += 1;
      highest = Math.max(highest, n);
    }
  }
  const totalSeconds = (performance.now() - t0) / 1000;
  const attempts = sink.localRecords('/soak').length;
  Object.assign(results, {
    delivered: copies.size, deadLettered: dead.length, deadByReason, deadAfterDelivery, lost: lost.length, duplicates,
    duplicatedEvents, duplicatesWithOtherKey: keyMismatch.length, orderViolations, deliveryAttemptsAtSink: attempts,
    relayErrorsDuringRestarts: relayErrors, relaySeconds, totalSeconds, insertSeconds,
    eventsPerSecond: copies.size / relaySeconds,
  });
  console.log('| events | aggregates | delivered | dead-lettered (reasons; of them delivered before) | lost | duplicates (events) | duplicates with another Idempotency-Key | order violations | attempts at the sink | relay time s | events/s | total time s |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  console.log(`| ${inserted.size} | ${watches.size} | ${copies.size} | ${dead.length} ${JSON.stringify(deadByReason)}; ${deadAfterDelivery} | ${lost.length} | ` +
    `${duplicates} (${duplicatedEvents}) | ${keyMismatch.length} | ${orderViolations} | ${attempts} | ${relaySeconds.toFixed(0)} | ` +
    `${(copies.size / relaySeconds).toFixed(1)} | ${totalSeconds.toFixed(0)} |`);
  writeFileSync(join(artifactsDir(), 'bench-soak.json'), JSON.stringify(results, null, 2));
} finally {
  await stack.stop();
  await sink.close();
  rmSync(stateDir, { recursive: true, force: true });
}
