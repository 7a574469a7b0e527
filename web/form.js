// Forms built from field specs, so every input has a label, a URL encoding and a typed value in one place.
//
// A spec is a list of fields and groups:
//   {name, kind: 'number', label, def, min, max, step}         → a number (empty → undefined)
//   {name, kind: 'meso', label, def}                            → a number of mesos, with its 조/억/만 reading
//   {name, kind: 'select', label, def, options: [{value, label}]}
//   {name, kind: 'checkbox', label, def}                        → true / false
//   {name, kind: 'text', label, def, maxlength}
//   {name, kind: 'custom', widget}                              → widget: {el, read(), write(v), encode(v), decode(s), def}
//   {group: labelKey, fields: [...]}                            → a <fieldset> with a legend
// Labels are i18n keys or {ko, en}; `attr` adds attributes to the control; `show(values)` hides a field when false.
import { t, label, onLangChange, lang } from './i18n.js';
import { formatMeso } from './format.js';

let uid = 0;

export function flatten(spec) {
  return spec.flatMap((f) => (f.group ? flatten(f.fields) : [f]));
}

function bindLabel(el, l) {
  if (typeof l === 'string') el.dataset.i18n = l;
  el.textContent = label(l);
  if (typeof l !== 'string') onLangChange(() => { el.textContent = label(l); });
}

function control(f, prefix) {
  const id = `${prefix}-${f.name}-${++uid}`;
  const wrap = /** @type {HTMLDivElement & {update?: () => void}} */ (document.createElement('div'));
  wrap.className = `field field-${f.kind}`;
  wrap.dataset.field = f.name;
  if (f.kind === 'custom') {
    wrap.append(f.widget.el);
    return { wrap, f };
  }
  const lab = document.createElement('label');
  lab.htmlFor = id;
  const text = document.createElement('span');
  bindLabel(text, f.label);
  let input;
  if (f.kind === 'select') {
    input = document.createElement('select');
    for (const o of f.options) {
      const opt = document.createElement('option');
      opt.value = o.value;
      bindLabel(opt, o.label);
      if (o.lang) opt.lang = o.lang;
      input.append(opt);
    }
  } else {
    input = document.createElement('input');
    input.type = f.kind === 'checkbox' ? 'checkbox' : f.kind === 'text' ? 'text' : 'number';
    if (f.kind === 'number' || f.kind === 'meso') {
      input.inputMode = f.step === 'any' || (f.step && f.step < 1) ? 'decimal' : 'numeric';
      for (const k of ['min', 'max', 'step']) if (f[k] !== undefined) input[k] = f[k];
      if (f.kind === 'meso') input.step = f.step ?? 1;
    }
    if (f.kind === 'text') {
      if (f.maxlength) input.maxLength = f.maxlength;
      input.autocomplete = 'off';
      input.spellcheck = false;
    }
  }
  input.id = id;
  input.name = f.name;
  for (const [k, v] of Object.entries(f.attr ?? {})) input.setAttribute(k, v);
  if (f.kind === 'checkbox') lab.append(input, text);
  else lab.append(text, input);
  wrap.append(lab);
  if (f.kind === 'meso') {
    // The amount read back in 조/억/만 (or B/M/K), so a long number is easy to check while typing.
    const hint = document.createElement('span');
    hint.className = 'hint';
    hint.id = id + '-hint';
    hint.setAttribute('aria-live', 'polite');
    input.setAttribute('aria-describedby', hint.id);
    const update = () => {
      const v = input.value === '' ? null : Number(input.value);
      hint.textContent = v === null || !Number.isFinite(v) ? '' : '= ' + formatMeso(v, lang()).text;
    };
    input.addEventListener('input', update);
    onLangChange(update);
    wrap.append(hint);
    wrap.update = update;
  }
  return { wrap, f, input };
}

/** Build the controls of `spec` into `form`; returns {read, write, encode, decode, fields}. */
export function buildForm(form, prefix, spec) {
  const controls = [];
  const add = (parent, items) => {
    for (const f of items) {
      if (f.group) {
        const fs = document.createElement('fieldset');
        const lg = document.createElement('legend');
        bindLabel(lg, f.group);
        fs.append(lg);
        if (f.className) fs.className = f.className;
        add(fs, f.fields);
        parent.append(fs);
      } else {
        const c = control(f, prefix);
        controls.push(c);
        parent.append(c.wrap);
      }
    }
  };
  add(form, spec);
  const fields = flatten(spec);

  const readOne = ({ f, input }) => {
    switch (f.kind) {
      case 'custom': return f.widget.read();
      case 'checkbox': return input.checked;
      case 'number':
      case 'meso': return input.value === '' ? undefined : Number(input.value);
      default: return input.value;
    }
  };
  const read = () => Object.fromEntries(controls.map((c) => [c.f.name, readOne(c)]));
  const write = (values) => {
    for (const c of controls) {
      const v = values[c.f.name] ?? defaultOf(c.f);
      if (c.f.kind === 'custom') c.f.widget.write(v);
      else if (c.f.kind === 'checkbox') c.input.checked = Boolean(v);
      else if (c.f.kind === 'select' && ![...c.input.options].some((o) => o.value === String(v))) {
        // A value from a URL that is not one of the choices is kept as is, so the engine names it.
        c.input.append(new Option(String(v), String(v)));
        c.input.value = String(v);
      }
      else c.input.value = v === undefined ? '' : String(v);
      c.wrap.update?.();
    }
    refresh();
  };
  // Conditional fields (`show`) follow the current values.
  const refresh = () => {
    const values = read();
    for (const c of controls) if (c.f.show) c.wrap.hidden = !c.f.show(values);
  };
  form.addEventListener('input', refresh);
  form.addEventListener('change', refresh);
  return { read, write, refresh, fields, controls };
}

function defaultOf(f) {
  return f.kind === 'custom' ? f.widget.def : f.def;
}

/** URL form of the fields that differ from their defaults: [[`${prefix}.${name}`, string]]. */
export function encode(prefix, fields, values) {
  const out = [];
  for (const f of fields) {
    const v = values[f.name];
    const d = defaultOf(f);
    let s;
    if (f.kind === 'custom') {
      s = f.widget.encode(v);
      if (s === f.widget.encode(d)) continue;
    } else if (f.kind === 'checkbox') {
      if (Boolean(v) === Boolean(d)) continue;
      s = v ? '1' : '0';
    } else {
      if (v === d || (v === undefined && d === undefined)) continue;
      s = v === undefined ? '' : String(v);
    }
    out.push([`${prefix}.${f.name}`, s]);
  }
  return out;
}

/** Values from URL parameters (missing → default); an unknown select value is kept (see `write`). */
export function decode(prefix, fields, params) {
  const values = {};
  for (const f of fields) {
    const key = `${prefix}.${f.name}`;
    if (!params.has(key)) {
      values[f.name] = defaultOf(f);
      continue;
    }
    const s = params.get(key);
    switch (f.kind) {
      case 'custom': values[f.name] = f.widget.decode(s); break;
      case 'checkbox': values[f.name] = s === '1' || s === 'true'; break;
      case 'number':
      case 'meso': values[f.name] = s === '' ? undefined : Number(s); break;
      default: values[f.name] = s;
    }
  }
  return values;
}

export { t };
