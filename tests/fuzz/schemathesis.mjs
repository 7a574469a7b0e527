// Runs schemathesis (the outside OpenAPI fuzzer, pinned in scripts/versions.sh, installed in .venv/ by
// `scripts/setup.sh --tests`) against `wrangler dev --local` with the fake upstream, from the served
// /openapi.json: every check, a fixed seed, bounded examples, the admin token, the per-client rate limit
// respected. Exits with schemathesis's status. Needs `bash scripts/build.sh worker` first.
//   node tests/fuzz/schemathesis.mjs [extra schemathesis args]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, ROOT } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';

const fake = await startFakeUpstream();
const stack = await startStack({ vars: { UPSTREAM_BASE_URL: fake.url } });
let status = 1;
try {
  const started = Date.now();
  const run = spawnSync(join(ROOT, '.venv', 'bin', 'schemathesis'), [
    'run', `${stack.url}/openapi.json`,
    '--checks', 'all', '--seed', '14', '-n', '30', '--rate-limit', '15/s',
    '-H', 'Authorization: Bearer e2e-admin-token',
    ...process.argv.slice(2),
  ], { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } });
  status = run.status ?? 1;
  console.log(`schemathesis: exit ${status} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await stack.stop();
  await fake.stop();
}
process.exit(status);
