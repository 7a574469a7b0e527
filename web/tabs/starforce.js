// Star force: every request option of the engine; mean, median, p90/p99 cost, destroyed items, the
// safeguard advice, the cost CDF, the destroyed-items distribution and a per-star table.
import { mountCalculator } from '../calculator.js';
import { t, lang, say } from '../i18n.js';
import { formatMeso, formatCount, formatPercent, formatMesoShort } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { cdfChart, barChart, frontierChart, chartWidth } from '../charts.js';

/** Stars where some rule set offers safeguard (KMS/GMS 15–17★, Savior 15–16★, pre-Savior 12–16★). */
const GUARD_STARS = { kms: [15, 16, 17], gms: [15, 16, 17], savior: [15, 16], pre_savior: [12, 13, 14, 15, 16] };
const ALL_GUARD = [12, 13, 14, 15, 16, 17];
/** The per-star safeguard stars the form offers for these values: allowed by the rule set, in the range. */
function guardStars(v) {
  return (GUARD_STARS[v.ruleset] ?? []).filter((s) => s >= (v.from_star ?? 0) && s < (v.to_star ?? 0));
}

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
      // Per-star safeguard (issue 13): shown for the stars of the range where the rule set offers it.
      ...ALL_GUARD.map((star) => ({
        name: `sg${star}`, kind: 'checkbox', label: { ko: `${star}성 파괴 방지`, en: `Safeguard at ${star}★` }, def: false,
        show: (v) => !v.safeguard && guardStars(v).includes(star),
      })),
      { name: 'spare_cost', kind: 'meso', label: 'sf.spare_cost', def: 0, min: 0 },
    ],
  },
  {
    group: 'sf.group_plan', className: 'row',
    fields: [
      { name: 'budget', kind: 'meso', label: 'sf.plan_budget', min: 0 },
      { name: 'spares', kind: 'number', label: 'sf.plan_spares', min: 0, step: 1 },
    ],
  },
  {
    group: 'sf.group_events', className: 'row',
    fields: [
      { name: 'event', kind: 'select', label: 'sf.event_preset', def: 'none',
        options: ['none', 'shining', 'shining_5_10_15'].map((v) => ({ value: v, label: `sf.event_preset_${v}` })) },
      ...['thirty_off', 'boom_reduction', 'five_ten_fifteen'].map((name) => ({
        name, kind: 'checkbox', label: `sf.event_${name}`, def: false, show: (v) => v.event === 'none' || !v.event,
      })),
      { name: 'plus_one', kind: 'checkbox', label: 'sf.event_plus_one', def: false },
    ],
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
    // A preset sets the other three toggles itself (sending them too would contradict it).
    events: v.event && v.event !== 'none' ? { plus_one: v.plus_one } : {
      thirty_off: v.thirty_off, boom_reduction: v.boom_reduction,
      five_ten_fifteen: v.five_ten_fifteen, plus_one: v.plus_one,
    },
    mvp: v.mvp,
    pc_room: v.pc_room,
  });
  if (v.event && v.event !== 'none') req.event = v.event;
  if (v.spare_cost !== undefined) req.spare_cost = v.spare_cost;
  if (!v.safeguard) {
    const stars = guardStars(v).filter((s) => v[`sg${s}`]);
    if (stars.length) req.safeguard_stars = stars;
  }
  const plan = {};
  if (v.budget !== undefined) plan.budget_mesos = v.budget;
  if (v.spares !== undefined) plan.spares = v.spares;
  if (Object.keys(plan).length) req.plan = plan;
  return req;
}

const meso = (x, id) => num(formatMeso(x, lang()), x, id);
const count = (x, id, d = 2) => num(formatCount(x, lang(), d), x, id);
const pct = (x, id) => num(formatPercent(x, lang()), x, id);

function render({ response: r, request }) {
  const out = [];
  if (r.impossible) {
    out.push(section('sf.impossible', h('p', { class: 'impossible', 'data-testid': 'sf-impossible' },
      h('span', { 'data-source': 'engine', 'data-code': r.impossible_reason?.code ?? null }, say(r.impossible_reason)))));
    out.push(notes('sf.warnings', r.warnings, 'notes warnings'));
    return out.filter(Boolean);
  }
  const q = r.cost_quantiles ?? {};
  out.push(section('sf.summary', grid(
    stat('sf.mean_cost', meso(r.mean_cost, 'sf-mean_cost'), h('span', {}, t('sf.sd'), ' ', meso(r.sd_cost, 'sf-sd_cost'))),
    stat('sf.median_cost', meso(q.p50, 'sf-p50')),
    stat('sf.p90_cost', meso(q.p90, 'sf-p90')),
    stat('sf.p99_cost', meso(q.p99, 'sf-p99')),
    stat('sf.mean_booms', count(r.mean_booms, 'sf-mean_booms', 3), h('span', {}, t('sf.sd'), ' ', count(r.sd_booms, 'sf-sd_booms', 3))),
    stat('sf.p_no_boom', pct(r.p_no_boom, 'sf-p_no_boom')),
    stat('sf.mean_attempts', count(r.mean_attempts, 'sf-mean_attempts', 1), h('span', {}, t('sf.sd'), ' ', count(r.sd_attempts, 'sf-sd_attempts', 1))),
    stat('sf.mean_total_cost', meso(r.mean_total_cost, 'sf-mean_total_cost'),
      request.spare_cost ? null : t('sf.total_without_spare')),
  )));
  if (r.plan) out.push(renderPlan(r.plan, request));
  out.push(renderAdvice(r.advice));
  out.push(notes('sf.warnings', r.warnings, 'notes warnings'));
  out.push(() => renderCharts(r, request));
  if (Array.isArray(r.frontier) && r.frontier.length > 1) out.push(() => renderFrontier(r));
  if (Array.isArray(r.per_star) && r.per_star.length) out.push(() => renderPerStar(r.per_star));
  if (r.distribution) {
    out.push(h('p', { class: 'meta' }, t('sf.distribution_note', {
      bound: formatPercent(r.distribution.quantile_rel_error_bound, lang()).text, cells: formatCount(r.distribution.cells, lang(), 0).text,
    })));
  }
  return out.filter(Boolean);
}

const stars = (list) => (list.length ? list.map((s) => `${s}★`).join(', ') : t('sf.plan_no_safeguard'));

/** The planner: p_reach (± its bound), the budgets for 50/90/99 %, the best per-star policy. */
function renderPlan(p, request) {
  const l = lang();
  const budgetFor = (k, id) => (p.budget_for[k] === null
    ? h('span', { 'data-testid': id }, '—')
    : meso(p.budget_for[k], id));
  return section('sf.plan',
    grid(
      stat('sf.plan_p_reach', pct(p.p_reach, 'sf-plan-p_reach'),
        h('span', {}, '± ', num(formatPercent(p.error_bound, l), p.error_bound, 'sf-plan-error_bound'))),
      stat('sf.plan_budget_for_p50', budgetFor('p50', 'sf-plan-budget_p50')),
      stat('sf.plan_budget_for_p90', budgetFor('p90', 'sf-plan-budget_p90')),
      stat('sf.plan_budget_for_p99', budgetFor('p99', 'sf-plan-budget_p99')),
      stat('sf.plan_best', h('span', { 'data-testid': 'sf-plan-best' }, stars(p.best_policy.safeguard_stars)),
        h('span', {}, pct(p.best_policy.p_reach, 'sf-plan-best_p_reach'))),
    ),
    h('p', { class: 'meta' }, t('sf.plan_counts', {
      budget: request.plan?.budget_mesos === undefined ? t('sf.plan_unlimited') : formatMeso(request.plan.budget_mesos, l).text,
      spares: request.plan?.spares === undefined ? t('sf.plan_unlimited') : String(request.plan.spares),
    })),
    notes('sf.warnings', p.notes, 'notes plan-notes'));
}

/** Mean mesos against mean destroyed items for every Pareto-optimal policy, and the spare-price breakpoints. */
function renderFrontier(r) {
  const l = lang();
  const points = r.frontier.map((f) => ({ x: f.mean_cost, y: f.mean_booms, label: stars(f.safeguard_stars) }));
  const rows = (r.spare_price_breakpoints ?? []).map((b) => [
    meso(b.spare_price), stars(b.policy_below), stars(b.policy_above),
  ]);
  return section('sf.frontier',
    h('figure', { class: 'chart-box' },
      h('figcaption', {}, t('sf.chart_frontier')),
      frontierChart({
        points, title: t('sf.chart_frontier'), desc: t('sf.chart_frontier_desc', { n: points.length }),
        xFmt: (v) => formatMesoShort(v, l), yFmt: (v) => formatCount(v, l, 2).text,
        xLabel: t('sf.axis_mean_cost'), yLabel: t('sf.axis_mean_booms'), width: chartWidth(),
      })),
    rows.length ? table('sf.breakpoints', [
      { key: 'sf.col_spare_price', numeric: true }, { key: 'sf.col_policy_below' }, { key: 'sf.col_policy_above' },
    ], rows, 'sf-breakpoints') : h('p', { class: 'meta' }, t('sf.breakpoints_none')));
}

function renderAdvice(a) {
  if (!a || !a.stars?.length) return null;
  const rows = a.stars.map((s) => [
    `${s.star}★`,
    t(s.use_safeguard ? 'sf.advice_use' : 'sf.advice_skip'),
    meso(s.expected_total_with_safeguard),
    meso(s.expected_total_without_safeguard),
  ]);
  const on = a.safeguard_stars.map((s) => `${s}★`);
  return section('sf.advice',
    h('p', { 'data-testid': 'sf-advice' },
      on.length ? t('sf.advice_on', { stars: on.join(', ') }) : t('sf.advice_none'), ' ',
      t('sf.advice_total'), ' ', meso(a.expected_total, 'sf-advice-total')),
    table('sf.advice_table', [
      { key: 'sf.col_star' }, { key: 'sf.col_advice' },
      { key: 'sf.col_total_with', numeric: true }, { key: 'sf.col_total_without', numeric: true },
    ], rows, 'sf-advice-table'));
}

/** At most this many bars: a long destroyed-items distribution is shown in equal ranges of counts. */
const MAX_BARS = 60;

function renderCharts(r, request) {
  const l = lang();
  const q = r.cost_quantiles ?? {};
  const width = chartWidth();
  const charts = [];
  const dense = costCdf(r);
  const marks = ['p50', 'p90', 'p99'].filter((k) => q[k] !== undefined)
    .map((k) => ({ x: q[k], p: Number(k.slice(1)) / 100, label: k }));
  const budget = request?.plan?.budget_mesos;
  const vline = budget !== undefined ? { x: budget, label: t('sf.chart_budget', { b: formatMesoShort(budget, l) }) } : null;
  // Without a dense CDF in the response, the curve joins the engine's exact quantiles (50 % to 99 %).
  const points = dense.length ? dense
    : ['p50', 'p75', 'p90', 'p95', 'p99'].filter((k) => q[k] !== undefined).map((k) => ({ x: q[k], p: Number(k.slice(1)) / 100 }));
  if (points.length && r.mean_cost > 0) {
    const desc = t('sf.chart_cdf_desc', { p50: formatMeso(q.p50, l).text, p90: formatMeso(q.p90, l).text, p99: formatMeso(q.p99, l).text });
    charts.push(h('figure', { class: 'chart-box' },
      h('figcaption', {}, t('sf.chart_cdf')),
      cdfChart({
        points, marks, vline, title: t('sf.chart_cdf'), desc, curve: 'line',
        xFmt: (v) => formatMesoShort(v, l), xLabel: t('sf.axis_cost'), yLabel: t('sf.axis_cum'), width,
      }),
      dense.length ? null : h('p', { class: 'chart-note' }, t('sf.chart_cdf_note'))));
  }
  const pmf = r.booms_pmf ?? [];
  if (pmf.length > 1) {
    const bars = boomBars(pmf);
    charts.push(h('figure', { class: 'chart-box' },
      h('figcaption', {}, t('sf.chart_booms')),
      barChart({
        bars, title: t('sf.chart_booms'),
        desc: t('sf.chart_booms_desc', { p0: formatPercent(pmf[0], l).text, n: pmf.length - 1 }),
        xLabel: t('sf.axis_booms'), yLabel: t('sf.axis_prob'), width,
      }),
      r.booms_pmf_tail > 0 ? h('p', { class: 'chart-note' }, t('sf.chart_booms_tail', { p: formatPercent(r.booms_pmf_tail, l).text, n: pmf.length - 1 })) : null));
  }
  return charts.length ? section('sf.charts', h('div', { class: 'charts' }, charts)) : null;
}

/** The destroyed-items PMF as bars: one per count, or equal ranges of counts when there are many. */
export function boomBars(pmf) {
  if (pmf.length <= MAX_BARS) return pmf.map((p, i) => ({ label: String(i), value: p }));
  const w = Math.ceil(pmf.length / MAX_BARS);
  const bars = [];
  for (let i = 0; i < pmf.length; i += w) {
    const end = Math.min(i + w, pmf.length) - 1;
    bars.push({ label: String(i), value: pmf.slice(i, end + 1).reduce((a, b) => a + b, 0) });
  }
  return bars;
}

/** A dense cost CDF as [{x, p}], if the response has one (`cost_cdf`: [[mesos, P(cost ≤ mesos)], …]). */
function costCdf(r) {
  const d = r.cost_cdf;
  if (!Array.isArray(d)) return [];
  return d.map((e) => (Array.isArray(e) ? { x: e[0], p: e[1] } : { x: e.cost, p: e.p }));
}

function renderPerStar(rows) {
  const legacy = rows.some((s) => s.decrease > 0);
  const cols = [
    { key: 'sf.col_star' }, { key: 'sf.col_success', numeric: true }, { key: 'sf.col_maintain', numeric: true },
    ...(legacy ? [{ key: 'sf.col_decrease', numeric: true }] : []),
    { key: 'sf.col_destroy', numeric: true }, { key: 'sf.col_attempt_cost', numeric: true },
    { key: 'sf.col_attempts', numeric: true }, { key: 'sf.col_cost', numeric: true },
  ];
  return section('sf.per_star', table('sf.per_star', cols, rows.map((s) => [
    h('span', {}, `${s.star}★`, s.safeguard ? h('small', { class: 'tag' }, t('sf.safeguarded')) : null),
    pct(s.success), pct(s.maintain),
    ...(legacy ? [pct(s.decrease)] : []),
    pct(s.destroy), meso(s.attempt_cost), count(s.expected_attempts, null, 2), meso(s.expected_cost),
  ]), 'sf-per-star'));
}

export function starforceTab({ engine, onValuesChange }) {
  return mountCalculator({
    id: 'starforce', prefix: 'sf', op: 'starforce', spec: SPEC, toRequest, render, engine, onValuesChange,
  });
}
