// The potential, flame and character tabs against the real stack (the character through the edge API and
// the fake Nexon Open API): the page builds the request from its controls, the Wasm engine in the Worker
// answers with the same values as `pve` (every number the same f64), and the shown figures are those numbers formatted (조/억/만 or B/M/K,
// exact value in the hover title).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, runCli, artifactsDir } from '../lib/stack.mjs';
import { launchBrowser, newPage, waitForResult, shownNumbers, screenshots } from '../lib/browser.mjs';
import { startFakeUpstream, FIXTURES, withLocalIcons } from '../fake-upstream/server.mjs';
import { formatMeso, formatPercent, formatCount } from '../../web/format.js';
import { STRINGS } from '../../web/strings.js';

/** A catalogued message as the page renders it in Korean (say() in web/i18n.js, no variants). */
const koText = (m) => STRINGS.ko[`msg.${m.code}`].replace(/\{(\w+)\}/g, (_, k) => String(m.params[k]));

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

/**
 * The page's engine answer (`raw`: its Wasm API's response object as JSON text) equals the CLI's JSON as
 * values: the same keys and arrays, every number the same f64 (JSON's shortest round-trip texts parse back
 * to the bits computed). Key order and number spelling (`1` vs `1.0`) are the serializers' own.
 */
function assertSameValues(raw, cliJson, message) {
  assert.deepStrictEqual(JSON.parse(raw), JSON.parse(cliJson), message);
}

/** The CLI's answer for `request`, which the page's engine answer must equal (`assertSameValues`). */
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
  assertSameValues(first.raw, cli('potential', first.request));

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
  assertSameValues(shownResult.raw, expected);
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
  assertSameValues(meso.raw, mesoCli);
  const m = JSON.parse(mesoCli);
  expectShown(await shownNumbers(page, '#panel-potential'), 'pot-mean_cost', formatMeso(m.mean_cost, 'ko'));
  await page.selectOption(`${form} select[name="part"]`, '모자');
  const hat = await waitForResult(page, 'potential', { ...meso.request, part: '모자' });
  const hatCli = cli('potential', hat.request);
  assertSameValues(hat.raw, hatCli);
  const hr = JSON.parse(hatCli);
  assert.equal(hr.impossible, true, 'ATT% 21 + boss 30 on a hat is impossible');
  // The reason is the catalogued message, in the page's language (Korean), not the engine's English.
  assert.equal(hr.impossible_reason.code, 'potential.impossible');
  assert.equal(hr.impossible_reason.message, hr.reason);
  assert.equal(await page.textContent('[data-testid="pot-impossible"]'), koText(hr.impossible_reason));
  assert.notEqual(koText(hr.impossible_reason), hr.reason);

  // An engine error is shown as its message, with the code explained in the page's language.
  await page.fill(`${form} .goal-rows li:nth-child(2) .goal-value`, '0');
  const bad = await waitForResult(page, 'potential', { ...hat.request, goal: { at_least: { att_pct: 21, boss_pct: 0 } } });
  assert.equal(bad.state, 'error');
  const err = JSON.parse(runCli('potential', bad.request).stdout).error;
  assert.equal(bad.error, `${STRINGS.ko[`err.${err.code}`]} (${err.code}): ${err.message}`);
  await page.fill(`${form} .goal-rows li:nth-child(2) .goal-value`, '30');
  await page.selectOption(`${form} select[name="part"]`, '무기');
  await waitForResult(page, 'potential', meso.request);
  assert.equal(await screenshots(page, artifactsDir(), 'potential'), 0, 'no horizontal scrolling at 375 px');
  assert.deepEqual(errors, []);
});

test('flame: item, class score and target give the request; the page equals pve flame', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${stack.url}/?tab=flame`);
  const first = await waitForResult(page, 'flame');
  assert.equal(first.state, 'done', first.error);
  assertSameValues(first.raw, cli('flame', first.request));

  // A level-160 boss weapon scored for 에반 with the GMS convention, target 150.
  const form = '#panel-flame form';
  await page.selectOption(`${form} select[name="item_kind"]`, 'weapon');
  await page.fill(`${form} input[name="item_level"]`, '160');
  await page.fill(`${form} input[name="base_attack"]`, '150');
  await page.selectOption(`${form} select[name="class"]`, '에반');
  await page.selectOption(`${form} select[name="convention"]`, 'brendon_gms');
  await page.fill(`${form} input[name="target_score"]`, '150');
  const request = {
    flame: 'eternal', item: { kind: 'weapon', level: 160, boss: true, base_attack: 150 },
    score: { class: '에반', convention: 'brendon_gms' }, target_score: 150,
    assumptions: first.request.assumptions, include_distribution: true,
  };
  const shownResult = await waitForResult(page, 'flame', request);
  assert.equal(shownResult.state, 'done', shownResult.error);
  const expected = cli('flame', request);
  assertSameValues(shownResult.raw, expected);
  const r = JSON.parse(expected);
  const shown = await shownNumbers(page, '#panel-flame');
  expectShown(shown, 'fl-p_success', formatPercent(r.p_success, 'ko'));
  expectShown(shown, 'fl-mean_flames', formatCount(r.mean_flames, 'ko', 1));
  expectShown(shown, 'fl-p99', formatCount(r.flame_quantiles.p99, 'ko', 0));
  assert.equal(await page.locator('#panel-flame svg.chart').count(), 1, 'the score distribution chart');

  // A target above the best score is impossible, and says why in Korean.
  await page.fill(`${form} input[name="target_score"]`, '5000');
  const above = await waitForResult(page, 'flame', { ...request, target_score: 5000 });
  const aboveCli = JSON.parse(cli('flame', above.request));
  assertSameValues(above.raw, JSON.stringify(aboveCli));
  assert.equal(aboveCli.impossible, true);
  assert.equal(aboveCli.impossible_reason.code, 'flame.impossible');
  assert.equal(await page.textContent('[data-testid="fl-impossible"]'), koText(aboveCli.impossible_reason));
  await page.fill(`${form} input[name="target_score"]`, '150');
  await waitForResult(page, 'flame', request);

  // Scoring by a main stat instead of a class changes the score object.
  await page.selectOption(`${form} select[name="score_by"]`, 'main_stat');
  await page.selectOption(`${form} select[name="main_stat"]`, 'int');
  await page.selectOption(`${form} select[name="attack"]`, 'magic_power');
  const byStat = await waitForResult(page, 'flame', {
    ...request, score: { main_stat: 'int', sub_stats: [], attack: 'magic_power', convention: 'brendon_gms' },
  });
  assertSameValues(byStat.raw, cli('flame', byStat.request));
  assert.equal(await screenshots(page, artifactsDir(), 'flame'), 0, 'no horizontal scrolling at 375 px');
  assert.deepEqual(errors, []);
});

test('character: API errors are shown as their message, in the chosen language', async () => {
  const { page, errors } = await newPage(browser);
  await page.goto(`${stack.url}/?tab=character&lang=en`);
  for (const name of ['nobody', 'bad!name']) {
    await page.fill('#panel-character form.lookup input[name="name"]', name);
    await page.click('#panel-character form.lookup button[type="submit"]');
    const shown = await waitForResult(page, 'character', { name });
    assert.equal(shown.state, 'error');
    const body = await (await fetch(`${stack.url}/v1/characters/${encodeURIComponent(name)}/valuation`)).json();
    assert.equal(shown.error, `${STRINGS.en[`err.${body.error.code}`]} (${body.error.code}): ${body.error.message}`);
    assert.equal(await page.locator('#panel-character .results data').count(), 0, 'no number next to an error');
    assert.equal(await page.isHidden('#panel-character form.whatif'), true);
  }
  // The page logs the failed fetches (404, 400) as resource errors; nothing else.
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
});

test('character: the edge API valuation is shown; what-ifs recompute locally in Wasm with no request', async () => {
  const { page, errors } = await newPage(browser);
  const calls = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/v1/')) calls.push(new URL(r.url()).pathname); });
  await page.goto(`${stack.url}/?tab=character`);
  await page.fill('#panel-character form.lookup input[name="name"]', '에반');
  await page.click('#panel-character form.lookup button[type="submit"]');
  const api = await waitForResult(page, 'character', { name: '에반' });
  assert.equal(api.state, 'done', api.error);
  // The route's valuation is the engine's valuation of the fixture with default options.
  // (as the fake serves it: its item_icon URLs point at the fake, issue 15)
  const fixture = JSON.stringify(withLocalIcons(JSON.parse(readFileSync(join(FIXTURES, 'evan_equip.json'), 'utf8')), fake.url));
  const v = JSON.parse(cli('valuation', fixture));
  assert.deepEqual(JSON.parse(api.raw).valuation, v);
  let shown = await shownNumbers(page, '#panel-character');
  expectShown(shown, 'ch-total', formatMeso(v.total.mean_mesos, 'ko'));
  expectShown(shown, 'ch-starforce', formatMeso(v.total.by_kind.starforce.mean_mesos, 'ko'));
  const item = v.items.find((i) => i.potential?.mean_mesos);
  expectShown(shown, `ch-item-${item.id}-potential`, formatMeso(item.potential.mean_mesos, 'ko'));
  // Every item with something not valued lists the reasons.
  const notValued = v.items.reduce((n, i) => n + i.not_valued.length, 0);
  assert.equal(await page.locator('#panel-character .not-valued li').count(), notValued);
  for (let i = 0; i < 100 && calls.length < 2; i++) await page.waitForTimeout(50);
  assert.deepEqual(calls, ['/v1/characters/%EC%97%90%EB%B0%98/valuation', '/v1/characters/%EC%97%90%EB%B0%98/equipment'],
    'the valuation, then the equipment once for the what-ifs');

  // What if: star catching and a diamond MVP discount, cubes instead of meso resets for the main potential
  // (priced at 10,000,000 each), and powerful flames.
  const form = '#panel-character form.whatif';
  await page.check(`${form} input[name="star_catch"]`);
  await page.selectOption(`${form} select[name="mvp"]`, 'diamond');
  await page.selectOption(`${form} select[name="pot_reset"]`, 'black');
  await page.fill(`${form} input[name="pot_cube_price"]`, '10000000');
  await page.selectOption(`${form} select[name="flame"]`, 'powerful');
  const options = {
    starforce: {
      ruleset: 'kms', star_catch: true, safeguard: false, mvp: 'diamond', pc_room: false, spare_cost: 0,
      events: { thirty_off: false, boom_reduction: false, five_ten_fifteen: false, plus_one: false },
    },
    potential: { reset: 'black', start_grade: '레어', cube_price_mesos: 10000000, quantiles: false },
    additional_potential: { reset: 'meso_reset_additional', start_grade: '레어', cube_price_mesos: null, quantiles: false },
    flame: { flame: 'powerful', convention: 'kms_grade', price_mesos: null },
  };
  const local = await waitForResult(page, 'character', { name: '에반', options });
  assert.equal(local.state, 'done', local.error);
  assert.equal(calls.length, 2, `what-ifs made no request (${calls.slice(2)})`);
  // The same request through the CLI: the equipment exactly as the edge API served it.
  const { equipment } = await (await fetch(`${stack.url}/v1/characters/${encodeURIComponent('에반')}/equipment`)).json();
  const expected = cli('valuation', JSON.stringify({ equipment, options }));
  assertSameValues(local.raw, expected);
  const w = JSON.parse(expected);
  shown = await shownNumbers(page, '#panel-character');
  expectShown(shown, 'ch-total', formatMeso(w.total.mean_mesos, 'ko'));
  expectShown(shown, 'ch-potential', formatMeso(w.total.by_kind.potential.mean_mesos, 'ko'));
  expectShown(shown, 'ch-starforce', formatMeso(w.total.by_kind.starforce.mean_mesos, 'ko'));
  assert.match(await page.textContent('[data-testid="ch-source"]'), new RegExp(STRINGS.ko['ch.source_local']));
  assert.equal(await screenshots(page, artifactsDir(), 'character'), 0, 'no horizontal scrolling at 375 px');
  assert.deepEqual(errors, []);
});
