// One calculator tab: a form built from a field spec, a debounced recompute in the engine Worker (through the
// tab's own channel, so a superseded result is dropped), and a render function for the result.
//
// The panel's `data-state` is `computing`, `done` or `error`, and `data-request` holds the JSON of the request
// whose result (or error) is shown; the engine's raw JSON is in the panel's "JSON" details. Each shown result
// records a User Timing measure `pve:<tab>` from the input change to the rendered result (detail: engine ms).
import { buildForm, encode, decode } from './form.js';
import { t, errorText, onLangChange } from './i18n.js';
import { STALE } from './engine-client.js';

export const DEBOUNCE_MS = 100;

/**
 * A hidden tab does not compute; it computes when shown if its values changed meanwhile.
 * options: {id, prefix, op, spec, toRequest(values) → request, render(ctx) → Node[], engine, onValuesChange()}
 */
export function mountCalculator(opts) {
  const { id, prefix, op, spec, toRequest, render, engine, onValuesChange } = opts;
  const panel = document.getElementById(`panel-${id}`);
  const form = panel.querySelector('form');
  const results = panel.querySelector('.results');
  const error = panel.querySelector('.error');
  const status = panel.querySelector('.status');
  const rawPre = panel.querySelector('.raw pre');
  const ui = buildForm(form, prefix, spec);
  form.addEventListener('submit', (e) => e.preventDefault());

  let timer = null;
  let inputAt = performance.now();
  let shown = null; // {request, response} or {request, error}
  let slowTimer = null;

  const show = () => {
    if (!shown) return;
    if (shown.error) {
      error.hidden = false;
      error.textContent = errorText(shown.error);
      results.replaceChildren();
      rawPre.textContent = '';
      return;
    }
    try {
      const t0 = performance.now();
      results.replaceChildren(...render({ response: shown.response, request: shown.request, values: shown.values }));
      performance.measure(`pve:render:${id}`, { start: t0, end: performance.now() });
      error.hidden = true;
    } catch (e) {
      // A response the view cannot show is a bug: say so instead of leaving half a result on screen.
      console.error(e);
      results.replaceChildren();
      error.hidden = false;
      error.textContent = errorText({ code: 'internal', message: String(e.message || e) });
    }
    rawPre.textContent = shown.raw;
  };

  const recompute = async () => {
    const values = ui.read();
    const startedAt = inputAt;
    let request;
    try {
      request = toRequest(values);
    } catch (e) {
      shown = { request: null, error: e, values };
      panel.dataset.state = 'error';
      delete panel.dataset.request;
      show();
      return;
    }
    panel.dataset.state = 'computing';
    clearTimeout(slowTimer);
    slowTimer = setTimeout(() => { status.textContent = t('common.computing'); }, 300);
    let outcome;
    try {
      const r = await engine.latest(id, op, request);
      if (r === STALE) return;
      outcome = { request, response: r.response, raw: r.raw, values, ms: r.ms };
    } catch (e) {
      outcome = { request, error: e, values };
    }
    clearTimeout(slowTimer);
    status.textContent = '';
    shown = outcome;
    show();
    panel.dataset.request = JSON.stringify(request);
    panel.dataset.state = outcome.error ? 'error' : 'done';
    if (!outcome.error) {
      performance.measure(`pve:${id}`, { start: startedAt, end: performance.now(), detail: { engine_ms: outcome.ms } });
    }
  };

  // A tab computes only while it is shown; a hidden tab remembers that its values changed.
  let active = false;
  let dirty = true;
  const schedule = () => {
    inputAt = performance.now();
    if (!active) {
      dirty = true;
      return;
    }
    dirty = false;
    panel.dataset.state = 'computing';
    clearTimeout(timer);
    timer = setTimeout(recompute, DEBOUNCE_MS);
  };

  form.addEventListener('input', () => {
    onValuesChange?.();
    schedule();
  });
  form.addEventListener('change', () => onValuesChange?.());
  onLangChange(show);

  return {
    panel,
    ui,
    /** URL parameters of the current values (only those that differ from the defaults). */
    encode: () => encode(prefix, ui.fields, ui.read()),
    /** Load values from URL parameters and recompute. */
    load(params) {
      ui.write(decode(prefix, ui.fields, params));
      schedule();
    },
    recompute: schedule,
    setActive(a) {
      active = a;
      if (active && dirty) schedule();
    },
  };
}
