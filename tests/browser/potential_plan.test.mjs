// The potential tab's budget plan (issue 13) against the real stack: pity progress, Miracle Time, the cube
// price and a budget in mesos or cubes build the request; the Wasm engine's answer equals `pve potential`
// value for value, and the shown p_reach and budget_for are those numbers formatted. The inputs live in the
// URL, work from the keyboard, and fit 375 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, runCli, artifactsDir } from '../lib/stack.mjs';
import { launchBrowser, newPage, waitForResult, shownNumbers, screenshots } from '../lib/browser.mjs';
import { formatMeso, formatPercent, formatCount } from '../../web/format.js';
import { STRINGS } from '../../web/strings.js';

let stack;
let browser;
before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

function cli(request) {
  const r = runCli('potential', request);
  assert.equal(r.status, 0, r.stdout);
  return r.stdout;
}

/**
 * The page's engine answer (`raw`: its Wasm API's response object as JSON text) equals the CLI's JSON as
 * values (the same numbers and strings; key order and `1` vs `1.0` are not compared).
 */
function assertSameValues(raw, cliJson, message) {
  assert.deepStrictEqual(JSON.parse(raw), JSON.parse(cliJson), message);
}

function expectShown(shown, id, formatted) {
  assert.ok(shown[id], `no figure ${id} on the page`);
  assert.equal(shown[id].text, formatted.text, id);
  assert.equal(shown[id].title, formatted.title, `${id} title`);
}

/** The plan's figures on the page equal the CLI's, formatted in `lang`. */
async function expectPlan(page, r, lang) {
  const shown = await shownNumbers(page, '#panel-potential');
  expectShown(shown, 'pot-p_reach', formatPercent(r.plan.p_reach, lang));
  for (const q of ['p50', 'p90', 'p99']) {
    const x = r.plan.budget_for[q];
    const f = r.plan.unit === 'mesos' ? formatMeso(x, lang) : formatCount(x, lang, 0);
    expectShown(shown, `pot-budget_${q}`, f);
  }
  const codes = await page.$$eval('#panel-potential .plan-notes li', (li) => li.map((e) => e.dataset.code));
  assert.deepEqual(codes, r.plan.notes.map((n) => n.code));
  const texts = await page.$$eval('#panel-potential .plan-notes li', (li) => li.map((e) => e.textContent));
  r.plan.notes.forEach((n, i) => {
    const s = STRINGS[lang][`msg.${n.code}`].replace(/\{(\w+)\}/g, (_, k) => String(n.params[k]));
    assert.equal(texts[i], s, n.code);
  });
}

test('potential plan: budget, pity progress, Miracle Time and cube price give the request; the page equals pve potential', async () => {
  const { page, errors } = await newPage(browser, { width: 375, height: 800 });
  await page.goto(`${stack.url}/?tab=potential`);
  const first = await waitForResult(page, 'potential');
  assert.equal(first.state, 'done', first.error);
  assert.equal(first.request.plan, undefined, 'no plan by default');
  assert.equal(await page.locator('[data-testid="pot-plan"]').count(), 0);

  // A black cube on a 유니크 weapon, 50 attempts into the pity, in Miracle Time, cubes at 1,000만, 10억 budget.
  const form = '#panel-potential form';
  await page.selectOption(`${form} select[name="grade"]`, '유니크');
  await page.fill(`${form} input[name="pity_progress"]`, '50');
  // Miracle Time from the keyboard: focus the checkbox and press Space.
  await page.focus(`${form} input[name="miracle_time"]`);
  await page.keyboard.press('Space');
  await page.fill(`${form} input[name="cube_price"]`, '10000000');
  await page.fill(`${form} input[name="budget_mesos"]`, '1000000000');
  const request = {
    cube: 'black', part: '무기', level: 200, grade: '유니크', goal: { at_least: { att_pct: 21 } },
    pity_progress: 50, miracle_time: true, cube_price_mesos: 10000000, plan: { budget_mesos: 1000000000 },
  };
  const shownResult = await waitForResult(page, 'potential', request);
  assert.equal(shownResult.state, 'done', shownResult.error);
  const expected = cli(request);
  assertSameValues(shownResult.raw, expected);
  const r = JSON.parse(expected);
  assert.equal(r.plan.unit, 'mesos');
  await expectPlan(page, r, 'ko');
  expectShown(await shownNumbers(page, '#panel-potential'), 'pot-mean_cost', formatMeso(r.mean_cost, 'ko'));

  // The inputs are in the URL: a reload with it gives the same request.
  await page.waitForFunction(() => new URLSearchParams(location.search).get('pot.budget_mesos') === '1000000000');
  const url = page.url();
  const again = await (await newPage(browser, { width: 375, height: 800 })).page;
  await again.goto(url);
  const reloaded = await waitForResult(again, 'potential', request);
  assertSameValues(reloaded.raw, expected);
  await again.close();

  // A budget in cubes, in English.
  await page.selectOption(`${form} select[name="budget_unit"]`, 'cubes');
  await page.fill(`${form} input[name="budget_cubes"]`, '150');
  const cubesReq = { ...request, plan: { budget_cubes: 150 } };
  const cubes = await waitForResult(page, 'potential', cubesReq);
  assert.equal(cubes.state, 'done', cubes.error);
  assertSameValues(cubes.raw, cli(cubesReq));
  await page.focus('#lang-toggle');
  await page.keyboard.press('Enter');
  await page.waitForFunction((label) => [...document.querySelectorAll('#panel-potential [data-testid="pot-plan"] dt')]
    .some((dt) => dt.textContent === label), STRINGS.en['pot.p_reach']);
  const en = await waitForResult(page, 'potential', cubesReq);
  await expectPlan(page, JSON.parse(en.raw), 'en');

  // A meso reset: the cube price is hidden and not sent; the budget is counted on the reset prices' grid.
  await page.selectOption(`${form} select[name="budget_unit"]`, 'mesos');
  await page.selectOption(`${form} select[name="cube"]`, 'meso_reset_main');
  await page.selectOption(`${form} select[name="grade"]`, '레어');
  await page.fill(`${form} input[name="pity_progress"]`, '3');
  assert.equal(await page.isHidden(`${form} input[name="cube_price"]`), true);
  const resetReq = {
    cube: 'meso_reset_main', part: '무기', level: 200, grade: '레어', goal: { at_least: { att_pct: 21 } },
    pity_progress: 3, miracle_time: true, plan: { budget_mesos: 1000000000 },
  };
  const reset = await waitForResult(page, 'potential', resetReq);
  assert.equal(reset.state, 'done', reset.error);
  const resetCli = cli(resetReq);
  assertSameValues(reset.raw, resetCli);
  await expectPlan(page, JSON.parse(resetCli), 'en');

  // An out-of-range pity progress is the engine's error, shown as such (no number).
  await page.fill(`${form} input[name="pity_progress"]`, '10');
  const bad = await waitForResult(page, 'potential', { ...resetReq, pity_progress: 10 });
  assert.equal(bad.state, 'error');
  const err = JSON.parse(runCli('potential', bad.request).stdout).error;
  assert.equal(err.code, 'out_of_range');
  assert.equal(bad.error, `${STRINGS.en[`err.${err.code}`]} (${err.code}): ${err.message}`);
  await page.fill(`${form} input[name="pity_progress"]`, '3');
  await waitForResult(page, 'potential', resetReq);
  assert.equal(await screenshots(page, artifactsDir(), 'potential-plan'), 0, 'no horizontal scrolling at 375 px');
  assert.deepEqual(errors, []);
});
