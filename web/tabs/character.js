// Character: a name → the edge API's valuation (GET /v1/characters/{name}/valuation); per-set totals and a
// per-item table (star force, potential, additional potential, flame, and what could not be valued and
// why). The what-if controls recompute locally: the engine Worker values the equipment the API returned
// (operation `valuation`, request {equipment, options}) without another request.
import { buildForm, encode, decode } from '../form.js';
import { t, lang, onLangChange, say } from '../i18n.js';
import { stackedBarChart, chartWidth } from '../charts.js';
import { formatMeso, formatCount } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { STALE } from '../engine-client.js';
import { resultView } from '../calculator.js';

const LOOKUP = [
  { name: 'name', kind: 'text', label: 'ch.name', def: '', maxlength: 32, attr: { autocapitalize: 'off', enterkeyhint: 'search' } },
  // How the item table is ordered (kept in the URL): by expected cost, costliest first, or in slot order.
  { name: 'sort', kind: 'select', label: 'ch.sort', def: 'cost',
    options: [{ value: 'cost', label: 'ch.sort_cost' }, { value: 'slot', label: 'ch.sort_slot' }] },
];

let sortBy = 'cost';

const sel = (name, labelKey, def, values, prefix) => ({
  name, kind: 'select', label: labelKey, def, options: values.map((v) => ({ value: v, label: prefix + v })),
});

const GRADES = [['레어', 'Rare'], ['에픽', 'Epic'], ['유니크', 'Unique'], ['레전드리', 'Legendary']];

/**
 * What-if options: the valuation's request options (documented in engine/api/src/valuation.rs), with the
 * valuation's own defaults, so unchanged controls reproduce the API's answer.
 */
export const WHATIF = [
  {
    group: 'ch.group_starforce', className: 'row',
    fields: [
      sel('sf_ruleset', 'sf.ruleset', 'kms', ['kms', 'gms', 'savior', 'pre_savior'], 'sf.ruleset_'),
      // Star catch on, as players enhance and as the star force tab and the API default (issue 15).
      { name: 'star_catch', kind: 'checkbox', label: 'sf.star_catch', def: true },
      { name: 'safeguard', kind: 'checkbox', label: 'sf.safeguard', def: false },
      ...['thirty_off', 'boom_reduction', 'five_ten_fifteen', 'plus_one'].map((n) => ({ name: n, kind: 'checkbox', label: `sf.event_${n}`, def: false })),
      sel('mvp', 'sf.mvp', 'none', ['none', 'silver', 'gold', 'diamond', 'red'], 'sf.mvp_'),
      { name: 'pc_room', kind: 'checkbox', label: 'sf.pc_room', def: false },
      { name: 'spare_cost', kind: 'meso', label: 'sf.spare_cost', def: 0, min: 0 },
    ],
  },
  {
    group: 'ch.group_potential', className: 'row',
    fields: [
      sel('pot_reset', 'ch.pot_reset', 'meso_reset_main', ['meso_reset_main', 'black', 'red'], 'pot.cube_'),
      { name: 'pot_cube_price', kind: 'meso', label: 'ch.pot_cube_price', def: undefined, min: 0,
        show: (v) => v.pot_reset !== 'meso_reset_main' },
      sel('add_reset', 'ch.add_reset', 'meso_reset_additional', ['meso_reset_additional', 'additional', 'white_additional'], 'pot.cube_'),
      { name: 'add_cube_price', kind: 'meso', label: 'ch.add_cube_price', def: undefined, min: 0,
        show: (v) => v.add_reset !== 'meso_reset_additional' },
      { name: 'start_grade', kind: 'select', label: 'ch.start_grade', def: '레어',
        options: GRADES.map(([ko, en]) => ({ value: ko, label: { ko, en } })) },
    ],
  },
  {
    group: 'ch.group_flame', className: 'row',
    fields: [
      sel('flame', 'fl.flame', 'eternal', ['powerful', 'eternal', 'black', 'abyss'], 'fl.flame_'),
      sel('convention', 'fl.convention', 'kms_grade', ['kms_grade', 'maple_expectation', 'brendon_gms'], 'fl.convention_'),
      { name: 'flame_price', kind: 'meso', label: 'ch.flame_price', def: undefined, min: 0 },
    ],
  },
];

/** The valuation options for the what-if values. */
export function toOptions(v) {
  const price = (x) => (x === undefined ? null : x);
  return {
    starforce: {
      ruleset: v.sf_ruleset, star_catch: v.star_catch, safeguard: v.safeguard,
      events: { thirty_off: v.thirty_off, boom_reduction: v.boom_reduction, five_ten_fifteen: v.five_ten_fifteen, plus_one: v.plus_one },
      mvp: v.mvp, pc_room: v.pc_room, spare_cost: v.spare_cost ?? 0,
    },
    // quantiles: false — the tab shows means and sums only (no item is expanded to its quantiles), and
    // without the tier-up chains' quantile walks the engine values a character several times faster.
    potential: { reset: v.pot_reset, start_grade: v.start_grade, cube_price_mesos: v.pot_reset === 'meso_reset_main' ? null : price(v.pot_cube_price), quantiles: false },
    additional_potential: {
      reset: v.add_reset, start_grade: v.start_grade,
      cube_price_mesos: v.add_reset === 'meso_reset_additional' ? null : price(v.add_cube_price), quantiles: false,
    },
    flame: { flame: v.flame, convention: v.convention, price_mesos: price(v.flame_price) },
  };
}

export function characterTab({ engine, onValuesChange }) {
  const panel = document.getElementById('panel-character');
  const lookupForm = panel.querySelector('form.lookup');
  const whatifForm = /** @type {HTMLFormElement} */ (panel.querySelector('form.whatif'));
  const status = panel.querySelector('.status');

  const lookup = buildForm(lookupForm, 'ch', LOOKUP);
  const submit = h('button', { type: 'submit', 'data-i18n': 'ch.lookup' }, t('ch.lookup'));
  lookupForm.append(submit);
  const whatif = buildForm(whatifForm, 'ch', WHATIF);
  whatifForm.hidden = true;

  let active = false;
  let pendingName = null; // a name from the URL, looked up when the tab is first shown
  let fetched = null; // {name, equipment: Promise}: the looked-up character
  let lookupSeq = 0;

  const view = resultView(panel, render);
  onLangChange(() => view.show());

  /** GET a JSON route of the edge API; an error answer becomes {code, message} (the API's own). */
  async function getJson(path) {
    let res;
    try {
      res = await fetch(path, { headers: { accept: 'application/json' } });
    } catch (e) {
      throw Object.assign(new Error(e.message), { code: 'network' });
    }
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw Object.assign(new Error(t('ch.bad_response', { status: res.status })), { code: 'bad_response' });
    }
    if (!res.ok) {
      const e = body?.error ?? {};
      // Until the server has the character routes, say plainly that the lookup is not available.
      if (res.status === 404 && e.code === 'route_not_found') {
        throw Object.assign(new Error(t('ch.route_missing')), { code: 'not_available' });
      }
      throw Object.assign(new Error(e.message ?? `HTTP ${res.status}`), { code: e.code ?? `http_${res.status}` });
    }
    return { body, text };
  }

  async function runLookup(name) {
    const seq = ++lookupSeq;
    const path = `/v1/characters/${encodeURIComponent(name)}`;
    panel.dataset.state = 'computing';
    status.textContent = t('ch.looking_up', { name });
    let outcome;
    fetched = null;
    try {
      const { body, text } = await getJson(`${path}/valuation`);
      if (!body.valuation) throw Object.assign(new Error(t('ch.no_valuation')), { code: 'bad_response' });
      // What-ifs need the equipment: from this answer if it carries it, else fetched once now (a cache hit
      // at the edge), so that changing a what-if control never makes a request.
      const equipment = body.equipment
        ? Promise.resolve(body.equipment)
        : getJson(`${path}/equipment`).then(({ body: b }) => b.equipment ?? null);
      equipment.catch(() => {});
      fetched = { name, equipment };
      outcome = { source: 'api', response: body.valuation, raw: text };
    } catch (e) {
      outcome = { error: e };
    }
    if (seq !== lookupSeq) return;
    status.textContent = '';
    whatifForm.hidden = !fetched;
    panel.dataset.request = JSON.stringify({ name });
    await view.show(outcome);
  }

  async function recomputeLocal() {
    if (!fetched) return;
    const { name } = fetched;
    const options = toOptions(whatif.read());
    panel.dataset.state = 'computing';
    let outcome;
    try {
      const equipment = await fetched.equipment;
      if (!equipment) throw Object.assign(new Error(t('ch.no_equipment')), { code: 'not_available' });
      const r = await engine.latest('character', 'valuation', { equipment, options });
      if (r === STALE) return;
      outcome = { source: 'local', response: r.response, raw: r.raw };
    } catch (e) {
      outcome = { error: e };
    }
    if (fetched?.name !== name) return; // a new lookup started meanwhile
    panel.dataset.request = JSON.stringify({ name, options });
    await view.show(outcome);
  }

  lookupForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = lookup.read().name.trim();
    onValuesChange();
    if (!name) {
      view.show({ error: { code: 'missing_field', message: t('ch.name_required') } });
      return;
    }
    runLookup(name);
  });
  lookupForm.addEventListener('input', (e) => {
    onValuesChange();
    if (/** @type {HTMLElement} */ (e.target).getAttribute('name')?.endsWith('sort')) {
      sortBy = lookup.read().sort;
      view.show();
    }
  });
  // No debounce: every what-if change computes at once in the engine Worker; the 'character' channel keeps
  // at most one request running and one waiting and resolves superseded ones to STALE, so only the newest
  // result is painted (issue 16).
  whatifForm.addEventListener('input', () => {
    onValuesChange();
    recomputeLocal();
  });

  return {
    panel,
    encode: () => [...encode('ch', lookup.fields, lookup.read()), ...encode('ch', whatif.fields, whatif.read())],
    load(params) {
      lookup.write(decode('ch', lookup.fields, params));
      sortBy = lookup.read().sort;
      whatif.write(decode('ch', whatif.fields, params));
      const name = lookup.read().name.trim();
      pendingName = name || null;
      if (active && pendingName) this.setActive(true);
    },
    setActive(a) {
      active = a;
      if (active && pendingName) {
        const name = pendingName;
        pendingName = null;
        runLookup(name).then(() => {
          // A shared link with what-if options shows the local recompute under those options.
          if (fetched && encode('ch', whatif.fields, whatif.read()).length) recomputeLocal();
        });
      }
    },
  };
}

const meso = (x, id) => (x === null || x === undefined ? h('span', {}, '—') : num(formatMeso(x, lang()), x, id));
const unitCount = (x, unit, id) => h('span', {}, num(formatCount(x, lang(), 1), x, id), ' ', t(`ch.unit_${unit}`));

/** A kind's mean: mesos when priced, else the count in its unit (cubes, flames); "—" when not applicable. */
function amount(k, id) {
  if (!k) return h('span', {}, '—');
  if (k.mean_mesos !== null && k.mean_mesos !== undefined) return meso(k.mean_mesos, id);
  const mean = k.mean ?? k.mean_flames ?? k.mean_attempts;
  const unit = k.unit ?? (k.mean_flames !== undefined ? 'flames' : 'attempts');
  if (mean === null || mean === undefined) return h('span', {}, '—');
  return unitCount(mean, unit, id);
}

const KINDS = ['starforce', 'potential', 'additional_potential', 'flame'];

function summaryGrid(sum, prefix) {
  const excluded = sum.mesos_exclude ?? [];
  return grid(
    stat('ch.total_cost', meso(sum.mean_mesos, `${prefix}-total`),
      excluded.length ? t('ch.mesos_exclude', { kinds: excluded.map((k) => t(`ch.kind_${k}`)).join(', ') }) : null),
    ...KINDS.map((k) => {
      const v = sum.by_kind?.[k];
      return stat(`ch.kind_${k}`, amount(v, `${prefix}-${k}`),
        v ? t('ch.valued_counts', { valued: v.valued, not_valued: v.not_valued }) : null);
    }),
  );
}

const KIND_CLS = KINDS.map((k) => `k-${k}`);

/** Items in the table's order: by expected cost (mesos), costliest first, items without a meso cost last; or
 * in slot order (the response's order). */
export function sortItems(items, by) {
  const list = [...items];
  if (by !== 'cost') return list;
  const cost = (it) => (typeof it.mean_mesos === 'number' ? it.mean_mesos : -1);
  return list.sort((a, b) => cost(b) - cost(a) || a.id - b.id);
}

/** How much of the valuation could not be valued: item-kinds (distinct items × 4 kinds) without a value, and
 * their reasons (the first not-valued entry of that kind), counted. */
export function unvaluedShare(items) {
  const reasons = new Map();
  let missing = 0;
  for (const it of items) {
    for (const k of KINDS) {
      if (it[k]) continue;
      missing += 1;
      const n = (it.not_valued ?? []).find((e) => e.kind === k);
      const code = n?.reason_code ?? 'unknown';
      reasons.set(code, (reasons.get(code) ?? 0) + 1);
    }
  }
  const total = items.length * KINDS.length;
  return { missing, total, share: total ? missing / total : 0,
    reasons: [...reasons].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)) };
}

/** The options the answer was computed with (the response's `options`), in words. */
function optionsLine(o) {
  if (!o) return null;
  const on = (b) => t(b ? 'ch.on' : 'ch.off');
  const sf = o.starforce ?? {};
  return h('p', { class: 'meta', 'data-testid': 'ch-options' }, t('ch.options_used', {
    star_catch: on(sf.star_catch), safeguard: on(sf.safeguard), ruleset: t(`sf.ruleset_${sf.ruleset}`),
    pot: t(`pot.cube_${o.potential?.reset}`), add: t(`pot.cube_${o.additional_potential?.reset}`),
    flame: t(`fl.flame_${o.flame?.flame}`),
  }));
}

const mesoFmt = (v) => formatMeso(v, lang()).text;

function itemChart(items) {
  const rows = items.filter((it) => it.mean_mesos > 0).map((it) => ({
    label: it.name ?? '', parts: KINDS.map((k) => it[k]?.mean_mesos ?? 0),
  }));
  if (!rows.length) return null;
  const series = KINDS.map((k, i) => ({ label: t(`ch.kind_${k}`), cls: KIND_CLS[i] }));
  const svg = stackedBarChart({ rows, series, title: t('ch.chart_items'), desc: t('ch.chart_items_desc'),
    valueFmt: mesoFmt, xLabel: t('ch.unit_mesos'), width: chartWidth(), rowLang: 'ko' });
  return h('figure', { class: 'chart-box', 'data-testid': 'ch-chart-items' }, svg, h('figcaption', {}, t('ch.chart_items')));
}

function setChart(r) {
  const rows = (r.sets ?? []).map((s) => ({
    label: t(`ch.set_${s.set}`), parts: KINDS.map((k) => s.summary?.by_kind?.[k]?.mean_mesos ?? 0),
  }));
  if (rows.length < 2) return null;
  const series = KINDS.map((k, i) => ({ label: t(`ch.kind_${k}`), cls: KIND_CLS[i] }));
  const svg = stackedBarChart({ rows, series, title: t('ch.chart_sets'), desc: t('ch.chart_sets_desc'),
    valueFmt: mesoFmt, xLabel: t('ch.unit_mesos'), width: chartWidth(), rowH: 24, labelW: 110 });
  return h('figure', { class: 'chart-box', 'data-testid': 'ch-chart-sets' }, svg, h('figcaption', {}, t('ch.chart_sets')));
}

/** An item's picture from the Open API's `item_icon`: lazy, with its size reserved so nothing shifts; none
 * when the response has no icon, and an empty box when the picture does not load. */
function icon(it) {
  if (!it.icon) return h('span', { class: 'item-icon', 'aria-hidden': 'true' });
  const img = h('img', { class: 'item-icon', src: it.icon, loading: 'lazy', decoding: 'async', width: 32, height: 32, alt: '' });
  img.addEventListener('error', () => img.removeAttribute('src'), { once: true });
  return img;
}

function render({ source, response: r }) {
  const out = [];
  out.push(h('p', { class: 'meta', 'data-testid': 'ch-source' }, t(source === 'api' ? 'ch.source_api' : 'ch.source_local')));
  if (r.class?.name) out.push(h('p', { class: 'meta' }, t('ch.class'), ' ', h('span', { lang: 'ko' }, r.class.name)));
  out.push(optionsLine(r.options));
  const total = r.total ?? {};
  const items = Array.isArray(r.items) ? r.items : [];
  const share = unvaluedShare(items);
  out.push(section('ch.total', summaryGrid(total, 'ch'),
    h('p', { class: 'meta' }, t('ch.item_counts', {
      items: total.items ?? 0, full: total.items_fully_valued ?? 0, partly: total.items_partly_valued ?? 0,
      none: total.items_not_valued ?? 0,
    })),
    h('div', { class: 'unvalued-share', 'data-testid': 'ch-unvalued', 'data-missing': share.missing, 'data-total': share.total },
      h('p', {}, t('ch.unvalued_share', { missing: share.missing, total: share.total,
        pct: formatCount(share.share * 100, lang(), 1).text })),
      share.reasons.length ? h('ul', {}, share.reasons.map(([code, n]) => h('li', { 'data-reason': code, 'data-count': n },
        t(`ch.reason_${code}`), ` × ${n}`))) : null)));
  if (Array.isArray(r.sets) && r.sets.length) {
    out.push(() => section('ch.sets', table('ch.sets', [
      { key: 'ch.col_set' }, { key: 'ch.col_cost', numeric: true },
      ...KINDS.map((k) => ({ key: `ch.kind_${k}`, numeric: true })), { key: 'ch.col_items', numeric: true },
    ], r.sets.map((s) => [
      h('span', {}, t(`ch.set_${s.set}`), s.set === `preset_${r.equipped_preset}` ? h('small', {}, ` (${t('ch.equipped_preset')})`) : null),
      meso(s.summary?.mean_mesos, `ch-set-${s.set}`),
      ...KINDS.map((k) => amount(s.summary?.by_kind?.[k])),
      num(formatCount(s.summary?.items ?? 0, lang(), 0), s.summary?.items),
    ]), 'ch-sets'), setChart(r)));
  }
  if (items.length) {
    const sorted = sortItems(items, sortBy);
    out.push(() => section('ch.value_chart', itemChart(sortItems(items, 'cost'))));
    out.push(() => section('ch.items', h('p', { class: 'meta', 'data-testid': 'ch-sort-state', 'data-sort': sortBy },
      t(sortBy === 'cost' ? 'ch.sorted_by_cost' : 'ch.sorted_by_slot')), table('ch.items', [
      { key: 'ch.col_item' }, { key: 'ch.col_cost', numeric: true },
      ...KINDS.map((k) => ({ key: `ch.kind_${k}`, numeric: true })), { key: 'ch.col_missing' },
    ], sorted.map((it) => [
      h('span', { class: 'item-cell', 'data-item': it.id }, icon(it), h('span', { class: 'item-name' }, h('span', { lang: 'ko' }, it.name ?? ''),
        h('small', {}, h('span', { lang: 'ko' }, it.slot ?? ''), it.stars ? ` ${it.stars}★` : '', it.level ? ` Lv.${it.level}` : ''))),
      meso(it.mean_mesos, `ch-item-${it.id}`),
      ...KINDS.map((k) => amount(it[k], `ch-item-${it.id}-${k}`)),
      h('div', { class: 'reasons' }, zeroReasons(it), (it.not_valued ?? []).length
        ? h('ul', { class: 'not-valued' }, it.not_valued.map((n) => h('li', { 'data-code': n.code ?? '' },
          h('strong', {}, t(`ch.kind_${n.kind}`)), ' ', h('span', { 'data-source': 'engine' }, say(n)))))
        : (hasZero(it) ? null : '—')),
    ]), 'ch-items')));
  }
  out.push(notes('ch.notes', r.notes ?? [], 'notes engine-notes'));
  return out.filter(Boolean);
}

const hasZero = (it) => KINDS.some((k) => it[k]?.zero_reason);

/** Why a valued 0 is 0 (`zero_reason`), in the page's language. */
function zeroReasons(it) {
  const zs = KINDS.filter((k) => it[k]?.zero_reason);
  if (!zs.length) return null;
  return h('ul', { class: 'zero-reasons' }, zs.map((k) => h('li', { 'data-code': it[k].zero_reason.code ?? '' },
    h('strong', {}, t(`ch.kind_${k}`)), ' ', h('span', { 'data-source': 'engine' }, say(it[k].zero_reason)))));
}

export { say };
