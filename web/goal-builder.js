// The potential goal builder: a list of conditions, each "stat at least N" or "at least N lines of stat".
// A form widget for form.js (`kind: 'custom'`): read/write a list of {kind: 'min'|'lines', stat, value};
// URL form "min:att_pct:21,lines:crit_dmg_pct:2".
import { t, label, onLangChange } from './i18n.js';
import { h } from './render.js';

export function goalBuilder({ stats, def }) {
  const list = h('ol', { class: 'goal-rows' });
  const addButton = h('button', { type: 'button', class: 'add' });
  const legend = h('legend', {});
  const el = h('fieldset', { class: 'goal' }, legend, list, addButton);
  let rows = [];

  const labels = () => {
    legend.textContent = t('pot.goal');
    addButton.textContent = t('pot.goal_add');
    rows.forEach((r, i) => r.relabel(i));
  };

  const changed = () => el.dispatchEvent(new Event('input', { bubbles: true }));

  function makeRow(cond) {
    const kind = h('select', { class: 'goal-kind' },
      h('option', { value: 'min' }), h('option', { value: 'lines' }));
    const stat = h('select', { class: 'goal-stat' }, stats.map((s) => h('option', { value: s.value })));
    const value = h('input', { type: 'number', class: 'goal-value', min: 1, step: 1, inputmode: 'numeric' });
    const remove = h('button', { type: 'button', class: 'remove' }, '×');
    kind.value = cond.kind;
    stat.value = cond.stat;
    value.value = cond.value === undefined ? '' : String(cond.value);
    const li = h('li', {}, kind, stat, value, remove);
    const row = {
      li,
      read: () => ({ kind: kind.value, stat: stat.value, value: value.value === '' ? undefined : Number(value.value) }),
      relabel(i) {
        kind.options[0].textContent = t('pot.goal_min');
        kind.options[1].textContent = t('pot.goal_lines');
        [...stat.options].forEach((o, j) => { o.textContent = label(stats[j].label); });
        kind.setAttribute('aria-label', t('pot.goal_kind_n', { n: i + 1 }));
        stat.setAttribute('aria-label', t('pot.goal_stat_n', { n: i + 1 }));
        value.setAttribute('aria-label', t('pot.goal_value_n', { n: i + 1 }));
        remove.setAttribute('aria-label', t('pot.goal_remove_n', { n: i + 1 }));
      },
    };
    remove.addEventListener('click', () => {
      rows = rows.filter((r) => r !== row);
      li.remove();
      labels();
      changed();
      (rows[0]?.li.querySelector('select') ?? addButton).focus();
    });
    return row;
  }

  const write = (conds) => {
    rows = conds.map(makeRow);
    list.replaceChildren(...rows.map((r) => r.li));
    labels();
  };

  addButton.addEventListener('click', () => {
    const used = new Set(rows.map((r) => r.read().stat));
    const next = stats.find((s) => !used.has(s.value)) ?? stats[0];
    const row = makeRow({ kind: 'min', stat: next.value, value: 1 });
    rows.push(row);
    list.append(row.li);
    labels();
    changed();
    row.li.querySelector('select').focus();
  });
  onLangChange(labels);

  return {
    el,
    def,
    read: () => rows.map((r) => r.read()),
    write,
    encode: (conds) => conds.map((c) => `${c.kind}:${c.stat}:${c.value ?? ''}`).join(','),
    decode: (s) => s.split(',').filter(Boolean).map((part) => {
      const [kind, stat, value] = part.split(':');
      return { kind: kind === 'lines' ? 'lines' : 'min', stat, value: value === '' || value === undefined ? undefined : Number(value) };
    }),
  };
}

/** The engine's goal object for a list of conditions; throws {code, message} for a repeated condition. */
export function goalJson(conds) {
  const goal = {};
  for (const c of conds) {
    const key = c.kind === 'lines' ? 'lines' : 'at_least';
    goal[key] ??= {};
    if (c.stat in goal[key]) {
      // An object cannot hold the same stat twice: say so rather than keep one of them silently.
      throw Object.assign(new Error(t('pot.goal_duplicate', { stat: c.stat })), { code: 'invalid_combination' });
    }
    goal[key][c.stat] = c.value ?? null;
  }
  return goal;
}
