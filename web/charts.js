// Hand-written SVG charts (no library, nothing fetched): a cumulative distribution and a bar chart.
// Both scale to their container (viewBox), carry a <title> and a <desc> for screen readers, and take their
// axis labels already formatted in the page's language. Drawn in the coordinates of the space they get (at
// most 640 wide), so their text stays readable on a phone.
const NS = 'http://www.w3.org/2000/svg';
const H = 260;
const M = { left: 64, right: 16, top: 14, bottom: 40 };

/** The drawing width for the current layout: the main column's width, within 300..640. */
export function chartWidth() {
  const main = document.querySelector('main');
  return Math.round(Math.min(640, Math.max(300, (main?.clientWidth ?? 640) - 16)));
}

let uid = 0;

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** About `count` round tick values from 0 to `max` (steps of 1, 2 or 5 × 10^k). */
export function ticks(max, count = 4) {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(v);
  return out;
}

function frame(W, titleText, descText) {
  const id = `chart-${++uid}`;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'chart' });
  svg.append(el('title', { id: `${id}-t` }, titleText), el('desc', { id: `${id}-d` }, descText));
  return svg;
}

function axes(svg, W, { xTicks, yTicks, x, y, xFmt, yFmt, xLabel, yLabel }) {
  const g = el('g', { class: 'axes' });
  for (const v of yTicks) {
    g.append(el('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(el('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFmt(v)));
  }
  for (const v of xTicks) {
    g.append(el('line', { x1: x(v), x2: x(v), y1: H - M.bottom, y2: H - M.bottom + 4, class: 'tick' }));
    g.append(el('text', { x: x(v), y: H - M.bottom + 16, 'text-anchor': 'middle' }, xFmt(v)));
  }
  g.append(el('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: 'axis' }));
  g.append(el('line', { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: 'axis' }));
  if (xLabel) g.append(el('text', { x: (M.left + W - M.right) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
  if (yLabel) {
    g.append(el('text', { x: 12, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', class: 'axis-label',
      transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, yLabel));
  }
  svg.append(g);
}

/**
 * A cumulative distribution: `points` [{x, p}] ascending in x (p = P(X ≤ x)), drawn as a step curve from
 * (0, 0) (`curve: 'step'`, for a full distribution) or as straight segments between the points only
 * (`curve: 'line'`, for a few known quantiles); `marks` [{x, p, label}] are highlighted.
 */
export function cdfChart({ points, marks = [], vline = null, title, desc, xFmt, xLabel, yLabel, width = 640, curve = 'step' }) {
  const W = width;
  const svg = frame(W, title, desc);
  const xMax = Math.max(...points.map((q) => q.x), ...marks.map((q) => q.x), vline ? vline.x : 0, 1);
  const xTicks = ticks(xMax, W < 480 ? 3 : 4);
  const top = xTicks[xTicks.length - 1] >= xMax ? xTicks[xTicks.length - 1] : xMax;
  const x = (v) => M.left + (v / top) * (W - M.left - M.right);
  const y = (p) => H - M.bottom - p * (H - M.top - M.bottom);
  axes(svg, W, { xTicks, yTicks: [0, 0.25, 0.5, 0.75, 1], x, y, xFmt, yFmt: (p) => `${Math.round(p * 100)}%`, xLabel, yLabel });
  let d;
  if (curve === 'line') {
    d = points.map((q, i) => `${i ? 'L' : 'M'}${x(q.x).toFixed(1)},${y(q.p).toFixed(1)}`).join('');
  } else {
    d = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`;
    for (const q of points) d += `H${x(q.x).toFixed(1)}V${y(q.p).toFixed(1)}`;
    d += `H${x(top).toFixed(1)}`;
  }
  svg.append(el('path', { d, class: 'series', fill: 'none', 'data-points': points.length }));
  if (vline) {
    // A budget (issue 13): a vertical rule at its x, labelled, with data-x for tests.
    const g = el('g', { class: 'vline', 'data-x': vline.x });
    g.append(el('line', { x1: x(vline.x), x2: x(vline.x), y1: M.top, y2: H - M.bottom, class: 'budget' }));
    g.append(el('text', { x: x(vline.x) + 4, y: M.top + 10, class: 'mark-label' }, vline.label));
    svg.append(g);
  }
  for (const m of marks) {
    svg.append(el('circle', { cx: x(m.x), cy: y(m.p), r: 4, class: 'mark' }));
    svg.append(el('text', { x: x(m.x) - 6, y: y(m.p) - 6, 'text-anchor': 'end', class: 'mark-label' }, m.label));
  }
  return svg;
}

/** Bars over categories: `bars` [{label, value}] with values in [0, 1] shown as percentages. */
export function barChart({ bars, title, desc, xLabel, yLabel, width = 640 }) {
  const W = width;
  const svg = frame(W, title, desc);
  const vMax = Math.max(...bars.map((b) => b.value), 1e-12);
  const yTicks = ticks(vMax * 100, 4).map((v) => v / 100);
  const top = Math.max(yTicks[yTicks.length - 1], vMax);
  const n = Math.max(bars.length, 1);
  const slot = (W - M.left - M.right) / n;
  const y = (v) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const every = Math.ceil(n / Math.floor(W / 40));
  const xTicks = bars.map((_, i) => i).filter((i) => i % every === 0);
  axes(svg, W, {
    xTicks, yTicks, x: (i) => M.left + slot * (i + 0.5), y, xFmt: (i) => bars[i].label,
    yFmt: (v) => `${Number((v * 100).toPrecision(3))}%`, xLabel, yLabel,
  });
  bars.forEach((b, i) => {
    const h = H - M.bottom - y(b.value);
    svg.append(el('rect', { x: M.left + slot * i + slot * 0.1, y: y(b.value), width: Math.max(slot * 0.8, 0.5),
      height: Math.max(h, 0), class: 'bar' }));
  });
  return svg;
}

/** `text` shortened with "…" to about `px` pixels of 11 px text (Hangul is about twice as wide as Latin). */
function fit(text, px) {
  const w = (c) => (/[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF]/.test(c) ? 11 : 6.5);
  let used = 0;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    used += w(chars[i]);
    if (used > px) return `${chars.slice(0, Math.max(i - 1, 1)).join('')}…`;
  }
  return text;
}

/**
 * Horizontal stacked bars, one row per category (issue 15: cost per item by kind, cost per preset):
 * `rows` [{label, parts: [value per series, ≥ 0]}], `series` [{label, cls}] in stacking order. The height
 * grows with the rows (`rowH` each) so every label stays readable; each segment carries a <title> with its
 * exact value (`valueFmt`), and `data-value` for tests. `rowLang`: the language of the row labels when they
 * are data (item names), set on the labels and the segments' titles.
 */
export function stackedBarChart({ rows, series, title, desc, valueFmt, xLabel, width = 640, rowH = 18, labelW = undefined, rowLang = undefined }) {
  const W = width;
  const LW = labelW ?? Math.min(200, Math.round(W * 0.34));
  const top = 8;
  // The legend, laid out first (wrapped onto more lines on a narrow chart) so the height can include it.
  const legend = [];
  let lx = 8;
  let line = 0;
  for (const s of series) {
    const w = 24 + s.label.length * (/[\uAC00-\uD7AF]/.test(s.label) ? 12 : 7);
    if (lx + w > W && lx > 8) { lx = 8; line += 1; }
    legend.push({ s, x: lx, line });
    lx += w;
  }
  const legendH = 20 * (line + 1);
  const Hs = top + rows.length * rowH + 32 + legendH;
  const id = `chart-${++uid}`;
  const svg = el('svg', { viewBox: `0 0 ${W} ${Hs}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'chart stacked' });
  svg.append(el('title', { id: `${id}-t` }, title), el('desc', { id: `${id}-d` }, desc));
  const total = (r) => r.parts.reduce((a, b) => a + (b > 0 ? b : 0), 0);
  const vMax = Math.max(...rows.map(total), 1e-12);
  const xTicks = ticks(vMax, W < 480 ? 2 : 4);
  const xTop = Math.max(xTicks[xTicks.length - 1], vMax);
  const x = (v) => LW + (v / xTop) * (W - LW - M.right);
  const bottom = top + rows.length * rowH;
  const g = el('g', { class: 'axes' });
  for (const v of xTicks) {
    g.append(el('line', { x1: x(v), x2: x(v), y1: top, y2: bottom, class: 'grid' }));
    g.append(el('text', { x: x(v), y: bottom + 14, 'text-anchor': 'middle' }, valueFmt(v)));
  }
  g.append(el('line', { x1: LW, x2: LW, y1: top, y2: bottom, class: 'axis' }));
  if (xLabel) g.append(el('text', { x: (LW + W - M.right) / 2, y: bottom + 28, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
  svg.append(g);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const label = fit(r.label, LW - 10);
    const lang = rowLang ? { lang: rowLang } : {};
    const lt = el('text', { x: LW - 6, y: y + rowH * 0.7, 'text-anchor': 'end', class: 'row-label', ...lang }, label);
    lt.append(el('title', lang, r.label));
    svg.append(lt);
    let at = 0;
    r.parts.forEach((v, k) => {
      if (!(v > 0)) return;
      const rect = el('rect', { x: x(at), y: y + 2, width: Math.max(x(at + v) - x(at), 0.5), height: rowH - 4,
        class: `seg ${series[k].cls}`, 'data-value': v, 'data-series': series[k].cls });
      rect.append(el('title', lang, `${r.label} · ${series[k].label}: ${valueFmt(v)}`));
      svg.append(rect);
      at += v;
    });
  });
  for (const { s, x: at, line: l } of legend) {
    const ly = Hs - legendH + 6 + 20 * l;
    svg.append(el('rect', { x: at, y: ly, width: 10, height: 10, class: `seg ${s.cls}` }));
    svg.append(el('text', { x: at + 14, y: ly + 9 }, s.label));
  }
  return svg;
}

/**
 * Points in the plane (issue 13: the safeguard frontier, mean mesos against mean destroyed items): `points`
 * [{x, y, label}], joined in x order, each a labelled, focusable dot with its values in a <title>.
 */
export function frontierChart({ points, title, desc, xFmt, yFmt, xLabel, yLabel, width = 640 }) {
  const W = width;
  const svg = frame(W, title, desc);
  const xs = points.map((q) => q.x);
  const ys = points.map((q) => q.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yTop = Math.max(...ys, 1e-12);
  const span = x1 - x0 || Math.max(x1, 1);
  const pad = span * 0.08;
  const lo = Math.max(0, x0 - pad);
  const hi = x1 + pad;
  const x = (v) => M.left + ((v - lo) / (hi - lo)) * (W - M.left - M.right);
  const yTicks = ticks(yTop, 4);
  const top = Math.max(yTicks[yTicks.length - 1], yTop);
  const y = (v) => H - M.bottom - (v / top) * (H - M.top - M.bottom);
  const xTicks = [lo, (lo + hi) / 2, hi];
  axes(svg, W, { xTicks, yTicks, x, y, xFmt, yFmt, xLabel, yLabel });
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const d = sorted.map((q, i) => `${i ? 'L' : 'M'}${x(q.x).toFixed(1)},${y(q.y).toFixed(1)}`).join('');
  svg.append(el('path', { d, class: 'series', fill: 'none' }));
  sorted.forEach((q, i) => {
    const g = el('g', { class: 'point', tabindex: 0, 'data-x': q.x, 'data-y': q.y });
    g.append(el('circle', { cx: x(q.x), cy: y(q.y), r: 4, class: 'mark' }));
    const above = i % 2 === 0;
    const right = x(q.x) > W / 2;
    g.append(el('text', { x: x(q.x) + (right ? -6 : 6), y: y(q.y) + (above ? -6 : 14), 'text-anchor': right ? 'end' : 'start',
      class: 'mark-label' }, q.label));
    g.append(el('title', {}, `${q.label}: ${xFmt(q.x)}, ${yFmt(q.y)}`));
    svg.append(g);
  });
  return svg;
}
