// The star force planner on the page (issue 13), against the real stack: budget (meso input), spares,
// per-star safeguard and the Shining preset reach the engine as `pve starforce` requests; the planner's
// figures are those numbers formatted; the CDF chart draws every `cost_cdf` point with the budget marked;
// the frontier chart has one labelled, focusable point per policy; the state survives a shared URL;
// no engine code on the main thread (long tasks printed); the page fits 375 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, runCli, artifactsDir } from '../lib/stack.mjs';
import { launchBrowser, newPage, waitForResult, shownNumbers, observeLongTasks, screenshots } from '../lib/browser.mjs';
import { startFakeUpstream } from '../fake-upstream/server.mjs';
import { formatMeso, formatPercent } from '../../web/format.js';

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

function cli(op, request) {
  const r = runCli(op, request);
  assert.equal(r.status, 0, r.stdout);
  return r.stdout;
}

function expectShown(shown, id, formatted) {
  assert.ok(shown[id], `no figure ${id} on the page`);
  assert.equal(shown[id].text, formatted.text, id);
  assert.equal(shown[id].title, formatted.title, `${id} title`);
}

const SF = '#panel-starforce form';

test('star force planner: the page equals pve starforce, draws cost_cdf and the frontier', async () => {
  const { page, errors } = await newPage(browser);
  await observeLongTasks(page);
  await page.goto(`${stack.url}/?tab=starforce`);
  await waitForResult(page, 'starforce');
  // Long tasks are counted from here: page load (module and Wasm start-up) is not the planner's work.
  const t0 = await page.evaluate(() => performance.now());
  await page.fill(`${SF} input[name="from_star"]`, '12');
  await page.fill(`${SF} input[name="budget"]`, '30000000000');
  await page.fill(`${SF} input[name="spares"]`, '2');
  await page.check(`${SF} input[name="sg17"]`);
  await page.selectOption(`${SF} select[name="event"]`, 'shining');
  const request = {
    item_level: 200, from_star: 12, to_star: 22, ruleset: 'kms', star_catch: true, safeguard: false,
    events: { plus_one: false }, event: 'shining', mvp: 'none', pc_room: false, spare_cost: 0,
    safeguard_stars: [17], plan: { budget_mesos: 30000000000, spares: 2 },
  };
  const res = await waitForResult(page, 'starforce', request);
  assert.equal(res.state, 'done', res.error);
  const raw = cli('starforce', request);
  // The Wasm API answers with a typed object (its JSON text in `raw`); the values equal the CLI's.
  assert.deepStrictEqual(JSON.parse(res.raw), JSON.parse(raw), 'the page has the CLI values');
  const r = JSON.parse(raw);
  const shown = await shownNumbers(page, '#panel-starforce');
  expectShown(shown, 'sf-plan-p_reach', formatPercent(r.plan.p_reach, 'ko'));
  expectShown(shown, 'sf-plan-error_bound', formatPercent(r.plan.error_bound, 'ko'));
  for (const k of ['p50', 'p90', 'p99']) {
    if (r.plan.budget_for[k] !== null) expectShown(shown, `sf-plan-budget_${k}`, formatMeso(r.plan.budget_for[k], 'ko'));
  }
  expectShown(shown, 'sf-plan-best_p_reach', formatPercent(r.plan.best_policy.p_reach, 'ko'));
  const best = await page.textContent('#panel-starforce [data-testid="sf-plan-best"]');
  assert.equal(best, r.plan.best_policy.safeguard_stars.length
    ? r.plan.best_policy.safeguard_stars.map((s) => `${s}★`).join(', ') : '파괴 방지 없음');

  // The CDF is the engine's points (every one), with the budget drawn at its x.
  await page.waitForSelector('#panel-starforce g.point');
  const cdf = await page.evaluate(() => {
    const path = document.querySelector('#panel-starforce svg.chart path[data-points]');
    const v = document.querySelector('#panel-starforce svg.chart g.vline');
    return { points: Number(path.dataset.points), segments: (path.getAttribute('d').match(/[ML]/g) ?? []).length, budget: v && Number(v.dataset.x) };
  });
  assert.equal(cdf.points, r.cost_cdf.length);
  assert.equal(cdf.segments, r.cost_cdf.length, 'one vertex per cost_cdf point');
  assert.equal(cdf.budget, 30000000000);

  // The frontier: one focusable point per policy, at the engine's means; the breakpoints as a table.
  const pts = await page.$$eval('#panel-starforce g.point', (gs) => gs.map((g) => ({
    x: Number(g.dataset.x), y: Number(g.dataset.y), tab: g.getAttribute('tabindex'),
  })));
  assert.deepEqual(pts.map((p) => [p.x, p.y]).sort((a, b) => a[0] - b[0]),
    r.frontier.map((f) => [f.mean_cost, f.mean_booms]).sort((a, b) => a[0] - b[0]));
  assert.ok(pts.every((p) => p.tab === '0'), 'keyboard-reachable points');
  assert.equal(await page.locator('#panel-starforce [data-testid="sf-breakpoints"] tbody tr').count(),
    r.spare_price_breakpoints.length);

  // A shared URL reproduces the request.
  const other = await browser.newPage();
  await other.goto(page.url());
  const again = await waitForResult(other, 'starforce', request);
  assert.deepStrictEqual(JSON.parse(again.raw), JSON.parse(raw));
  await other.close();

  const overflow = await screenshots(page, artifactsDir(), 'starforce-plan');
  assert.equal(overflow, 0, 'fits 375 px');
  const { long, wasm } = await page.evaluate((t0) => ({
    long: window.__longTasks.filter((e) => e.start >= t0).map((e) => Math.round(e.duration)),
    wasm: window.__mainThreadWasm,
  }), t0);
  assert.deepEqual(wasm, [], 'the planner ran in the Worker: no Wasm on the main thread');
  console.log(`# star force planner: main-thread tasks over 50 ms (measured, not asserted): ${JSON.stringify(long)}`);
  assert.deepEqual(errors, []);
});

test('star force planner: a contradicting event toggle cannot be sent; English labels', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${stack.url}/?tab=starforce&lang=en`);
  await waitForResult(page, 'starforce');
  await page.selectOption(`${SF} select[name="event"]`, 'shining_5_10_15');
  assert.equal(await page.locator(`${SF} input[name="thirty_off"]`).isVisible(), false, 'the preset sets it');
  const res = await waitForResult(page, 'starforce', {
    item_level: 200, from_star: 0, to_star: 22, ruleset: 'kms', star_catch: true, safeguard: false,
    events: { plus_one: false }, event: 'shining_5_10_15', mvp: 'none', pc_room: false, spare_cost: 0,
  });
  assert.equal(res.state, 'done', res.error);
  assert.equal(res.request.event, 'shining_5_10_15');
  assert.deepStrictEqual(JSON.parse(res.raw), JSON.parse(cli('starforce', res.request)));
  assert.deepEqual(errors, []);
});
