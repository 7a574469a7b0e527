// Headless Debian Chromium driven by playwright-core (no browser download).
import { chromium } from 'playwright-core';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records console errors and uncaught exceptions into `errors`. */
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors };
}

/** JSON with object keys sorted, to compare two requests regardless of key order. */
export function canonical(value) {
  return JSON.stringify(value, (k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]])) : v));
}

/**
 * Wait until the page shows the result (or error) of `tab` — for `request` if given (compared key-order
 * free) — and return {state, request, raw, error}: the request the page sent, the engine's raw JSON, the
 * shown error text.
 */
export async function waitForResult(page, tab, request, timeout = 30_000) {
  const expected = request === undefined ? null : canonical(request);
  await page.waitForFunction(({ tab, expected }) => {
    const p = document.getElementById(`panel-${tab}`);
    if (!p || !['done', 'error'].includes(p.dataset.state)) return false;
    if (expected === null) return true;
    if (!p.dataset.request) return false;
    const sort = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x));
    return sort(JSON.parse(p.dataset.request)) === expected;
  }, { tab, expected }, { timeout });
  return page.evaluate((tab) => {
    const p = document.getElementById(`panel-${tab}`);
    return {
      state: p.dataset.state,
      request: p.dataset.request ? JSON.parse(p.dataset.request) : null,
      raw: p.querySelector('.raw pre').textContent,
      error: p.querySelector('.error').hidden ? null : p.querySelector('.error').textContent,
    };
  }, tab);
}

/** The shown text and hover title of every `[data-testid]` number in `root` (a CSS selector). */
export async function shownNumbers(page, root) {
  return page.evaluate((root) => Object.fromEntries([...document.querySelectorAll(`${root} data[data-testid]`)]
    .map((e) => [e.dataset.testid, { text: e.textContent, title: e.title, value: e.getAttribute('value') }])), root);
}

/**
 * Records, from the page's first script on, every main-thread long task (`window.__longTasks`, reported,
 * never asserted: a task's duration depends on the machine's load) and every use of the engine's code on
 * the main thread (`window.__mainThreadWasm`: each WebAssembly compile or instantiate call made by the
 * page's window, which the design forbids; the engine runs only in the Web Worker, whose global these
 * wrappers do not touch).
 */
export async function observeLongTasks(page) {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    window.__mainThreadWasm = [];
    for (const name of ['compile', 'compileStreaming', 'instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      WebAssembly[name] = function (...args) {
        window.__mainThreadWasm.push(name);
        return original.apply(this, args);
      };
    }
    for (const name of ['Module', 'Instance']) {
      WebAssembly[name] = new Proxy(WebAssembly[name], {
        construct(target, args) {
          window.__mainThreadWasm.push(name);
          return new target(...args);
        },
      });
    }
  });
}

/**
 * Full-page screenshots of the current page at 1280 px and 375 px wide into `dir` (`<name>-1280.png`,
 * `<name>-375.png`); returns how far the page overflows horizontally at 375 px (0 when it fits).
 */
export async function screenshots(page, dir, name) {
  const { join } = await import('node:path');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(dir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: join(dir, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  return overflow;
}

/**
 * Text whose contrast with its background is below WCAG AA (4.5:1, or 3:1 for large text), among the
 * visible elements of the page that hold text directly. Returns [{text, ratio, color, background}].
 */
export async function lowContrast(page) {
  return page.evaluate(() => {
    const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (c) => { const x = c / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length === 3 || c[3] > 0)) return c;
      }
      return [255, 255, 255];
    };
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (el.closest('svg') || !el.getClientRects().length) continue;
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (!own) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || Number(cs.opacity) === 0) continue;
      const fg = rgba(cs.color);
      const bg = background(el);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        out.push({ text: el.textContent.trim().slice(0, 40), ratio: Number(ratio.toFixed(2)), color: cs.color, background: `rgb(${bg.join(',')})` });
      }
    }
    return out;
  });
}
