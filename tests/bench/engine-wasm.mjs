// Wasm engine timing for scripts/bench.sh: the browser build (web/pkg, built by `scripts/build.sh web`)
// loaded in node, timing each case of engine-cases.json as the native example does: the typed Wasm API
// (`starforce(request)`, ..., a JS object in and out, as the page's engine Worker calls it), or
// `compute(op, json)` in trees from before it. Prints one JSON line per case.
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = await import(join(ROOT, 'web', 'pkg', 'pve_wasm.js'));
pkg.initSync({ module: readFileSync(join(ROOT, 'web', 'pkg', 'pve_wasm_bg.wasm')) });
if (pkg.install_potential_data) {
  // The file the page serves: the compact format where the tree has it (older trees: the text file).
  const bin = join(ROOT, 'engine', 'data', 'potential.bin');
  pkg.install_potential_data(readFileSync(existsSync(bin) ? bin : join(ROOT, 'engine', 'data', 'potential.tsv')));
}

const cases = JSON.parse(readFileSync(process.argv[2] ?? join(ROOT, 'tests', 'bench', 'engine-cases.json'), 'utf8'));
for (const c of cases) {
  let request = c.request_file ? readFileSync(join(ROOT, c.request_file), 'utf8') : JSON.stringify(c.request);
  // With `options`, the file is the equipment of a `{equipment, options}` request (as the native harness).
  if (c.request_file && c.options) request = `{"equipment":${request},"options":${JSON.stringify(c.options)}}`;
  const typed = typeof pkg[c.op] === 'function' && !pkg.compute;
  const input = typed ? JSON.parse(request) : request;
  const call = typed ? () => pkg[c.op](input) : () => pkg.compute(c.op, input);
  call(); // throws (and fails the run) if the case does not compute
  const samples = [];
  const budget = c.budget_ms ?? 1000;
  const start = performance.now();
  while (samples.length < 5 || (performance.now() - start < budget && samples.length < 100_000)) {
    const t = performance.now();
    call();
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(JSON.stringify({ name: c.name, op: c.op, runtime: 'wasm-node', iterations: samples.length, median_us: median, mean_us: mean }));
}
