// Outbox benchmark (a script, not a test): on `wrangler dev --local` with a loopback webhook sink that
// always answers 200,
//   1. relay throughput: N events already in the outbox (A aggregates), relay runs triggered until quiet,
//      events/s, for 1 and for 4 concurrent relay runs, at two batch sizes;
//   2. end-to-end latency write → delivery: POST /v1/watches (its watch.created event leaves through the
//      relay started by the write, `wait_until`), measured to the sink's arrival time; sequential writes
//      and bursts of concurrent writes.
// Local dev runtime on shared cores: read the numbers as orders of magnitude and ratios, not production.
//   node tests/bench/outbox.mjs [events=2000] [aggregates=200] [writes=100]
import { startStack } from '../lib/stack.mjs';
import { startSink } from '../webhook-sink/sink.mjs';
import { adminClient, outboxVars, relayUntilQuiet, eventually } from '../lib/outbox.mjs';

const [N = 2000, A = 200, WRITES = 100] = process.argv.slice(2).map(Number);
// The benchmark is one client on loopback: lift the per-client request limit, which would otherwise
// (rightly) answer 429 to its bursts and measure the limiter instead of the outbox.
const UNLIMITED_CLIENT = { CLIENT_RATE_PER_SEC: '1000000', CLIENT_BURST: '1000000' };
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const summary = (xs) => `p50 ${pct(xs, 50)} ms, p95 ${pct(xs, 95)} ms, max ${Math.max(...xs)} ms (n=${xs.length})`;

async function throughput(batchSize) {
  const sink = await startSink();
  const stack = await startStack({ vars: outboxVars(sink, { ...UNLIMITED_CLIENT, OUTBOX_BATCH_SIZE: String(batchSize) }) });
  try {
    const admin = adminClient(stack);
    await admin.relay(); // warm the isolate
    const rows = [];
    for (const parallel of [1, 4]) {
      await sink.reset();
      const path = `/hooks/bench-${parallel}`;
      await admin.bulk({ webhook_url: `${sink.url}${path}`, aggregates: A, events_per_aggregate: N / A });
      const t0 = Date.now();
      const { rounds } = await relayUntilQuiet(admin, { parallel, deadlineMs: 300_000 });
      const ms = Date.now() - t0;
      const delivered = (await sink.records(path)).length;
      rows.push({ batch: batchSize, parallel, events: delivered, ms, rate: Math.round((delivered / ms) * 1000), rounds });
    }
    return rows;
  } finally {
    await stack.stop();
    await sink.close();
  }
}

async function latency() {
  const sink = await startSink();
  const stack = await startStack({ vars: outboxVars(sink, UNLIMITED_CLIENT) });
  try {
    const write = async (i, tag) => {
      const t0 = Date.now();
      const r = await fetch(`${stack.url}/v1/watches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${tag}-${i}` },
        body: JSON.stringify({ character: `Bench${tag}${i}`, webhook_url: `${sink.url}/hooks/latency` }),
      });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${await r.text()}`);
      const { id } = await r.json();
      return { id, t0, acked: Date.now() - t0 };
    };
    const measure = async (writes) => {
      const recs = await eventually(() => sink.records('/hooks/latency'),
        (rs) => writes.every((w) => rs.some((r) => r.json?.watch_id === w.id)), { timeoutMs: 60_000, everyMs: 50 });
      return writes.map((w) => recs.find((r) => r.json.watch_id === w.id).at - w.t0);
    };
    await write(0, 'warm');
    const sequential = [];
    for (let i = 0; i < WRITES; i++) sequential.push(await write(i, 'seq'));
    const seqLatency = await measure(sequential);
    const bursts = [];
    for (let b = 0; b < 5; b++) {
      bursts.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => write(b * 20 + i, 'burst')))));
    }
    const burstLatency = await measure(bursts);
    return { sequential: seqLatency, acked: sequential.map((w) => w.acked), burst: burstLatency };
  } finally {
    await stack.stop();
    await sink.close();
  }
}

console.log(`outbox benchmark: ${N} events over ${A} aggregates; ${WRITES} sequential writes + 5 bursts of 20`);
const rows = [...(await throughput(6)), ...(await throughput(20))];
console.log('\nrelay throughput to a loopback sink (all 200 OK):');
console.log('batch  relays  events   ms      events/s  rounds');
for (const r of rows) {
  console.log(`${String(r.batch).padEnd(7)}${String(r.parallel).padEnd(8)}${String(r.events).padEnd(9)}${String(r.ms).padEnd(8)}${String(r.rate).padEnd(10)}${r.rounds}`);
}
const lat = await latency();
console.log('\nend-to-end latency, POST /v1/watches → watch.created at the sink (relay kicked by the write):');
console.log(`  sequential writes: ${summary(lat.sequential)}`);
console.log(`  (write acknowledged: ${summary(lat.acked)})`);
console.log(`  bursts of 20 concurrent writes: ${summary(lat.burst)}`);
