// Number formatting for the page: mesos in 조/억/만 (Korean) or B/M/K (English), counts and percentages.
// Every formatter returns {text, title}: `text` is what the page shows, `title` the exact value (shown on
// hover). Pure functions with no DOM access, so the browser tests import this module in node and compare
// the page's figures with the CLI's numbers formatted the same way.

/** "1234567.891" → "1,234,567.891": the exact shortest decimal form of `n` with grouped integer digits. */
export function exactNumber(n) {
  if (!Number.isFinite(n)) return String(n);
  const s = String(n);
  if (/e/i.test(s)) return s;
  const neg = s.startsWith('-');
  const [int, frac] = (neg ? s.slice(1) : s).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + grouped + (frac ? '.' + frac : '');
}

// Intl.NumberFormat objects are costly to create: one per (locale, fraction digits), made on first use.
const formats = new Map();
function nf(locale, maxFrac) {
  const key = `${locale}/${maxFrac}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: maxFrac });
    formats.set(key, f);
  }
  return f;
}

const group = (n) => nf('en-US', 0).format(Math.round(n));

// Korean units: the two most significant of 조 (10^12), 억 (10^8), 만 (10^4) and the rest, rounded at the
// smaller shown unit: 1,234,567,890 → "12억 3,457만".
function koMeso(n) {
  const abs = Math.abs(n);
  if (Math.round(abs) < 1e4) return group(n);
  const units = [1e12, 1e8, 1e4, 1];
  const names = ['조', '억', '만', ''];
  const top = units.findIndex((u) => abs >= u);
  const step = units[Math.min(top + 1, units.length - 1)];
  let v = Math.round(abs / step) * step;
  const parts = [];
  for (let i = 0; i < units.length; i++) {
    const q = i === 0 ? Math.floor(v / units[0]) : Math.floor((v % units[i - 1]) / units[i]);
    if (q > 0 && parts.length < 2) parts.push(group(q) + names[i]);
    else if (parts.length > 0) break;
  }
  return (n < 0 ? '-' : '') + parts.join(' ');
}

// English units: B (10^9), M (10^6), K (10^3) with about four significant digits: 12.35B, 123.5M.
function enMeso(n) {
  const abs = Math.abs(n);
  /** @type {[number, string][]} */
  const units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [u, name] of units) {
    if (abs >= u * 0.9995) {
      const v = n / u;
      const digits = Math.abs(v) < 100 ? 2 : Math.abs(v) < 10000 ? 1 : 0;
      return nf('en-US', digits).format(v) + name;
    }
  }
  return group(n);
}

/** Mesos: "12억 3,457만" / "1.23B"; title: the exact number and the unit. */
export function formatMeso(n, lang) {
  if (n === null || n === undefined) return { text: '—', title: '' };
  const text = lang === 'en' ? enMeso(n) : koMeso(n);
  const unit = lang === 'en' ? ' mesos' : ' 메소';
  return { text, title: exactNumber(n) + unit };
}

/** A plain count or mean (attempts, destroyed items, cubes): `digits` decimals at most. */
export function formatCount(n, lang, digits = 2) {
  if (n === null || n === undefined) return { text: '—', title: '' };
  const text = nf(lang === 'en' ? 'en-US' : 'ko-KR', digits).format(n);
  return { text, title: exactNumber(n) };
}

/** A probability in [0, 1] as a percentage: two decimals, or three significant digits below 1 %. */
export function formatPercent(p, lang) {
  if (p === null || p === undefined) return { text: '—', title: '' };
  const pct = p * 100;
  let text;
  if (pct === 0 || pct === 100) text = String(pct);
  else if (pct >= 1) text = nf(lang === 'en' ? 'en-US' : 'ko-KR', 2).format(pct);
  else text = String(Number(pct.toPrecision(3)));
  return { text: text + '%', title: exactNumber(p) };
}

/** Short axis labels for charts (no hover there): "12억", "1.2B". */
export function formatMesoShort(n, lang) {
  if (lang === 'en') return enMeso(n);
  const abs = Math.abs(n);
  for (const [u, name] of /** @type {[number, string][]} */ ([[1e12, '조'], [1e8, '억'], [1e4, '만']])) {
    if (abs >= u) return nf('ko-KR', abs / u < 10 ? 1 : 0).format(n / u) + name;
  }
  return group(n);
}
