#!/usr/bin/env node
// Import cycles among the modules of a Rust crate, from its `crate::…` and `super::…` paths (in `use`
// lines and inline). Usage: node scripts/module-cycles.mjs <crate dir> [<crate dir>…]
//
// A module is a file (`src/a/b.rs` or `src/a/b/mod.rs` is `a::b`; `lib.rs` is the crate root). A path is
// resolved to the longest module it names; every reference to another module is an edge (a parent that
// uses its child and a child that uses its parent's items are a cycle too), except to the crate root,
// which only declares modules. Cycles are the strongly connected components (Tarjan) with more than one module. Comments and
// string literals are ignored.
//
// Exit 1 when a crate has a cycle that shares no module with an entry of KNOWN (a new cycle), or when a
// KNOWN entry shares no module with any cycle (it was broken: remove the entry, so the list only shrinks).
// A known cycle may change members while it is being taken apart; the output names its current ones.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

// Cycles that still exist, owned by work in progress elsewhere (issue 12): crate dir → sorted module
// lists. Each entry must still be a cycle, exactly; remove it when it is broken.
const KNOWN = {
  worker: [
    ['routes::admin', 'routes::admin::test_routes'],
  ],
};

function rustFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return rustFiles(p);
    return name.endsWith('.rs') ? [p] : [];
  });
}

function moduleOf(src, file) {
  const parts = relative(src, file).split(sep);
  const last = parts.pop().replace(/\.rs$/, '');
  if (last !== 'mod' && last !== 'lib' && last !== 'main') parts.push(last);
  return parts.join('::');
}

/** The source without comments, string and char literals (so doc links and messages are not edges). */
function strip(text) {
  let out = '';
  let i = 0;
  const n = text.length;
  const ident = (c) => /[A-Za-z0-9_]/.test(c ?? '');
  while (i < n) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 0;
      do {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2));
        else if (text[i] === '*' && text[i + 1] === '/') (depth--, (i += 2));
        else i++;
      } while (i < n && depth > 0);
      out += ' ';
    } else if ((c === 'r' || c === 'b') && !ident(text[i - 1]) && /^(?:b?r#*"|b")/.test(text.slice(i, i + 260))) {
      const m = /^(b?)(r?)(#*)"/.exec(text.slice(i));
      i += m[0].length;
      if (m[2]) {
        const close = `"${m[3]}`;
        const end = text.indexOf(close, i);
        i = end < 0 ? n : end + close.length;
      } else {
        while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        i++;
      }
      out += '""';
    } else if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      out += '""';
    } else if (c === "'" && /^'(?:[^'\\\n]|\\[^\n]+?)'/.test(text.slice(i, i + 12))) {
      i += /^'(?:[^'\\\n]|\\[^\n]+?)'/.exec(text.slice(i, i + 12))[0].length; // a char literal, not a lifetime
      out += "' '";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every path starting at `crate::` or `super::`, with `{a, b::c}` groups expanded one path each. */
function paths(code) {
  const out = [];
  const re = /\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))*)(::\{)?/g;
  let m;
  while ((m = re.exec(code))) {
    const head = [m[1], ...m[2].split('::').filter(Boolean)];
    if (!m[3]) {
      out.push(head);
      continue;
    }
    // A group: take its top-level items.
    let depth = 1;
    let i = re.lastIndex;
    let item = '';
    const items = [];
    for (; i < code.length && depth > 0; i++) {
      const c = code[i];
      if (c === '{') depth++;
      if (c === '}') depth--;
      if ((c === ',' && depth === 1) || depth === 0) {
        items.push(item.trim());
        item = '';
      } else {
        item += c;
      }
    }
    for (const it of items.filter(Boolean)) {
      const first = it.split(/::|\s|\{/)[0];
      out.push(first === 'self' ? head : [...head, first]);
    }
  }
  return out;
}

function resolve(from, segs, modules) {
  let base = from ? from.split('::') : [];
  let rest = segs;
  if (rest[0] === 'crate') {
    base = [];
    rest = rest.slice(1);
  } else {
    while (rest[0] === 'super') {
      base = base.slice(0, -1);
      rest = rest.slice(1);
    }
  }
  let target = base.join('::');
  for (const s of rest) {
    const next = target ? `${target}::${s}` : s;
    if (!modules.has(next)) break;
    target = next;
  }
  return target;
}

function cycles(edges, nodes) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const sccs = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) sccs.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return sccs;
}

export function analyse(crateDir) {
  const src = join(crateDir, 'src');
  const files = rustFiles(src);
  const modules = new Set(files.map((f) => moduleOf(src, f)));
  const edges = new Map();
  let count = 0;
  for (const f of files) {
    const from = moduleOf(src, f);
    const to = new Set();
    const code = strip(readFileSync(f, 'utf8'));
    // Relative paths into one's own children (`mod lookup;` … `lookup::current_valuation`, `self::lookup`).
    const prefix = from ? `${from}::` : '';
    const bare = code.replace(/\bself::/g, '');
    for (const child of modules) {
      const name = child.slice(prefix.length);
      if (!child.startsWith(prefix) || child === from || name.includes('::')) continue;
      if (new RegExp(`(?<![A-Za-z0-9_:])${name}::`).test(bare)) to.add(child);
    }
    for (const segs of paths(code)) {
      const target = resolve(from, segs, modules);
      if (target !== from && target !== '') to.add(target);
    }
    edges.set(from, [...to]);
    count += to.size;
  }
  return { modules: modules.size, edges: count, graph: edges, cycles: cycles(edges, [...modules].sort()) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let failed = false;
  for (const dir of process.argv.slice(2)) {
    const name = dir.replace(/\/+$/, '').split('/').pop();
    const { modules, edges, cycles: found } = analyse(dir);
    const known = KNOWN[name] ?? [];
    const meets = (scc, entry) => scc.some((m) => entry.includes(m));
    const fresh = found.filter((scc) => !known.some((entry) => meets(scc, entry)));
    const gone = known.filter((entry) => !found.some((scc) => meets(scc, entry)));
    console.log(`${name}: ${modules} modules, ${edges} import edges, ${found.length} cycle(s)`);
    for (const scc of found) {
      console.log(`  cycle: ${scc.join(' <-> ')}${fresh.includes(scc) ? '' : ' (known, being removed)'}`);
    }
    for (const scc of fresh) console.error(`  NEW cycle: ${scc.join(' <-> ')}`);
    for (const entry of gone) console.error(`  known cycle no longer exists, remove it from KNOWN: ${entry.join(' <-> ')}`);
    if (fresh.length || gone.length) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
