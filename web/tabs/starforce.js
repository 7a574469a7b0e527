// Star force: every request option of the engine; mean, median, p90/p99 cost, destroyed items, the
// safeguard advice, the cost CDF, the destroyed-items distribution and a per-star table.
import { mountCalculator } from '../calculator.js';
import { t, lang } from '../i18n.js';
import { formatMeso, formatCount, formatPercent, formatMesoShort } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { cdfChart, barChart, chartWidth } from '../charts.js';

export const SPEC = [
  {
    group: 'sf.group_item', className: 'row',
    fields: [
      { name: 'ruleset', kind: 'select', label: 'sf.ruleset', def: 'kms',
        options: ['kms', 'gms', 'savior', 'pre_savior'].map((v) => ({ value: v, label: `sf.ruleset_${v}` })) },
      { name: 'item_level', kind: 'number', label: 'sf.item_level', def: 200, min: 0, max: 300, step: 1 },
      { name: 'from_star', kind: 'number', label: 'sf.from_star', def: 0, min: 0, max: 30, step: 1 },
      { name: 'to_star', kind: 'number', label: 'sf.to_star', def: 22, min: 0, max: 30, step: 1 },
    ],
  },
  {
    group: 'sf.group_options', className: 'row',
    fields: [
      { name: 'star_catch', kind: 'checkbox', label: 'sf.star_catch', def: true },
      { name: 'safeguard', kind: 'checkbox', label: 'sf.safeguard', def: false },
      { name: 'spare_cost', kind: 'meso', label: 'sf.spare_cost', def: 0, min: 0 },
    ],
  },
  {
    group: 'sf.group_events', className: 'row',
    fields: ['thirty_off', 'boom_reduction', 'five_ten_fifteen', 'plus_one'].map((name) => ({
      name, kind: 'checkbox', label: `sf.event_${name}`, def: false,
    })),
  },
  {
    group: 'sf.group_discounts', className: 'row',
    fields: [
      { name: 'mvp', kind: 'select', label: 'sf.mvp', def: 'none',
        options: ['none', 'silver', 'gold', 'diamond', 'red'].map((v) => ({ value: v, label: `sf.mvp_${v}` })) },
      { name: 'pc_room', kind: 'checkbox', label: 'sf.pc_room', def: false },
    ],
  },
];

/** The engine request for the form values (the schema of `pve starforce` / `POST /v1/starforce`). */
export function toRequest(v) {
  const req = {};
  for (const k of ['item_level', 'from_star', 'to_star']) if (v[k] !== undefined) req[k] = v[k];
  Object.assign(req, {
    ruleset: v.ruleset,
    star_catch: v.star_catch,
    safeguard: v.safeguard,
    events: {
      thirty_off: v.thirty_off, boom_reduction: v.boom_reduction,
      five_ten_fifteen: v.five_ten_fifteen, plus_one: v.plus_one,
    },
    mvp: v.mvp,
    pc_room: v.pc_room,
  });
  if (v.spare_cost !== undefined) req.spare_cost = v.spare_cost;
  return req;
}

const meso = (x, id) => num(formatMeso(x, lang()), x, id);
const count = (x, id, d = 2) => num(formatCount(x, lang(), d), x, id);
const pct = (x, id) => num(formatPercent(x, lang()), x, id);

function render({ response: r, request }) {
  const q = r.cost_quantiles ?? {};
  const out = [];
  out.push(section('sf.summary', grid(
    stat('sf.mean_cost', meso(r.mean_cost, 'sf-mean_cost'), h('span', {}, t('sf.sd'), ' ', meso(r.sd_cost, 'sf-sd_cost'))),
    stat('sf.median_cost', meso(q.p50, 'sf-p50')),
    stat('sf.p90_cost', meso(q.p90, 'sf-p90')),
    stat('sf.p99_cost', meso(q.p99, 'sf-p99')),
    stat('sf.mean_booms', count(r.mean_booms, 'sf-mean_booms', 3), h('span', {}, t('sf.sd'), ' ', count(r.sd_booms, 'sf-sd_booms', 3))),
    stat('sf.p_no_boom', pct(r.p_no_boom, 'sf-p_no_boom')),
    stat('sf.mean_attempts', count(r.mean_attempts, 'sf-mean_attempts', 1)),
    stat('sf.mean_total_cost', meso(r.mean_total_cost, 'sf-mean_total_cost'),
      request.spare_cost ? null : t('sf.total_without_spare')),
  )));
  out.push(renderAdvice(r.advice));
  out.push(notes('sf.warnings', r.warnings, 'notes warnings'));
  out.push(renderCharts(r));
  if (Array.isArray(r.per_star) && r.per_star.length) out.push(renderPerStar(r.per_star));
  return out.filter(Boolean);
}

function renderAdvice(a) {
  if (!a) return null;
  const stars = (a.per_star ?? []).filter((s) => s.allowed !== false);
  const rows = stars.map((s) => [
    `${s.star}★`,
    t(s.safeguard ? 'sf.advice_use' : 'sf.advice_skip'),
    meso(s.total_with, null),
    meso(s.total_without, null),
  ]);
  return section('sf.advice',
    h('p', { 'data-testid': 'sf-advice' }, adviceSentence(a)),
    rows.length ? table('sf.advice_table', [
      { key: 'sf.col_star' }, { key: 'sf.col_advice' },
      { key: 'sf.col_total_with', numeric: true }, { key: 'sf.col_total_without', numeric: true },
    ], rows, 'sf-advice-table') : null);
}

function adviceSentence(a) {
  const on = (a.per_star ?? []).filter((s) => s.safeguard).map((s) => `${s.star}★`);
  const total = formatMeso(a.mean_total_cost, lang());
  const head = on.length ? t('sf.advice_on', { stars: on.join(', ') }) : t('sf.advice_none');
  return h('span', {}, head, ' ', t('sf.advice_total'), ' ', num(total, a.mean_total_cost, 'sf-advice-total'));
}

function renderCharts(r) {
  const l = lang();
  const q = r.cost_quantiles ?? {};
  const charts = [];
  const width = chartWidth();
  const cdf = costCdf(r);
  if (cdf.length) {
    const marks = ['p50', 'p90', 'p99'].filter((k) => q[k] !== undefined)
      .map((k) => ({ x: q[k], p: Number(k.slice(1)) / 100, label: k }));
    charts.push(h('figure', { class: 'chart-box' },
      cdfChart({
        points: cdf, marks, title: t('sf.chart_cdf'),
        desc: t('sf.chart_cdf_desc', { p50: formatMeso(q.p50, l).text, p90: formatMeso(q.p90, l).text, p99: formatMeso(q.p99, l).text }),
        xFmt: (v) => formatMesoShort(v, l), xLabel: t('sf.axis_cost'), yLabel: t('sf.axis_cum'), width,
      }),
      h('figcaption', {}, t('sf.chart_cdf'))));
  }
  const pmf = r.booms_pmf ?? [];
  if (pmf.length) {
    charts.push(h('figure', { class: 'chart-box' },
      barChart({
        bars: pmf.map((p, i) => ({ label: String(i), value: p })), title: t('sf.chart_booms'),
        desc: t('sf.chart_booms_desc', { p0: formatPercent(pmf[0], l).text, n: pmf.length - 1 }),
        xLabel: t('sf.axis_booms'), yLabel: t('sf.axis_prob'), width,
      }),
      h('figcaption', {}, t('sf.chart_booms'))));
  }
  return charts.length ? section('sf.charts', h('div', { class: 'charts' }, charts)) : null;
}

/** The cost CDF as [{x, p}]: the engine's distribution points. */
function costCdf(r) {
  const d = r.cost_cdf ?? r.cost_distribution;
  if (!Array.isArray(d)) return [];
  return d.map((e) => (Array.isArray(e) ? { x: e[0], p: e[1] } : { x: e.cost, p: e.p ?? e.cdf }));
}

function renderPerStar(rows) {
  const legacy = rows.some((s) => (s.p_decrease ?? 0) > 0);
  const cols = [
    { key: 'sf.col_star' }, { key: 'sf.col_success', numeric: true }, { key: 'sf.col_maintain', numeric: true },
    ...(legacy ? [{ key: 'sf.col_decrease', numeric: true }] : []),
    { key: 'sf.col_destroy', numeric: true }, { key: 'sf.col_attempt_cost', numeric: true },
    { key: 'sf.col_attempts', numeric: true }, { key: 'sf.col_cost', numeric: true },
  ];
  return section('sf.per_star', table('sf.per_star', cols, rows.map((s) => [
    `${s.star}★ → ${s.star + 1}★`,
    pct(s.p_success), pct(s.p_maintain),
    ...(legacy ? [pct(s.p_decrease ?? 0)] : []),
    pct(s.p_destroy), meso(s.attempt_cost), count(s.mean_attempts, null, 2), meso(s.mean_cost),
  ]), 'sf-per-star'));
}

export function starforceTab({ engine, onValuesChange }) {
  return mountCalculator({
    id: 'starforce', prefix: 'sf', op: 'starforce', spec: SPEC, toRequest, render, engine, onValuesChange,
  });
}
