// One calculator tab: a form built from a field spec, a recompute in the engine Worker on every input (no
// debounce: the tab's own channel keeps at most one request in the Worker and one waiting, and drops a
// superseded result, so only the newest result is painted), and a render function for the result.
//
// The panel's `data-state` is `computing`, `rendering`, `done` or `error`, and `data-request` holds the JSON
// of the request whose result (or error) is shown; the engine's raw JSON is in the panel's "JSON" details.
// Each shown result records a User Timing measure `pve:<tab>` from the input change to the fully painted
// result (detail: the engine's ms), and `pve:render:<tab>` for the painting alone.
import { buildForm, encode, decode } from './form.js';
import { t, errorText, onLangChange } from './i18n.js';
import { STALE } from './engine-client.js';
import { paint } from './render.js';

/**
 * A hidden tab does not compute; it computes when shown if its values changed meanwhile.
 * options: {id, prefix, op, spec, toRequest(values) → request, render(ctx) → parts for render.js `paint`,
 *           engine, onValuesChange()}
 */
export function mountCalculator(opts) {
  const { id, prefix, op, spec, toRequest, render, engine, onValuesChange } = opts;
  const panel = document.getElementById(`panel-${id}`);
  const form = panel.querySelector('form');
  const status = panel.querySelector('.status');
  const ui = buildForm(form, prefix, spec);
  form.addEventListener('submit', (e) => e.preventDefault());

  let inputAt = performance.now();
  let slowTimer = null;
  let latestInput = 0; // an invalid form newer than a request in flight also supersedes its result

  const view = resultView(panel, render);

  const recompute = async () => {
    const values = ui.read();
    const startedAt = inputAt;
    const mine = ++latestInput;
    let request;
    try {
      request = toRequest(values);
    } catch (e) {
      delete panel.dataset.request;
      view.show({ error: e });
      return;
    }
    panel.dataset.state = 'computing';
    clearTimeout(slowTimer);
    slowTimer = setTimeout(() => { status.textContent = t('common.computing'); }, 300);
    let outcome;
    try {
      const r = await engine.latest(id, op, request);
      if (r === STALE || mine !== latestInput) return;
      outcome = { request, response: r.response, raw: r.raw, values, ms: r.ms };
    } catch (e) {
      if (mine !== latestInput) return;
      outcome = { error: e };
    }
    clearTimeout(slowTimer);
    status.textContent = '';
    panel.dataset.request = JSON.stringify(request);
    if ((await view.show(outcome)) && !outcome.error) {
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
    recompute();
  };

  form.addEventListener('input', () => {
    onValuesChange?.();
    schedule();
  });
  form.addEventListener('change', () => onValuesChange?.());
  onLangChange(() => view.show());

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

/**
 * The result area of a panel: `show(shown)` displays `{response, raw, …}` (through `render(shown)`, whose
 * parts are painted by render.js `paint`) or `{error}`, and sets the panel's `data-state`: `rendering` while
 * the parts are painted, then `done` or `error`. `show()` repaints the last one (on a language change).
 * Resolves to false when a newer `show` replaced this one meanwhile (the newer one then owns the state).
 */
export function resultView(panel, render) {
  const results = panel.querySelector('.results');
  const error = panel.querySelector('.error');
  const rawPre = panel.querySelector('.raw pre');
  let shown = null;
  let view = 0;
  const fail = (e) => {
    error.hidden = false;
    error.textContent = errorText(e);
    results.replaceChildren();
    panel.dataset.state = 'error';
    return true;
  };
  return {
    async show(next) {
      if (next) shown = next;
      if (!shown) return false;
      const mine = ++view;
      if (shown.error) {
        rawPre.textContent = '';
        return fail(shown.error);
      }
      panel.dataset.state = 'rendering';
      const t0 = performance.now();
      rawPre.textContent = shown.raw;
      try {
        const parts = render(shown);
        error.hidden = true;
        if (!(await paint(results, parts, () => mine === view))) return false;
      } catch (e) {
        // A response the view cannot show is a bug: say so instead of leaving half a result on screen.
        console.error(e);
        return fail({ code: 'internal', message: String(e.message || e) });
      }
      performance.measure(`pve:render:${panel.id.replace('panel-', '')}`, { start: t0, end: performance.now() });
      panel.dataset.state = 'done';
      return true;
    },
  };
}
