// Potential: cube / meso reset, part, level, grade and a goal; probability per attempt, expected attempts and
// cost, quantiles, tier-up stages and the engine's notes. The plan (issue 13): pity progress at the current
// grade, Miracle Time, a cube price, and a budget in mesos (read back in 조/억/만) or cubes, answered with
// p_reach and the least budgets for 50/90/99 %. The line tables are a separate static asset
// (web/data/potential.bin) that the engine Worker loads on the first potential request.
import { mountCalculator } from '../calculator.js';
import { t, lang, say } from '../i18n.js';
import { formatMeso, formatCount, formatPercent } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { goalBuilder, goalJson } from '../goal-builder.js';

export const CUBES = ['black', 'red', 'additional', 'white_additional', 'meso_reset_main', 'meso_reset_additional',
  'master', 'meister', 'strange', 'strange_additional'];

/** The data's part names (Korean, as the engine takes them) with English labels. */
export const PARTS = [
  ['무기', 'Weapon'], ['엠블렘', 'Emblem'], ['보조무기', 'Secondary weapon'],
  ['포스실드/소울링', 'Force shield / Soul ring'], ['방패', 'Shield'], ['모자', 'Hat'], ['상의', 'Top'],
  ['한벌옷', 'Overall'], ['하의', 'Bottom'], ['신발', 'Shoes'], ['장갑', 'Gloves'], ['망토', 'Cape'],
  ['벨트', 'Belt'], ['어깨장식', 'Shoulder'], ['얼굴장식', 'Face accessory'], ['눈장식', 'Eye accessory'],
  ['귀고리', 'Earrings'], ['반지', 'Ring'], ['펜던트', 'Pendant'], ['기계 심장', 'Mechanical heart'],
];

export const GRADES = [['레어', 'Rare'], ['에픽', 'Epic'], ['유니크', 'Unique'], ['레전드리', 'Legendary']];

/** Goal stats: the engine's stat keys (pve_engine::potential::StatKind::key). */
export const STATS = ['att_pct', 'matt_pct', 'str_pct', 'dex_pct', 'int_pct', 'luk_pct', 'all_stat_pct', 'max_hp_pct',
  'boss_pct', 'ied_pct', 'damage_pct', 'crit_dmg_pct', 'crit_rate_pct', 'cooldown_sec', 'meso_pct', 'drop_pct',
  'str', 'dex', 'int', 'luk', 'all_stat', 'max_hp', 'max_mp', 'max_mp_pct', 'att', 'matt', 'def', 'def_pct',
  'speed', 'jump', 'str_per_9lv', 'dex_per_9lv', 'int_per_9lv', 'luk_per_9lv', 'mp_cost_reduction_pct',
  'recovery_efficiency_pct', 'invincible_after_hit_sec'];

const DEFAULT_GOAL = [{ kind: 'min', stat: 'att_pct', value: 21 }];

export function spec() {
  return [
    {
      group: 'pot.group_item', className: 'row',
      fields: [
        { name: 'cube', kind: 'select', label: 'pot.cube', def: 'black',
          options: CUBES.map((c) => ({ value: c, label: `pot.cube_${c}` })) },
        { name: 'part', kind: 'select', label: 'pot.part', def: '무기',
          options: PARTS.map(([ko, en]) => ({ value: ko, label: { ko, en } })) },
        { name: 'level', kind: 'number', label: 'pot.level', def: 200, min: 0, max: 300, step: 1 },
        { name: 'grade', kind: 'select', label: 'pot.grade', def: '레전드리',
          options: GRADES.map(([ko, en]) => ({ value: ko, label: { ko, en } })) },
      ],
    },
    { name: 'goal', kind: 'custom',
      widget: goalBuilder({ stats: STATS.map((s) => ({ value: s, label: `stat.${s}` })), def: DEFAULT_GOAL }) },
    {
      group: 'pot.group_plan', className: 'row',
      fields: [
        { name: 'pity_progress', kind: 'number', label: 'pot.pity_progress', def: 0, min: 0, step: 1 },
        { name: 'miracle_time', kind: 'checkbox', label: 'pot.miracle_time', def: false },
        { name: 'cube_price', kind: 'meso', label: 'pot.cube_price', def: undefined, min: 0,
          show: (v) => !isMesoReset(v.cube) },
        { name: 'budget_unit', kind: 'select', label: 'pot.budget_unit', def: 'mesos',
          options: [{ value: 'mesos', label: 'pot.budget_unit_mesos' }, { value: 'cubes', label: 'pot.budget_unit_cubes' }] },
        { name: 'budget_mesos', kind: 'meso', label: 'pot.budget_mesos', def: undefined, min: 0,
          show: (v) => v.budget_unit !== 'cubes' },
        { name: 'budget_cubes', kind: 'number', label: 'pot.budget_cubes', def: undefined, min: 0, step: 1,
          show: (v) => v.budget_unit === 'cubes' },
      ],
    },
  ];
}

const isMesoReset = (cube) => String(cube).startsWith('meso_reset');

export function toRequest(v) {
  const req = { cube: v.cube, part: v.part };
  if (v.level !== undefined) req.level = v.level;
  req.grade = v.grade;
  req.goal = goalJson(v.goal);
  // The plan's options are sent only when set, so the plain question stays the plain request.
  if (v.pity_progress !== undefined && v.pity_progress !== 0) req.pity_progress = v.pity_progress;
  if (v.miracle_time) req.miracle_time = true;
  if (v.cube_price !== undefined && !isMesoReset(v.cube)) req.cube_price_mesos = v.cube_price;
  const budget = v.budget_unit === 'cubes' ? v.budget_cubes : v.budget_mesos;
  if (budget !== undefined) req.plan = v.budget_unit === 'cubes' ? { budget_cubes: budget } : { budget_mesos: budget };
  return req;
}

/** The plan: P(goal within the budget) and the least budgets for 50/90/99 % (mesos or cubes). */
function planSection(plan) {
  const amount = (x, id) => (plan.unit === 'mesos'
    ? num(formatMeso(x, lang()), x, id)
    : num(formatCount(x, lang(), 0), x, id));
  const bf = plan.budget_for ?? {};
  return h('section', { class: 'block', 'data-testid': 'pot-plan' },
    h('h3', {}, t('pot.plan')),
    grid(
      stat('pot.p_reach', num(formatPercent(plan.p_reach, lang()), plan.p_reach, 'pot-p_reach')),
      stat('pot.budget_p50', amount(bf.p50, 'pot-budget_p50')),
      stat('pot.budget_p90', amount(bf.p90, 'pot-budget_p90')),
      stat('pot.budget_p99', amount(bf.p99, 'pot-budget_p99')),
    ),
    (plan.notes ?? []).length
      ? h('ul', { class: 'notes plan-notes' }, plan.notes.map((n) => h('li', { 'data-code': n.code }, say(n))))
      : null);
}

const count = (x, id, d = 2) => num(formatCount(x, lang(), d), x, id);

function render({ response: r }) {
  const out = [];
  const q = r.attempt_quantiles ?? {};
  if (r.impossible) {
    out.push(section('pot.impossible', h('p', { class: 'impossible', 'data-testid': 'pot-impossible' },
      h('span', { 'data-source': 'engine', 'data-code': r.impossible_reason?.code ?? null }, say(r.impossible_reason)))));
  }
  const cubes = r.mean_cubes !== undefined && r.mean_cubes !== null;
  out.push(section('pot.summary', grid(
    stat('pot.p_per_attempt', num(formatPercent(r.p_per_attempt, lang()), r.p_per_attempt, 'pot-p_per_attempt')),
    stat('pot.mean_attempts', count(r.mean_attempts, 'pot-mean_attempts', 1)),
    stat('pot.p50', count(q.p50, 'pot-p50', 0)),
    stat('pot.p90', count(q.p90, 'pot-p90', 0)),
    stat('pot.p99', count(q.p99, 'pot-p99', 0)),
    r.mean_cost !== undefined && r.mean_cost !== null
      ? stat('pot.mean_cost', num(formatMeso(r.mean_cost, lang()), r.mean_cost, 'pot-mean_cost'))
      : stat('pot.mean_cubes', cubes ? count(r.mean_cubes, 'pot-mean_cubes', 1) : h('span', {}, '—'),
        cubes ? t('pot.cubes_no_price') : null),
  )));
  if (r.plan) out.push(planSection(r.plan));
  if (r.eventual_success_probability !== undefined && r.eventual_success_probability !== null && r.eventual_success_probability < 1) {
    out.push(h('p', { class: 'meta' }, t('pot.eventual'), ' ',
      num(formatPercent(r.eventual_success_probability, lang()), r.eventual_success_probability, 'pot-eventual')));
  }
  const byGrade = r.p_per_attempt_by_grade ?? [];
  if (byGrade.length > 1) {
    out.push(section('pot.by_grade', table('pot.by_grade', [{ key: 'pot.col_grade' }, { key: 'pot.col_p', numeric: true }],
      byGrade.map((g) => [gradeLabel(g.grade), num(formatPercent(g.p_per_attempt, lang()), g.p_per_attempt)]), 'pot-by-grade')));
  }
  if (Array.isArray(r.tier_up) && r.tier_up.length) {
    out.push(section('pot.tier_up', table('pot.tier_up', [
      { key: 'pot.col_stage' }, { key: 'pot.col_rate', numeric: true }, { key: 'pot.col_pity', numeric: true },
      { key: 'pot.col_tier_attempts', numeric: true },
    ], r.tier_up.map((s) => [
      h('span', {}, gradeLabel(s.from), ' → ', gradeLabel(s.to)),
      num(formatPercent(s.probability, lang()), s.probability),
      s.pity === null || s.pity === undefined ? t('pot.no_pity') : count(s.pity, null, 0),
      count(s.mean_attempts, null, 2),
    ]), 'pot-tier-up')));
  }
  out.push(notes('pot.notes', r.notes ?? [], 'notes engine-notes'));
  if (r.band) out.push(h('p', { class: 'meta' }, t('pot.band', { min: r.band.level_min, max: r.band.level_max })));
  if (r.data_version) out.push(h('p', { class: 'meta' }, t('common.data_version'), ' ', h('code', {}, r.data_version)));
  return out.filter(Boolean);
}

function gradeLabel(g) {
  const row = GRADES.find(([ko]) => ko === g);
  if (!row) return h('span', { lang: 'ko' }, g);
  return lang() === 'en' ? row[1] : row[0];
}

export function potentialTab({ engine, onValuesChange }) {
  return mountCalculator({
    id: 'potential', prefix: 'pot', op: 'potential', spec: spec(), toRequest, render, engine, onValuesChange,
  });
}
