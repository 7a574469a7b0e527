// Korean (default) and English. Every label on the page comes from `strings.js` through `t()`; static markup
// names its key in `data-i18n` (text) or `data-i18n-attr="attr:key;attr:key"` (attributes) and
// `applyI18n()` fills them in. Data values that are proper nouns or the game's own option strings (a
// character's name, a potential line such as "INT +12%") stay as they are and carry `lang="ko"`.
import { STRINGS } from './strings.js';

let current = 'ko';
const reported = new Set();
const listeners = [];

export const LANGS = ['ko', 'en'];

export function lang() {
  return current;
}

/** `t('sf.mean_cost')`, `t('err.prefix', {code: 'out_of_range'})`: a missing key is a bug, logged once. */
export function t(key, vars) {
  let s = STRINGS[current][key];
  if (s === undefined) {
    if (!reported.has(current + key)) {
      reported.add(current + key);
      console.error(`i18n: no ${current} string for ${key}`);
    }
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** Whether a key exists in the current language (for optional labels such as per-code error texts). */
export function has(key) {
  return STRINGS[current][key] !== undefined;
}

/** A label given as a key or as {ko, en}. */
export function label(l) {
  return typeof l === 'string' ? t(l) : l[current] ?? l.ko;
}

export function applyI18n(root = document) {
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-i18n]'))) el.textContent = t(el.dataset.i18n);
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-i18n-attr]'))) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  }
}

export function setLang(l) {
  current = LANGS.includes(l) ? l : 'ko';
  document.documentElement.lang = current;
  document.title = t('app.doc_title');
  applyI18n(document);
  for (const f of listeners) f(current);
}

export function onLangChange(f) {
  listeners.push(f);
}

/** An engine or API error in the chosen language: the code's explanation, then the error's own message. */
export function errorText(e) {
  const code = e.code || 'internal';
  const what = has('err.' + code) ? t('err.' + code) : t('err.unknown', { code });
  return e.message ? `${what} (${code}): ${e.message}` : `${what} (${code})`;
}

/** Codes whose text depends on the value of some params (data with its own wording, e.g. a limit's sources):
 * `msg.<code>#<value>.<value>` when the current language has it, else `msg.<code>`. */
const VARIANTS = { 'potential.cube_assumption': ['cube', 'about'], 'potential.line_limit': ['name'] };

/**
 * An engine message `{code, params, message}` in the page's language, from its code and params (the raw code
 * stays in the raw-JSON view). A code without a text falls back to the English message (and is logged).
 * @param {{code?: string, params?: Record<string, unknown>, message?: string} | string} m
 */
export function say(m) {
  if (typeof m === 'string') return m;
  if (!m || !m.code) return m?.message ?? '';
  const params = m.params ?? {};
  const keys = VARIANTS[m.code];
  if (keys) {
    const variant = `msg.${m.code}#${keys.map((k) => params[k]).join('.')}`;
    if (has(variant)) return t(variant, params);
  }
  if (has(`msg.${m.code}`)) return t(`msg.${m.code}`, params);
  t(`msg.${m.code}`); // logs the missing text once
  return m.message ?? '';
}
