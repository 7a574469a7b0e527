import { writeFileSync } from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
const fake = await startFakeUpstream();
const stack = await startStack({ vars: { UPSTREAM_BASE_URL: fake.url, UPSTREAM_RATE_PER_SEC: '1000', UPSTREAM_BURST: '1000', CLIENT_RATE_PER_SEC: '100000', CLIENT_BURST: '100000' } });
writeFileSync('/tmp/hold-stack.url', stack.url);
console.log(stack.url);
setInterval(() => writeFileSync('/tmp/hold-stack.log', stack.logs()), 5000);
process.on('SIGTERM', async () => { writeFileSync('/tmp/hold-stack.log', stack.logs()); await stack.stop(); await fake.stop(); process.exit(0); });
