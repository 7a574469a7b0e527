// Every message code the engine can emit (the catalogue in engine/src/message.rs) has a Korean and an English
// text using only its catalogued params; both fixture characters' valuations (the golden files) render in
// Korean with no English sentence left from the engine and no placeholder unfilled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STRINGS } from '../../web/strings.js';

const root = new URL('../../', import.meta.url);
const source = readFileSync(new URL('engine/src/message.rs', root), 'utf8');
const block = source.slice(source.indexOf('pub const CATALOGUE'), source.indexOf('];', source.indexOf('pub const CATALOGUE')));
const CATALOGUE = [...block.matchAll(/\(\s*"([a-z0-9_.]+)",\s*&\[([^\]]*)\],?\s*\)/g)]
  .map(([, code, params]) => ({ code, params: [...params.matchAll(/"(\w+)"/g)].map((p) => p[1]) }));

const VARIANTS = { 'potential.cube_assumption': ['cube', 'about'], 'potential.line_limit': ['name'] };
const textOf = (lang, m) => {
  const v = VARIANTS[m.code] && STRINGS[lang][`msg.${m.code}#${VARIANTS[m.code].map((k) => m.params[k]).join('.')}`];
  return v ?? STRINGS[lang][`msg.${m.code}`];
};

function render(lang, m) {
  const s = textOf(lang, m);
  assert.ok(s, `${lang}: no text for ${m.code}`);
  return s.replace(/\{(\w+)\}/g, (_, k) => String(m.params[k]));
}

test('the catalogue is read and every code has a text in both languages with only its params', () => {
  assert.ok(CATALOGUE.length >= 30, `only ${CATALOGUE.length} codes read`);
  for (const { code, params } of CATALOGUE) {
    for (const lang of ['ko', 'en']) {
      const s = STRINGS[lang][`msg.${code}`];
      assert.ok(s, `${lang}: no text for ${code}`);
      for (const [, k] of s.matchAll(/\{(\w+)\}/g)) assert.ok(params.includes(k), `${lang} ${code}: {${k}} is not a param`);
    }
  }
  const known = new Set(CATALOGUE.map((c) => `msg.${c.code}`));
  // `msg.<code>#<variant>`: a text for some values of the code's params (say() in web/i18n.js).
  for (const key of Object.keys(STRINGS.ko).filter((k) => k.startsWith('msg.'))) assert.ok(known.has(key.split('#')[0]), `${key} is not in the catalogue`);
  assert.deepEqual(Object.keys(STRINGS.ko).sort(), Object.keys(STRINGS.en).sort(), 'the same keys in both languages');
});

test('both fixtures render every message from code and params, in Korean without engine English', () => {
  for (const name of ['evan', 'mechanic']) {
    const r = JSON.parse(readFileSync(new URL(`engine/api/tests/golden/valuation_${name}.json`, root), 'utf8'));
    const kinds = ['starforce', 'potential', 'additional_potential'];
    const all = [...r.notes, ...r.items.flatMap((i) => [...i.not_valued,
      ...(i.potential?.notes ?? []), ...(i.additional_potential?.notes ?? []),
      ...kinds.map((k) => i[k]?.zero_reason).filter(Boolean)])];
    assert.ok(all.length > 0, name);
    for (const m of all) {
      for (const lang of ['ko', 'en']) {
        const s = render(lang, m);
        assert.doesNotMatch(s, /\{\w+\}|undefined/, `${name} ${lang} ${m.code}: ${s}`);
      }
      // Korean: what is left after removing the params is Korean, not one of the engine's English sentences.
      // Citations (`owner/repo path`, file names) are proper nouns: what is left must be Korean.
      const ko = textOf('ko', m).replace(/\{\w+\}/g, '').replace(/\S*[/.]\S+/g, '');
      assert.doesNotMatch(ko, /\b[a-z]{3,}\s+[a-z]{3,}\b/i, `${m.code}: English in the Korean text: ${ko}`);
      assert.notEqual(render('ko', m), m.message, `${name} ${m.code}: the Korean text is the English message`);
    }
  }
});
