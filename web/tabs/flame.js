// Flame (추가옵션): flame kind, item, score definition (a class or a main stat, and a convention) and a target
// score; probability per flame, expected flames, quantiles and the score distribution.
import { mountCalculator } from '../calculator.js';
import { t, lang, say } from '../i18n.js';
import { formatCount, formatPercent } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { cdfChart, chartWidth } from '../charts.js';

/** Classes as the engine names them (the Open API's `character_class`), with English labels. */
export const CLASSES = [
  ['히어로', 'Hero'], ['팔라딘', 'Paladin'], ['다크나이트', 'Dark Knight'], ['소울마스터', 'Dawn Warrior'],
  ['미하일', 'Mihile'], ['블래스터', 'Blaster'], ['데몬슬레이어', 'Demon Slayer'], ['데몬어벤져', 'Demon Avenger'],
  ['아란', 'Aran'], ['아델', 'Adele'], ['카이저', 'Kaiser'], ['제로', 'Zero'], ['바이퍼', 'Buccaneer'],
  ['캐논슈터', 'Cannoneer'], ['스트라이커', 'Thunder Breaker'], ['아크', 'Ark'], ['은월', 'Shade'],
  ['보우마스터', 'Bowmaster'], ['신궁', 'Marksman'], ['패스파인더', 'Pathfinder'], ['윈드브레이커', 'Wind Archer'],
  ['와일드헌터', 'Wild Hunter'], ['카인', 'Kain'], ['메르세데스', 'Mercedes'], ['캡틴', 'Corsair'],
  ['메카닉', 'Mechanic'], ['엔젤릭버스터', 'Angelic Buster'], ['제논', 'Xenon'],
  ['아크메이지(불,독)', 'Arch Mage (Fire, Poison)'], ['아크메이지(썬,콜)', 'Arch Mage (Ice, Lightning)'],
  ['비숍', 'Bishop'], ['플레임위자드', 'Blaze Wizard'], ['배틀메이지', 'Battle Mage'], ['에반', 'Evan'],
  ['루미너스', 'Luminous'], ['키네시스', 'Kinesis'], ['일리움', 'Illium'], ['라라', 'Lara'],
  ['나이트로드', 'Night Lord'], ['나이트워커', 'Night Walker'], ['팬텀', 'Phantom'], ['칼리', 'Khali'],
  ['호영', 'Hoyoung'], ['섀도어', 'Shadower'], ['듀얼블레이드', 'Dual Blade'], ['카데나', 'Cadena'],
];

const sel = (name, labelKey, def, values, prefix = `fl.${name}_`) => ({
  name, kind: 'select', label: labelKey, def, options: values.map((v) => ({ value: v, label: prefix + v })),
});
const isWeapon = (v) => v.item_kind === 'weapon' || v.item_kind === 'zero_weapon';

export const ASSUMPTIONS = {
  line_counts: ['kms_official', 'gms'],
  abyss_table: ['consensus', 'brendon_worker'],
  levels_201_249: ['kms', 'gms'],
  weapon_attack: ['malib', 'gms_formula'],
  def_below_140: ['single_stat', 'one_per_tier'],
};

export const SPEC = [
  {
    group: 'fl.group_item', className: 'row',
    fields: [
      sel('flame', 'fl.flame', 'eternal', ['powerful', 'eternal', 'black', 'abyss']),
      { name: 'item_level', kind: 'number', label: 'fl.item_level', def: 200, min: 1, max: 250, step: 1 },
      sel('item_kind', 'fl.item_kind', 'armor', ['armor', 'accessory', 'weapon', 'zero_weapon']),
      { name: 'boss', kind: 'checkbox', label: 'fl.boss', def: true, show: (v) => v.item_kind !== 'zero_weapon' },
      { name: 'base_attack', kind: 'number', label: 'fl.base_attack', def: undefined, min: 1, step: 1, show: isWeapon },
      { name: 'base_magic_attack', kind: 'number', label: 'fl.base_magic_attack', def: undefined, min: 0, step: 1, show: isWeapon },
    ],
  },
  {
    group: 'fl.group_score', className: 'row',
    fields: [
      sel('score_by', 'fl.score_by', 'class', ['class', 'main_stat']),
      { name: 'class', kind: 'select', label: 'fl.class', def: '히어로', show: (v) => v.score_by === 'class',
        options: CLASSES.map(([ko, en]) => ({ value: ko, label: { ko, en } })) },
      { ...sel('main_stat', 'fl.main_stat', 'str', ['str', 'dex', 'int', 'luk'], 'fl.stat_'), show: (v) => v.score_by === 'main_stat' },
      { ...sel('sub_stat', 'fl.sub_stat', 'none', ['none', 'str', 'dex', 'int', 'luk'], 'fl.stat_'), show: (v) => v.score_by === 'main_stat' },
      { ...sel('attack', 'fl.attack', 'attack_power', ['attack_power', 'magic_power'], 'fl.stat_'), show: (v) => v.score_by === 'main_stat' },
      sel('convention', 'fl.convention', 'kms_grade', ['kms_grade', 'maple_expectation', 'brendon_gms']),
      { name: 'target_score', kind: 'number', label: 'fl.target_score', def: 120, min: 0, step: 'any' },
    ],
  },
  {
    group: 'fl.group_assumptions', className: 'row',
    fields: Object.entries(ASSUMPTIONS).map(([name, values]) => sel(name, `fl.${name}`, values[0], values)),
  },
];

export function toRequest(v) {
  const item = { kind: v.item_kind };
  if (v.item_level !== undefined) item.level = v.item_level;
  if (v.item_kind !== 'zero_weapon') item.boss = v.boss;
  if (isWeapon(v)) {
    if (v.base_attack !== undefined) item.base_attack = v.base_attack;
    if (v.base_magic_attack !== undefined) item.base_magic_attack = v.base_magic_attack;
  }
  const score = v.score_by === 'class'
    ? { class: v.class }
    : { main_stat: v.main_stat, sub_stats: v.sub_stat === 'none' ? [] : [v.sub_stat], attack: v.attack };
  score.convention = v.convention;
  const req = { flame: v.flame, item, score };
  if (v.target_score !== undefined) req.target_score = v.target_score;
  req.assumptions = Object.fromEntries(Object.keys(ASSUMPTIONS).map((k) => [k, v[k]]));
  req.include_distribution = true;
  return req;
}

const count = (x, id, d = 2) => num(formatCount(x, lang(), d), x, id);

function render({ response: r }) {
  const out = [];
  const q = r.flame_quantiles ?? {};
  if (r.impossible) {
    out.push(section('fl.impossible', h('p', { class: 'impossible', 'data-testid': 'fl-impossible' },
      h('span', { 'data-source': 'engine', 'data-code': r.impossible_reason?.code ?? null }, say(r.impossible_reason)))));
  }
  out.push(section('fl.summary', grid(
    stat('fl.p_success', num(formatPercent(r.p_success, lang()), r.p_success, 'fl-p_success')),
    stat('fl.mean_flames', count(r.mean_flames, 'fl-mean_flames', 1),
      r.sd_flames !== undefined && r.sd_flames !== null ? h('span', {}, t('sf.sd'), ' ', count(r.sd_flames, 'fl-sd_flames', 1)) : null),
    stat('fl.p50', count(q.p50, 'fl-p50', 0)),
    stat('fl.p90', count(q.p90, 'fl-p90', 0)),
    stat('fl.p99', count(q.p99, 'fl-p99', 0)),
    stat('fl.mean_score', count(r.mean_score, 'fl-mean_score', 2)),
    stat('fl.max_score', count(r.max_score, 'fl-max_score', 2)),
  )));
  if (Array.isArray(r.distribution) && r.distribution.length) out.push(() => renderDistribution(r));
  if (r.score?.weights) {
    out.push(section('fl.weights', table('fl.weights', [{ key: 'fl.col_stat' }, { key: 'fl.col_weight', numeric: true }],
      Object.entries(r.score.weights).map(([k, w]) => [h('code', {}, k), String(w)]), 'fl-weights')));
  }
  if (r.item?.pool) {
    out.push(h('p', { class: 'meta' }, t('fl.pool'), ' ', r.item.pool.map((s) => h('code', {}, s)).flatMap((c, i) => (i ? [' ', c] : [c]))));
  }
  out.push(notes('fl.notes', r.notes, 'notes engine-notes'));
  return out.filter(Boolean);
}

function renderDistribution(r) {
  let cum = 0;
  const points = r.distribution.map((d) => {
    cum += d.p;
    return { x: d.score, p: Math.min(cum, 1) };
  });
  const marks = [];
  if (!r.impossible && r.target_score !== undefined) {
    const below = r.distribution.filter((d) => d.score < r.target_score).reduce((s, d) => s + d.p, 0);
    marks.push({ x: r.target_score, p: below, label: t('fl.target_mark') });
  }
  const l = lang();
  const desc = t('fl.chart_desc', { p: formatPercent(r.p_success, l).text, target: String(r.target_score) });
  return section('fl.chart', h('figure', { class: 'chart-box' },
    cdfChart({
      points, marks, title: t('fl.chart'), desc,
      xFmt: (v) => formatCount(v, l, 0).text, xLabel: t('fl.axis_score'), yLabel: t('sf.axis_cum'), width: chartWidth(),
    }),
    h('figcaption', {}, desc)));
}

export function flameTab({ engine, onValuesChange }) {
  return mountCalculator({ id: 'flame', prefix: 'fl', op: 'flame', spec: SPEC, toRequest, render, engine, onValuesChange });
}
