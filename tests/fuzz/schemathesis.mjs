// Runs schemathesis (the outside OpenAPI fuzzer, pinned in scripts/versions.sh, installed in .venv/ by
// `scripts/setup.sh --tests`) against `wrangler dev --local` with the fake upstream, from the served
// /openapi.json: every check, a fixed seed, bounded examples, the admin token for the admin operations
// only and each watch's token for that watch (both as configured auth, tests/fuzz/hooks.py), the
// stateful phase following the document's links (create a watch, then read and delete it with the
// returned id and token). The stack's per-client and upstream limits
// are lifted (as in the cache tests), so the run measures the API rather than queueing behind 429s; a
// request that takes longer than PVE_FUZZ_TIMEOUT seconds (default 30) is a failure, not a wait. Exits
// with schemathesis's status. Needs `bash scripts/build.sh worker` first.
//   node tests/fuzz/schemathesis.mjs [extra schemathesis args]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';

const fake = await startFakeUpstream();
// Every valid name is a character of the fake upstream: let the global upstream bucket pass them all, so
// the run measures the API rather than queueing behind the 5/s production budget until the deadline.
const stack = await startStack({
  vars: {
    UPSTREAM_BASE_URL: fake.url, UPSTREAM_RATE_PER_SEC: '1000', UPSTREAM_BURST: '1000',
    CLIENT_RATE_PER_SEC: '100000', CLIENT_BURST: '100000',
  },
});
// PVE_FUZZ_SPEC=path fuzzes the running Worker from another copy of the document (while editing it).
const spec = process.env.PVE_FUZZ_SPEC ? [process.env.PVE_FUZZ_SPEC, '--url', stack.url] : [`${stack.url}/openapi.json`];
let status = 1;
try {
  const started = Date.now();
  // Not spawnSync: this process drains wrangler dev's output pipes (tests/lib/stack.mjs); blocked in a
  // synchronous wait it would not, the pipe would fill after ~64 KiB of request logs, and every request
  // would hang behind wrangler's blocked write (seen: 12 read timeouts of 30 s, /healthz among them).
  const run = spawn(join(ROOT, '.venv', 'bin', 'schemathesis'), [
    'run', ...spec,
    // One worker: with several (the default `auto`), schemathesis 4.32.5's coverage phase stalled on this
    // 2-core machine with responses unread in its sockets (ss: Recv-Q 121, three CLOSE-WAIT) while the
    // Worker answered other clients at once, and reported them as 30 s read timeouts. One worker also
    // keeps the run's order, and so its cases, the same for a seed.
    '--checks', 'all', '--seed', '14', '-n', process.env.PVE_FUZZ_EXAMPLES ?? '30', '--workers', '1',
    '--request-timeout', process.env.PVE_FUZZ_TIMEOUT ?? '30',
    ...process.argv.slice(2),
  ], { stdio: 'inherit', env: {
    ...process.env, NO_COLOR: '1', PVE_FUZZ_ADMIN_TOKEN: 'e2e-admin-token',
    // The watch token as configured auth (tests/fuzz/hooks.py).
    SCHEMATHESIS_HOOKS: process.env.PVE_FUZZ_HOOKS ?? join(ROOT, 'tests', 'fuzz', 'hooks.py'),
  } });
  const [code] = await once(run, 'exit');
  status = code ?? 1;
  console.log(`schemathesis: exit ${status} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await stack.stop();
  await fake.stop();
}
process.exit(status);
