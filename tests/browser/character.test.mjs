// Issue 15: the character tab as Korean players use it, against the real stack (edge API + fake Nexon Open
// API, which also serves the item icons so nothing is fetched from outside).
// - Korean mode shows no English sentence outside proper nouns, option strings (lang="ko") and the raw JSON,
//   for both fixture characters; English mode shows no untranslated message code.
// - The items are sorted by expected cost (switchable to slot order, kept in the URL); the charts and the
//   share not valued show the valuation's numbers exactly.
// - Icons load lazily with their size reserved; the page works when they do not load.
// - The default options (star catch on) are stated, changeable, and kept in the URL.
// - 375 px without sideways scrolling, AA contrast; screenshots in both languages at 1280 and 375 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, artifactsDir } from '../lib/stack.mjs';
import { launchBrowser, newPage, waitForResult, screenshots, lowContrast } from '../lib/browser.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import { STRINGS } from '../../web/strings.js';

let fake;
let stack;
let browser;
before(async () => {
  fake = await startFakeUpstream();
  stack = await startStack({ vars: { UPSTREAM_BASE_URL: fake.url } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
  await fake?.stop();
});

const KINDS = ['starforce', 'potential', 'additional_potential', 'flame'];

/** Scroll through the whole page (lazy images load as they come near the viewport), then wait for every icon. */
async function scrollThrough(page) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  for (let y = 0; y <= height; y += 500) {
    await page.evaluate((y) => window.scrollTo(0, y), y);
    await page.waitForTimeout(50);
  }
  await page.waitForFunction(() => [...document.querySelectorAll('#panel-character img.item-icon')].every((i) => i.complete), null, { timeout: 20_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
}
const CHARACTERS = [['에반', 'evan'], ['메카닉', 'mechanic']];

async function lookUp(page, lang, name, extra = '') {
  await page.goto(`${stack.url}/?tab=character&lang=${lang}&ch.name=${encodeURIComponent(name)}${extra}`);
  const r = await waitForResult(page, 'character', { name });
  assert.equal(r.state, 'done', r.error);
  return JSON.parse(r.raw).valuation;
}

/** Text of the character tab's results outside lang="ko" (proper nouns, the game's strings) and the raw JSON:
 * text nodes and the labelling attributes. */
function visibleText(page) {
  return page.evaluate(() => {
    const out = [];
    const root = document.querySelector('#panel-character .results');
    const exempt = (el) => el.closest('[lang="ko"], pre');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!exempt(n.parentElement) && n.textContent.trim()) out.push(n.textContent.trim());
    }
    for (const el of root.querySelectorAll('[aria-label], [title]')) {
      for (const a of ['aria-label', 'title']) if (el.getAttribute(a) && !exempt(el)) out.push(el.getAttribute(a));
    }
    return out;
  });
}

// Two English words in a row (a sentence or a phrase), once citations (owner/repo, file names) and code-like
// tokens (snake_case, key=value) are removed.
const ENGLISH = /\b[A-Za-z]{3,}\s+[A-Za-z]{3,}\b/;
const strip = (s) => s.replace(/\S*[/=_.]\S*/g, ' ');

test('Korean mode: no English sentence from the engine or the page, for both characters', async () => {
  const { page, errors } = await newPage(browser);
  for (const [name] of CHARACTERS) {
    const v = await lookUp(page, 'ko', name);
    const english = (await visibleText(page)).filter((s) => ENGLISH.test(strip(s)));
    assert.deepEqual(english, [], `${name}: English in Korean mode`);
    // Every message rendered from its code: none shows its English `message`.
    const messages = v.items.flatMap((i) => i.not_valued).map((n) => n.message);
    const shown = await page.$$eval('#panel-character [data-source="engine"]', (els) => els.map((e) => e.textContent));
    for (const m of messages) assert.ok(!shown.includes(m), `${name}: "${m}" shown in English`);
    assert.ok(shown.length >= v.items.reduce((n, i) => n + i.not_valued.length, 0), name);
  }
  assert.deepEqual(errors, []);
});

test('English mode: every message has its text, no raw code is shown', async () => {
  const { page, errors } = await newPage(browser);
  for (const [name] of CHARACTERS) {
    const v = await lookUp(page, 'en', name);
    const text = (await visibleText(page)).join('\n');
    const codes = new Set([...v.notes, ...v.items.flatMap((i) => [...i.not_valued,
      ...KINDS.flatMap((k) => [...(i[k]?.notes ?? []), i[k]?.zero_reason].filter(Boolean))])].map((m) => m.code));
    assert.ok(codes.size > 10, `${name}: ${codes.size} codes`);
    for (const c of codes) {
      assert.ok(STRINGS.en[`msg.${c}`], `no English text for ${c}`);
      assert.ok(!text.includes(c), `${name}: raw code ${c} shown`);
    }
    assert.doesNotMatch(text, /\bmsg\.|\{\w+\}/, `${name}: an unfilled text`);
  }
  assert.deepEqual(errors.filter((e) => /i18n/.test(e)), [], 'a missing text');
  assert.deepEqual(errors, []);
});

test('items are sorted by expected cost or by slot (kept in the URL); charts and the share not valued match', async () => {
  const { page, errors } = await newPage(browser);
  for (const [name] of CHARACTERS) {
    const v = await lookUp(page, 'ko', name);
    const order = () => page.$$eval('#panel-character tbody [data-item]', (els) => els.map((e) => Number(e.dataset.item)));
    const byCost = [...v.items].sort((a, b) => (b.mean_mesos ?? -1) - (a.mean_mesos ?? -1) || a.id - b.id).map((i) => i.id);
    assert.deepEqual(await order(), byCost, `${name}: costliest first`);
    assert.ok(byCost.length === v.items.length);
    // The item chart: one row per item with a meso cost, each segment exactly the item's kind cost.
    const segs = await page.$$eval('[data-testid="ch-chart-items"] rect[data-value]', (rs) => rs.map((r) => ({ series: r.dataset.series, value: Number(r.dataset.value) })));
    const expected = byCost.map((id) => v.items[id]).filter((i) => i.mean_mesos > 0)
      .flatMap((i) => KINDS.map((k) => ({ series: `k-${k}`, value: i[k]?.mean_mesos ?? 0 })).filter((s) => s.value > 0));
    assert.deepEqual(segs, expected, `${name}: item chart`);
    // The presets chart.
    const sets = await page.$$eval('[data-testid="ch-chart-sets"] rect[data-value]', (rs) => rs.map((r) => Number(r.dataset.value)));
    assert.deepEqual(sets, v.sets.flatMap((s) => KINDS.map((k) => s.summary.by_kind[k].mean_mesos ?? 0).filter((x) => x > 0)), `${name}: sets chart`);
    // The share not valued, with its reasons counted.
    let missing = 0;
    const reasons = {};
    for (const it of v.items) {
      for (const k of KINDS) {
        if (it[k]) continue;
        missing += 1;
        const code = it.not_valued.find((n) => n.kind === k).reason_code;
        reasons[code] = (reasons[code] ?? 0) + 1;
      }
    }
    const box = page.locator('[data-testid="ch-unvalued"]');
    assert.equal(Number(await box.getAttribute('data-missing')), missing);
    assert.equal(Number(await box.getAttribute('data-total')), v.items.length * 4);
    const shownReasons = Object.fromEntries(await page.$$eval('[data-testid="ch-unvalued"] li', (ls) => ls.map((l) => [l.dataset.reason, Number(l.dataset.count)])));
    assert.deepEqual(shownReasons, reasons, `${name}: reasons counted`);

    // Slot order, and the URL keeps it.
    await page.selectOption('#panel-character form.lookup select[name="sort"]', 'slot');
    await page.waitForFunction(() => document.querySelector('[data-testid="ch-sort-state"]')?.dataset.sort === 'slot');
    assert.deepEqual(await order(), v.items.map((i) => i.id), `${name}: slot order`);
    assert.match(page.url(), /ch\.sort=slot/);
    await page.reload();
    await waitForResult(page, 'character', { name });
    assert.equal(await page.locator('[data-testid="ch-sort-state"]').getAttribute('data-sort'), 'slot');
    assert.deepEqual(await order(), v.items.map((i) => i.id), `${name}: slot order after reload`);
    await page.selectOption('#panel-character form.lookup select[name="sort"]', 'cost');
  }
  assert.deepEqual(errors, []);
});

test('defaults: star catch on, stated in the response and the page, changeable and kept in the URL', async () => {
  const { page, errors } = await newPage(browser);
  const v = await lookUp(page, 'ko', '에반');
  assert.equal(v.options.starforce.star_catch, true);
  assert.equal(await page.isChecked('#panel-character form.whatif input[name="star_catch"]'), true);
  const stated = await page.textContent('[data-testid="ch-options"]');
  assert.ok(stated.includes(STRINGS.ko['ch.options_used'].split('{')[0].trim()), stated);
  assert.ok(stated.includes(`${STRINGS.ko['ch.on']}`), stated);
  await page.uncheck('#panel-character form.whatif input[name="star_catch"]');
  await page.waitForFunction(() => {
    const p = document.getElementById('panel-character');
    return p.dataset.state === 'done' && JSON.parse(p.dataset.request).options?.starforce?.star_catch === false;
  }, null, { timeout: 30_000 });
  const local = { raw: await page.textContent('#panel-character .raw pre') };
  assert.equal(JSON.parse(local.raw).options.starforce.star_catch, false);
  assert.ok(JSON.parse(local.raw).total.by_kind.starforce.mean_mesos > v.total.by_kind.starforce.mean_mesos, 'no star catch costs more');
  assert.match(page.url(), /ch\.star_catch=0|ch\.star_catch=false/);
  assert.deepEqual(errors, []);
});

test('icons: lazy, size reserved, from the fake upstream; the page works without them', async () => {
  const { page, errors } = await newPage(browser);
  const outside = [];
  page.on('request', (r) => { const u = new URL(r.url()); if (u.hostname !== '127.0.0.1' && u.protocol.startsWith('http')) outside.push(r.url()); });
  const v = await lookUp(page, 'ko', '에반');
  const imgs = await page.$$eval('#panel-character img.item-icon', (is) => is.map((i) => ({
    src: i.getAttribute('src'), loading: i.getAttribute('loading'), w: i.getAttribute('width'), h: i.getAttribute('height'),
    box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height],
  })));
  assert.equal(imgs.length, v.items.filter((i) => i.icon).length);
  assert.ok(imgs.length >= 30, `${imgs.length} icons`);
  for (const i of imgs) {
    assert.equal(i.loading, 'lazy');
    assert.deepEqual([i.w, i.h, ...i.box], ['32', '32', 32, 32], 'space reserved before and after loading');
    assert.ok(i.src.startsWith(fake.url), i.src);
  }
  assert.deepEqual(new Set(imgs.map((i) => i.src)), new Set(v.items.map((i) => i.icon).filter(Boolean)));
  // Lazy: at the top of the page the icons far below have not been requested yet.
  const before = await page.$$eval('#panel-character img.item-icon', (is) => is.filter((i) => i.complete).length);
  assert.ok(before < imgs.length, `${before} of ${imgs.length} icons loaded before scrolling`);
  // Scrolled through, every icon loads.
  await scrollThrough(page);
  assert.ok(await page.$$eval('#panel-character img.item-icon', (is) => is.every((i) => i.naturalWidth === 32)));
  assert.deepEqual(outside, [], 'nothing fetched from outside');
  assert.deepEqual(errors, []);

  // Without icons (they fail to load): the tab still shows everything, and each icon keeps its box.
  const { page: p2 } = await newPage(browser);
  await p2.route('**/static/maplestory/item/icon/**', (r) => r.abort());
  const v2 = await lookUp(p2, 'ko', '에반');
  assert.equal(await p2.locator('#panel-character tbody [data-item]').count(), v2.items.length);
  await scrollThrough(p2);
  const boxes = await p2.$$eval('#panel-character .item-icon', (is) => is.map((i) => [i.getBoundingClientRect().width, i.getBoundingClientRect().height]));
  for (const b of boxes) assert.deepEqual(b, [32, 32]);
});

test('375 px, contrast, and screenshots of the character tab in both languages', async () => {
  const { page, errors } = await newPage(browser);
  for (const lang of ['ko', 'en']) {
    await lookUp(page, lang, '에반');
    await scrollThrough(page);
    assert.deepEqual(await lowContrast(page), [], `${lang}: low-contrast text`);
    assert.equal(await screenshots(page, artifactsDir(), `character-issue15-${lang}`), 0, `${lang}: no sideways scrolling at 375 px`);
    // The sort control is reachable and usable from the keyboard.
    await page.focus('#panel-character form.lookup select[name="sort"]');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'sort');
  }
  assert.deepEqual(errors, []);
});
