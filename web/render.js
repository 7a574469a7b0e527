// Small DOM helpers for the result views. Every shown number is a <data> element whose `value` is the
// engine's number and whose `title` is its exact form (shown on hover); tests read `data-testid`.
import { t, say } from './i18n.js';

/** h('p', {class: 'x'}, 'text', child…): attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** A number: `formatted` = {text, title} from format.js, `value` the raw number. */
export function num(formatted, value, testid) {
  return h('data', { value: value ?? '', title: formatted.title || null, 'data-testid': testid }, formatted.text);
}

/** One figure of a summary grid: a label and a formatted number (or any node). */
export function stat(labelKey, node, hint) {
  return h('div', { class: 'stat' }, h('dt', {}, t(labelKey)), h('dd', {}, node, hint ? h('small', {}, hint) : null));
}

export function grid(...stats) {
  return h('dl', { class: 'stats' }, ...stats);
}

export function section(titleKey, ...children) {
  return h('section', { class: 'block' }, h('h3', {}, t(titleKey)), ...children);
}

/** A table: columns [{key: i18n key, numeric}], rows of cells (nodes or strings). Scrolls on narrow screens. */
export function table(captionKey, columns, rows, testid) {
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t(captionKey) },
    h('table', { 'data-testid': testid },
      h('caption', {}, t(captionKey)),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, t(c.key))))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) => (i === 0
        ? h('th', { scope: 'row' }, cell)
        : h('td', { class: columns[i].numeric ? 'num' : null }, cell))))))));
}

/**
 * A list of the engine's notes or warnings, each `{code, params, message}` rendered from its code in the page's
 * language (`say`); the code itself stays in the raw-JSON view and in `data-code`.
 */
export function notes(titleKey, items, cls = 'notes') {
  if (!items || items.length === 0) return null;
  return section(titleKey, h('ul', { class: cls }, items.map((n) => h('li',
    { 'data-source': 'engine', 'data-code': typeof n === 'string' ? null : n.code ?? null }, say(n)))));
}

/** Yield to the event loop, so that input and painting can run between two pieces of work. */
export function nextTask() {
  return globalThis.scheduler?.yield ? globalThis.scheduler.yield() : new Promise((r) => setTimeout(r, 0));
}

/**
 * Put a view's parts into `container`: nodes at once, functions (the heavier sections: charts, long tables)
 * one per task, so that no single main-thread task grows long. Stops, returning false, when `current()`
 * says a newer view has started meanwhile.
 */
export async function paint(container, parts, current) {
  container.replaceChildren();
  for (const part of parts) {
    if (typeof part === 'function') {
      await nextTask();
      if (!current()) return false;
      const node = part();
      if (node) container.append(node);
    } else if (part) {
      container.append(part);
    }
  }
  return true;
}
