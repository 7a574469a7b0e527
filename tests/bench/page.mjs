// The page in headless Chromium, served as static files from 127.0.0.1 (the calculator tabs need no API):
// cold page load → first star force result (Wasm fetched with instantiateStreaming: served as
// application/wasm), and star force input change → result painted over 50 changes (the `pve:starforce`
// User Timing measure, which ends when the result is fully painted).
// Usage: node tests/bench/page.mjs [label=dir ...]   (default: page=web). Each dir is a built web/ tree.
// Prints one markdown row per dir. Timings are reported, never asserted.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, resolve } from 'node:path';
import { launchBrowser, newPage, waitForResult } from '../lib/browser.mjs';

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.tsv': 'text/tab-separated-values', '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
};

function serve(dir) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = join(root, path.endsWith('/') ? path + 'index.html' : path);
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const DEFAULT_SF = {
  item_level: 200, from_star: 0, to_star: 22, ruleset: 'kms', star_catch: true, safeguard: false,
  events: { thirty_off: false, boom_reduction: false, five_ten_fifteen: false, plus_one: false },
  mvp: 'none', pc_room: false, spare_cost: 0,
};

export async function measure(browser, dir) {
  const server = await serve(dir);
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    // Cold loads: a fresh page each time (no-store, so nothing is cached); the first result's end time
    // relative to the navigation start.
    const cold = [];
    for (let i = 0; i < 5; i++) {
      const { page } = await newPage(browser);
      await page.goto(url);
      const r = await waitForResult(page, 'starforce', DEFAULT_SF);
      if (r.state !== 'done') throw new Error(r.error);
      cold.push(await page.evaluate(() => {
        const m = performance.getEntriesByName('pve:starforce').at(-1);
        return m.startTime + m.duration;
      }));
      await page.close();
    }
    const { page } = await newPage(browser);
    await page.goto(url);
    await waitForResult(page, 'starforce', DEFAULT_SF);
    const times = [];
    const engine = [];
    const render = [];
    for (let i = 0; i < 50; i++) {
      const to = 15 + (i % 16); // 15..30, every change a different request than the one shown
      const before = await page.evaluate(() => performance.getEntriesByName('pve:starforce').length);
      await page.fill('#panel-starforce form input[name="to_star"]', String(to));
      const r = await waitForResult(page, 'starforce', { ...DEFAULT_SF, to_star: to });
      if (r.state !== 'done') throw new Error(r.error);
      const m = await page.waitForFunction((n) => {
        const all = performance.getEntriesByName('pve:starforce');
        const render = performance.getEntriesByName('pve:render:starforce').at(-1);
        return all.length > n && { duration: all.at(-1).duration, engine: all.at(-1).detail.engine_ms, render: render?.duration };
      }, before);
      const v = await m.jsonValue();
      // Every shown result records its painting before the whole measure (web/calculator.js).
      if (v.render === undefined) throw new Error('a star force result without its pve:render:starforce measure');
      times.push(v.duration);
      engine.push(v.engine);
      render.push(v.render);
    }
    await page.close();
    return { cold, times, engine, render };
  } finally {
    server.close();
  }
}

export const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

// Run as a script (not when imported by issue16.mjs).
if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();

async function main() {
const dirs = process.argv.length > 2
  ? process.argv.slice(2).map((a) => { const i = a.indexOf('='); return [a.slice(0, i), a.slice(i + 1)]; })
  : [['page', 'web']];
const browser = await launchBrowser();
try {
  console.log('| page | star force input change → painted, p50 / p95 of 50 (ms) | engine in the Worker p50 / p95 (ms) | painting alone p50 / p95 (ms) | cold load → first star force result, median of 5 (ms) |');
  console.log('|---|---|---|---|---|');
  for (const [label, dir] of dirs) {
    const { cold, times, engine, render } = await measure(browser, dir);
    const f = (x) => x.toFixed(1);
    console.log(`| ${label} (${dir}) | ${f(pct(times, 50))} / ${f(pct(times, 95))} | ${f(pct(engine, 50))} / ${f(pct(engine, 95))} | ` +
      `${f(pct(render, 50))} / ${f(pct(render, 95))} | ${f(pct(cold, 50))} |`);
  }
} finally {
  await browser.close();
}
}
