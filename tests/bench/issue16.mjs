// Issue 16's table, before and after in one run: the baseline tree (built by scripts/bench.sh in this run
// from BENCH_BASE) and this tree, on the same machine in the same state. Every number is measured here:
// sizes with `gzip -9`, the engine with each tree's own native and Wasm harnesses (engine/api/examples/
// bench.rs and tests/bench/engine-wasm.mjs on its own engine-cases.json), the page with page.mjs's
// `measure` in headless Chromium, and callgrind instruction counts (load-independent) of the native
// harness. Timings are reported, never asserted.
// Usage: node tests/bench/issue16.mjs <baseline tree> <baseline CARGO_TARGET_DIR>
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from '../lib/stack.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { measure, pct } from './page.mjs';

const [baseRoot, baseTarget] = process.argv.slice(2);
if (!baseRoot || !baseTarget) throw new Error('usage: node tests/bench/issue16.mjs <baseline tree> <baseline target dir>');
const trees = {
  base: { root: baseRoot, target: baseTarget },
  now: { root: ROOT, target: process.env.CARGO_TARGET_DIR || join(ROOT, 'target') },
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}
const jsonLines = (text) => text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const gzip9 = (file) => spawnSync('gzip', ['-9c', file], { maxBuffer: 1 << 26 }).stdout.length;
const size = (file) => readFileSync(file).length;
const dataFile = (root) => {
  const dir = join(root, 'web', 'data');
  return join(dir, readdirSync(dir).find((f) => f.startsWith('potential.')));
};

const SF30 = 'star force 0→30, lvl 250, with distribution';
const VAL = 'valuation: Evan fixture (24 items, 3 presets)';
const VAL_TOTALS = 'valuation: Evan fixture, totals only (no potential quantiles)';

// Engine timings: each tree's harnesses on its own case list.
const engine = {};
for (const [name, t] of Object.entries(trees)) {
  const cases = join(t.root, 'tests', 'bench', 'engine-cases.json');
  const native = jsonLines(run(join(t.target, 'release', 'examples', 'bench'), [cases], { cwd: t.root }).stdout);
  const wasm = jsonLines(run(process.execPath, [join(t.root, 'tests', 'bench', 'engine-wasm.mjs'), cases], { cwd: t.root }).stdout);
  engine[name] = { native, wasm };
}
const us = (name, runtime, caseName) => engine[name][runtime].find((c) => c.name === caseName)?.median_us;

// Callgrind: instructions per call of the native harness on a few cases (5 timed calls + 1 check call).
function instructions(t, caseNames) {
  const all = JSON.parse(readFileSync(join(t.root, 'tests', 'bench', 'engine-cases.json'), 'utf8'));
  const out = {};
  for (const c of all.filter((x) => caseNames.includes(x.name))) {
    // The case file sits in the tree's tests/bench so that request_file paths resolve as usual.
    const file = join(t.root, 'tests', 'bench', `.callgrind-case-${process.pid}.json`);
    writeFileSync(file, JSON.stringify([{ ...c, budget_ms: 0 }]));
    const dir = mkdtempSync(join(tmpdir(), 'cg-'));
    try {
      const r = run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${join(dir, 'out')}`,
        join(t.target, 'release', 'examples', 'bench'), file], { cwd: t.root });
      const calls = jsonLines(r.stdout)[0].iterations + 1;
      const ir = Number(/refs:\s+([\d,]+)/.exec(r.stderr)[1].replaceAll(',', ''));
      out[c.name] = ir / calls;
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(file, { force: true });
    }
  }
  return out;
}
const cg = {
  base: instructions(trees.base, [SF30, VAL]),
  now: instructions(trees.now, [SF30, VAL, VAL_TOTALS]),
};

// The page, in headless Chromium.
const page = {};
const browser = await launchBrowser();
try {
  for (const [name, t] of Object.entries(trees)) page[name] = await measure(browser, join(t.root, 'web'));
} finally {
  await browser.close();
}

const kb = (b) => `${(b / 1000).toFixed(1)} KB`;
const ms = (u) => (u === undefined ? 'not measured' : `${(u / 1000).toFixed(2)} ms`);
const f1 = (x) => x.toFixed(1);
const ratio = (a, b) => (a === undefined || b === undefined ? '—' : (b / a).toFixed(2));
const met = (ok) => (ok ? 'met' : '**missed**');
const wasmFile = (root) => join(root, 'web', 'pkg', 'pve_wasm_bg.wasm');
const w = { base: wasmFile(baseRoot), now: wasmFile(ROOT) };
const d = { base: dataFile(baseRoot), now: dataFile(ROOT) };
const p95 = { base: pct(page.base.times, 95), now: pct(page.now.times, 95) };
const p50 = { base: pct(page.base.times, 50), now: pct(page.now.times, 50) };
const cold = { base: pct(page.base.cold, 50), now: pct(page.now.cold, 50) };

console.log('| measure | baseline | now | now ÷ baseline | target | |');
console.log('|---|---|---|---|---|---|');
console.log(`| browser Wasm, gzip -9 (raw) | ${kb(gzip9(w.base))} (${kb(size(w.base))}) | ${kb(gzip9(w.now))} (${kb(size(w.now))}) | ${ratio(gzip9(w.base), gzip9(w.now))} | ≤ 150 KB | ${met(gzip9(w.now) <= 150_000)} |`);
// The module the page's engine Worker loads first, where a tree has one (issue 16: the star force module).
const sfFile = (root) => join(root, 'web', 'pkg', 'pve_wasm_starforce_bg.wasm');
const sfSize = (root) => (existsSync(sfFile(root)) ? `${kb(gzip9(sfFile(root)))} (${kb(size(sfFile(root)))})` : 'none (one module)');
console.log(`| star force module the page loads first, gzip -9 (raw); the full module above on first use of another tab | ${sfSize(baseRoot)} | ${sfSize(ROOT)} | — | (≤ 150 KB is the full module's target) | — |`);
console.log(`| potential data asset, gzip -9 (raw) | ${kb(gzip9(d.base))} (${kb(size(d.base))}, ${d.base.split('/').pop()}) | ${kb(gzip9(d.now))} (${kb(size(d.now))}, ${d.now.split('/').pop()}) | ${ratio(gzip9(d.base), gzip9(d.now))} | ≤ 90 KB | ${met(gzip9(d.now) <= 90_000)} |`);
console.log(`| star force tab: input change → painted, p95 (p50) of 50 changes | ${f1(p95.base)} ms (${f1(p50.base)}) | ${f1(p95.now)} ms (${f1(p50.now)}) | ${ratio(p95.base, p95.now)} | ≤ 30 ms | ${met(p95.now <= 30)} |`);
console.log(`| cold page load → first star force result, median of 5 | ${f1(cold.base)} ms | ${f1(cold.now)} ms | ${ratio(cold.base, cold.now)} | measured | — |`);
console.log(`| valuation of the Evan fixture in Wasm, totals only (baseline: the full valuation, it has no option) | ${ms(us('base', 'wasm', VAL))} | ${ms(us('now', 'wasm', VAL_TOTALS))} (full: ${ms(us('now', 'wasm', VAL))}) | ${ratio(us('base', 'wasm', VAL), us('now', 'wasm', VAL_TOTALS))} | ≤ 5 ms | ${met(us('now', 'wasm', VAL_TOTALS) <= 5000)} |`);
console.log(`| star force 0→30 with distribution, native | ${ms(us('base', 'native', SF30))} | ${ms(us('now', 'native', SF30))} | ${ratio(us('base', 'native', SF30), us('now', 'native', SF30))} | < 1 ms | ${met(us('now', 'native', SF30) < 1000)} |`);
const M = (x) => (x === undefined ? '—' : `${(x / 1e6).toFixed(2)} M`);
console.log(`| callgrind: instructions per call, star force 0→30 native | ${M(cg.base[SF30])} | ${M(cg.now[SF30])} | ${ratio(cg.base[SF30], cg.now[SF30])} | (load-independent) | — |`);
console.log(`| callgrind: instructions per call, valuation Evan native (now: totals only; full in brackets) | ${M(cg.base[VAL])} | ${M(cg.now[VAL_TOTALS])} (${M(cg.now[VAL])}) | ${ratio(cg.base[VAL], cg.now[VAL_TOTALS])} | (load-independent) | — |`);
