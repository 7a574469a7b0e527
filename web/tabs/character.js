// Character: a name → the edge API's valuation (GET /v1/characters/{name}/valuation); per-set totals and a
// per-item table (star force, potential, additional potential, flame, and what could not be valued and
// why). The what-if controls recompute locally: the engine Worker values the equipment the API returned
// (operation `valuation`, request {equipment, options}) without another request.
import { buildForm, encode, decode } from '../form.js';
import { t, lang, errorText, onLangChange } from '../i18n.js';
import { formatMeso, formatCount } from '../format.js';
import { h, num, stat, grid, section, table, notes } from '../render.js';
import { STALE } from '../engine-client.js';
import { DEBOUNCE_MS } from '../calculator.js';

const LOOKUP = [{ name: 'name', kind: 'text', label: 'ch.name', def: '', maxlength: 32, attr: { autocapitalize: 'off', enterkeyhint: 'search' } }];

const sel = (name, labelKey, def, values, prefix) => ({
  name, kind: 'select', label: labelKey, def, options: values.map((v) => ({ value: v, label: prefix + v })),
});

/** What-if options: the valuation's request options (documented in engine/api/src/valuation.rs). */
export const WHATIF = [
  {
    group: 'ch.group_starforce', className: 'row',
    fields: [
      { name: 'star_catch', kind: 'checkbox', label: 'sf.star_catch', def: true },
      { name: 'safeguard', kind: 'checkbox', label: 'sf.safeguard', def: false },
      ...['thirty_off', 'boom_reduction', 'five_ten_fifteen', 'plus_one'].map((n) => ({ name: n, kind: 'checkbox', label: `sf.event_${n}`, def: false })),
      sel('mvp', 'sf.mvp', 'none', ['none', 'silver', 'gold', 'diamond', 'red'], 'sf.mvp_'),
      { name: 'pc_room', kind: 'checkbox', label: 'sf.pc_room', def: false },
    ],
  },
  {
    group: 'ch.group_potential', className: 'row',
    fields: [
      sel('pot_reset', 'ch.pot_reset', 'meso_reset_main', ['meso_reset_main', 'black', 'red'], 'pot.cube_'),
      sel('add_reset', 'ch.add_reset', 'meso_reset_additional', ['meso_reset_additional', 'additional', 'white_additional'], 'pot.cube_'),
      sel('start_grade', 'ch.start_grade', 'rare', ['rare', 'epic', 'unique', 'legendary'], 'ch.grade_'),
      sel('flame', 'fl.flame', 'eternal', ['powerful', 'eternal', 'black', 'abyss'], 'fl.flame_'),
    ],
  },
];

/** The valuation options for the what-if values. */
export function toOptions(v) {
  return {
    starforce: {
      star_catch: v.star_catch, safeguard: v.safeguard,
      events: { thirty_off: v.thirty_off, boom_reduction: v.boom_reduction, five_ten_fifteen: v.five_ten_fifteen, plus_one: v.plus_one },
      mvp: v.mvp, pc_room: v.pc_room,
    },
    potential: { reset: v.pot_reset, start_grade: v.start_grade },
    additional_potential: { reset: v.add_reset, start_grade: v.start_grade },
    flame: { flame: v.flame },
  };
}

export function characterTab({ engine, onValuesChange }) {
  const panel = document.getElementById('panel-character');
  const lookupForm = panel.querySelector('form.lookup');
  const whatifForm = panel.querySelector('form.whatif');
  const results = panel.querySelector('.results');
  const error = panel.querySelector('.error');
  const status = panel.querySelector('.status');
  const rawPre = panel.querySelector('.raw pre');

  const lookup = buildForm(lookupForm, 'ch', LOOKUP);
  const submit = h('button', { type: 'submit', 'data-i18n': 'ch.lookup' }, t('ch.lookup'));
  lookupForm.append(submit);
  const whatif = buildForm(whatifForm, 'ch', WHATIF);
  whatifForm.hidden = true;

  let active = false;
  let pendingName = null; // a name from the URL, looked up when the tab is first shown
  let fetched = null; // {name, body}: the API's answer
  let shown = null; // {source: 'api'|'local', response, raw} or {error}
  let timer = null;
  let lookupSeq = 0;

  const show = () => {
    if (!shown) {
      error.hidden = true;
      results.replaceChildren();
      return;
    }
    if (shown.error) {
      error.hidden = false;
      error.textContent = errorText(shown.error);
      results.replaceChildren();
      return;
    }
    error.hidden = true;
    results.replaceChildren(...render(shown));
    rawPre.textContent = shown.raw;
  };
  onLangChange(show);

  async function runLookup(name) {
    const seq = ++lookupSeq;
    panel.dataset.state = 'computing';
    status.textContent = t('ch.looking_up', { name });
    let outcome;
    try {
      const res = await fetch(`/v1/characters/${encodeURIComponent(name)}/valuation`, { headers: { accept: 'application/json' } });
      const text = await res.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        throw Object.assign(new Error(t('ch.bad_response', { status: res.status })), { code: 'bad_response' });
      }
      if (!res.ok) {
        const e = body?.error ?? {};
        // Until the server has the character route, say plainly that the lookup is not available.
        if (res.status === 404 && e.code === 'route_not_found') {
          throw Object.assign(new Error(t('ch.route_missing')), { code: 'not_available' });
        }
        throw Object.assign(new Error(e.message ?? `HTTP ${res.status}`), { code: e.code ?? `http_${res.status}` });
      }
      fetched = { name, body };
      outcome = { source: 'api', response: valuationOf(body), raw: text };
    } catch (e) {
      fetched = null;
      outcome = { error: e };
    }
    if (seq !== lookupSeq) return;
    status.textContent = '';
    shown = outcome;
    whatifForm.hidden = !fetched;
    show();
    panel.dataset.request = JSON.stringify({ name });
    panel.dataset.state = outcome.error ? 'error' : 'done';
  }

  async function recomputeLocal() {
    if (!fetched) return;
    const equipment = equipmentOf(fetched.body);
    if (!equipment) {
      shown = { error: { code: 'not_available', message: t('ch.no_equipment') } };
      show();
      return;
    }
    const request = { equipment, options: toOptions(whatif.read()) };
    panel.dataset.state = 'computing';
    let outcome;
    try {
      const r = await engine.latest('character', 'valuation', request);
      if (r === STALE) return;
      outcome = { source: 'local', response: r.response, raw: r.raw };
    } catch (e) {
      outcome = { error: e };
    }
    shown = outcome;
    show();
    panel.dataset.request = JSON.stringify({ name: fetched.name, options: request.options });
    panel.dataset.state = outcome.error ? 'error' : 'done';
  }

  lookupForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = lookup.read().name.trim();
    onValuesChange();
    if (!name) {
      shown = { error: { code: 'missing_field', message: t('ch.name_required') } };
      show();
      return;
    }
    runLookup(name);
  });
  lookupForm.addEventListener('input', onValuesChange);
  whatifForm.addEventListener('input', () => {
    onValuesChange();
    clearTimeout(timer);
    timer = setTimeout(recomputeLocal, DEBOUNCE_MS);
  });

  return {
    panel,
    encode: () => [...encode('ch', lookup.fields, lookup.read()), ...encode('ch', whatif.fields, whatif.read())],
    load(params) {
      lookup.write(decode('ch', lookup.fields, params));
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

/** The valuation inside the API's answer (the answer may wrap it with the equipment). */
function valuationOf(body) {
  return body.valuation ?? body;
}

/** The raw item-equipment JSON the API returned with the valuation, for local what-ifs. */
function equipmentOf(body) {
  return body.equipment ?? null;
}

const meso = (x, id) => (x === null || x === undefined ? h('span', {}, '—') : num(formatMeso(x, lang()), x, id));

function render({ source, response: r }) {
  const out = [];
  out.push(h('p', { class: 'meta', 'data-testid': 'ch-source' }, t(source === 'api' ? 'ch.source_api' : 'ch.source_local')));
  const total = r.total ?? {};
  out.push(section('ch.total', grid(
    stat('ch.total_cost', meso(total.mean_cost, 'ch-total')),
    ...['starforce', 'potential', 'additional_potential', 'flame'].map((k) => stat(`ch.kind_${k}`, meso(total.by_kind?.[k]?.mean_cost ?? total.by_kind?.[k], `ch-total-${k}`))),
  )));
  if (Array.isArray(r.sets) && r.sets.length) {
    out.push(section('ch.sets', table('ch.sets', [
      { key: 'ch.col_set' }, { key: 'ch.col_cost', numeric: true }, { key: 'ch.col_valued', numeric: true },
      { key: 'ch.col_not_valued', numeric: true },
    ], r.sets.map((s) => [
      t(`ch.set_${s.name}`),
      meso(s.mean_cost ?? s.total?.mean_cost),
      num(formatCount(s.valued ?? 0, lang(), 0), s.valued),
      num(formatCount(s.not_valued ?? 0, lang(), 0), s.not_valued),
    ]), 'ch-sets')));
  }
  if (Array.isArray(r.items) && r.items.length) {
    out.push(section('ch.items', table('ch.items', [
      { key: 'ch.col_item' }, { key: 'ch.col_starforce', numeric: true }, { key: 'ch.col_potential', numeric: true },
      { key: 'ch.col_additional', numeric: true }, { key: 'ch.col_flame', numeric: true }, { key: 'ch.col_missing' },
    ], r.items.map((it) => [
      h('span', {}, h('span', { lang: 'ko' }, it.name ?? ''), h('small', { lang: 'ko' }, ` ${it.slot ?? ''}`)),
      meso(it.starforce?.mean_cost),
      meso(it.potential?.mean_cost),
      meso(it.additional_potential?.mean_cost),
      meso(it.flame?.mean_cost),
      (it.not_valued ?? []).length
        ? h('ul', { class: 'not-valued' }, it.not_valued.map((n) => h('li', { 'data-source': 'engine' }, h('code', {}, n.kind ?? ''), ' ', h('code', {}, n.reason_code ?? ''), ' ', n.message ?? '')))
        : '—',
    ]), 'ch-items')));
  }
  out.push(notes('ch.notes', r.notes, 'notes engine-notes'));
  return out.filter(Boolean);
}
