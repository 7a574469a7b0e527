// The page's pure modules under node: meso formatting in 조/억/만 and B/M/K with the exact value for hover,
// percentages, and the two languages having exactly the same labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMeso, formatPercent, formatCount, exactNumber } from '../../web/format.js';
import { STRINGS } from '../../web/strings.js';

function check(n, ko, en) {
  assert.equal(formatMeso(n, 'ko').text, ko, `ko ${n}`);
  assert.equal(formatMeso(n, 'en').text, en, `en ${n}`);
}

test('mesos: the two most significant 조/억/만 units, or B/M/K, rounded at the last shown unit', () => {
  check(0, '0', '0');
  check(999, '999', '999');
  check(12_345, '1만 2,345', '12.35K');
  check(50_000_000, '5,000만', '50M');
  check(1_234_567_890, '12억 3,457만', '1.23B');
  check(5_000_000_000, '50억', '5B');
  check(1_000_050_000, '10억 5만', '1B');
  check(999_999_999_999.7, '1조', '1,000B');
  check(12_345_678_901_234.5, '12조 3,457억', '12,346B');
  check(98_765_432_109_876, '98조 7,654억', '98,765B');
});

test('hover titles carry the exact number and the unit', () => {
  assert.equal(formatMeso(12_345_678_901.25, 'ko').title, '12,345,678,901.25 메소');
  assert.equal(formatMeso(12_345_678_901.25, 'en').title, '12,345,678,901.25 mesos');
  assert.equal(exactNumber(-1234.5), '-1,234.5');
  assert.equal(exactNumber(0.000123), '0.000123');
  assert.equal(formatMeso(null, 'ko').text, '—');
});

test('percentages and counts', () => {
  assert.equal(formatPercent(0.5, 'en').text, '50%');
  assert.equal(formatPercent(0.123456, 'en').text, '12.35%');
  assert.equal(formatPercent(0.00012345, 'en').text, '0.0123%');
  assert.equal(formatPercent(0.00012345, 'en').title, '0.00012345');
  assert.equal(formatPercent(1, 'ko').text, '100%');
  assert.equal(formatCount(1234.5678, 'en', 2).text, '1,234.57');
});

test('Korean and English have the same keys, no empty label, and English labels have no Hangul', () => {
  const ko = Object.keys(STRINGS.ko).sort();
  const en = Object.keys(STRINGS.en).sort();
  assert.deepEqual(en, ko);
  for (const lang of ['ko', 'en']) for (const [k, v] of Object.entries(STRINGS[lang])) assert.ok(v.trim(), `${lang} ${k}`);
  for (const [k, v] of Object.entries(STRINGS.en)) assert.doesNotMatch(v, /[\u3131-\uD79D]/, `en ${k}`);
});
