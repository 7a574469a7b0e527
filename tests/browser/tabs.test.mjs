// The potential, flame and character tabs against the real stack: the page builds the request from its
// controls, the Wasm engine in the Worker answers with the same bytes as `pve`, and the shown figures are
// those numbers formatted (조/억/만 or B/M/K, exact value in the hover title).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, runCli } from '../lib/stack.mjs';
import { launchBrowser, newPage, waitForResult, shownNumbers } from '../lib/browser.mjs';
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

/** The CLI's answer for `request`, which must equal the page's raw JSON byte for byte. */
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

test('potential: the goal builder, cube and part give the request; the page equals pve potential', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${stack.url}/?tab=potential`);
  const first = await waitForResult(page, 'potential');
  assert.equal(first.state, 'done', first.error);
  assert.deepEqual(first.request, { cube: 'black', part: '무기', level: 200, grade: '레전드리', goal: { at_least: { att_pct: 21 } } });
  assert.equal(first.raw, cli('potential', first.request));

  // Build a two-condition goal with the controls: red cube, ATT% ≥ 21 and boss ≥ 30 on a level-160 weapon.
  const form = '#panel-potential form';
  await page.selectOption(`${form} select[name="cube"]`, 'red');
  await page.fill(`${form} input[name="level"]`, '160');
  await page.click(`${form} .goal .add`);
  await page.selectOption(`${form} .goal-rows li:nth-child(2) .goal-stat`, 'boss_pct');
  await page.fill(`${form} .goal-rows li:nth-child(2) .goal-value`, '30');
  const request = { cube: 'red', part: '무기', level: 160, grade: '레전드리', goal: { at_least: { att_pct: 21, boss_pct: 30 } } };
  const shownResult = await waitForResult(page, 'potential', request);
  assert.equal(shownResult.state, 'done', shownResult.error);
  const expected = cli('potential', request);
  assert.equal(shownResult.raw, expected);
  const r = JSON.parse(expected);
  const shown = await shownNumbers(page, '#panel-potential');
  expectShown(shown, 'pot-p_per_attempt', formatPercent(r.p_per_attempt, 'ko'));
  expectShown(shown, 'pot-mean_attempts', formatCount(r.mean_attempts, 'ko', 1));
  expectShown(shown, 'pot-p90', formatCount(r.attempt_quantiles.p90, 'ko', 0));
  expectShown(shown, 'pot-mean_cubes', formatCount(r.mean_cubes, 'ko', 1));

  // A meso reset is priced in mesos; an impossible goal says so (with the engine's reason), never a number.
  await page.selectOption(`${form} select[name="cube"]`, 'meso_reset_main');
  const meso = await waitForResult(page, 'potential', { ...request, cube: 'meso_reset_main' });
  const mesoCli = cli('potential', meso.request);
  assert.equal(meso.raw, mesoCli);
  const m = JSON.parse(mesoCli);
  expectShown(await shownNumbers(page, '#panel-potential'), 'pot-mean_cost', formatMeso(m.mean_cost, 'ko'));
  await page.selectOption(`${form} select[name="part"]`, '모자');
  const hat = await waitForResult(page, 'potential', { ...meso.request, part: '모자' });
  const hatCli = cli('potential', hat.request);
  assert.equal(hat.raw, hatCli);
  const hr = JSON.parse(hatCli);
  assert.equal(hr.impossible, true, 'ATT% 21 + boss 30 on a hat is impossible');
  assert.equal(await page.textContent('[data-testid="pot-impossible"]'), hr.reason);

  // An engine error is shown as its message, with the code explained in the page's language.
  await page.fill(`${form} .goal-rows li:nth-child(2) .goal-value`, '0');
  const bad = await waitForResult(page, 'potential', { ...hat.request, goal: { at_least: { att_pct: 21, boss_pct: 0 } } });
  assert.equal(bad.state, 'error');
  const err = JSON.parse(runCli('potential', bad.request).stdout).error;
  assert.equal(bad.error, `${STRINGS.ko[`err.${err.code}`]} (${err.code}): ${err.message}`);
  assert.deepEqual(errors, []);
});
