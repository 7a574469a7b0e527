// Engine timing, natively and in Wasm under node, on the same cases (engine-cases.json), printed as a
// markdown table with the Wasm/native ratio. Needs `cargo build --release -p pve-api --features
// bundled-data --example bench` and `scripts/build.sh web` first (scripts/bench.sh does both).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../lib/stack.mjs';

const cases = join(ROOT, 'tests', 'bench', 'engine-cases.json');
const targetDir = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
const native = run(join(targetDir, 'release', 'examples', 'bench'), [cases]);
const wasm = run(process.execPath, [join(ROOT, 'tests', 'bench', 'engine-wasm.mjs'), cases]);

const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
console.log('| case | native median | Wasm (node) median | Wasm ÷ native | iterations (native / Wasm) |');
console.log('|---|---|---|---|---|');
for (const n of native) {
  const w = wasm.find((x) => x.name === n.name);
  console.log(`| ${n.name} | ${fmt(n.median_us)} | ${fmt(w.median_us)} | ${(w.median_us / n.median_us).toFixed(2)} | ${n.iterations} / ${w.iterations} |`);
}
