#!/usr/bin/env python3
"""Generate engine/src/flame/tables.rs from the flame facts (Python 3 stdlib only).

Input : <repo>/../shared/data/flame/{tier_probabilities,line_count,stat_values_by_level}.csv
        (override with --facts DIR). FLAME_FACTS.md in the same folder explains every row.
Output: <repo>/engine/src/flame/tables.rs (override with --out FILE, or --stdout).

The output is deterministic: the same CSVs give the same bytes. `DATA_VERSION` is a digest of the
input files plus the constants below, so any change of the facts changes the version reported in every
response. A test (engine/tests/flame_data.rs) re-runs this script when the facts folder exists and
compares its output with the committed file.

Every percent in these tables is an integer; the engine keeps probabilities as exact integer fractions
with denominator 100 per draw, so a non-integer percent is rejected here rather than rounded.

Every `source` names a repository and path or a page a reader can open (issue 15): the facts' short
citations are written out in full by `CITATIONS`, and the sources the facts know only by an internal
code-index number are not cited (the text says how many more calculators agree, without an index id).
The generator refuses to write a source that still holds an index id. The citations are not facts, so
`DATA_VERSION` (a digest of the facts) does not depend on them.
"""

import argparse
import csv
import hashlib
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_FACTS = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "flame"))
DEFAULT_OUT = os.path.join(REPO, "engine", "src", "flame", "tables.rs")

INPUTS = ["tier_probabilities.csv", "line_count.csv", "stat_values_by_level.csv"]

# Not a CSV row: FLAME_FACTS.md §1 records that brendonmay's worker.js disagrees with its own main.js
# and with every KMS source for the abyss flame (tiers 4..7 on boss items = grades 2..5).
ABYSS_BRENDON_WORKER = {
    "grades": [0, 1, 63, 34, 2],
    "source": "FLAME_FACTS.md s1: brendonmay/brendonmay.github.io@774af90 flameCalculator/worker.js "
    "(4:1%, 5:63%, 6:34%, 7:2%), disagrees with its main.js and the KMS sources",
}

# Short citations in the facts -> the repository and path (FLAME_FACTS.md s0) or page a reader can open.
OFFICIAL_PAGE = "https://maplestory.nexon.com/Guide/OtherProbability/game/gameAddOption"
STRATEGYWIKI = "https://strategywiki.org/w/index.php?title=MapleStory/Bonus_Stats&oldid=821294"
ME = "zbnerd/MapleExpectation@ad1d591 "
ME_JAVA = ME + "module-core/src/main/java/maple/expectation/core/"
CITATIONS = [
    ("OFFICIAL(" + OFFICIAL_PAGE.removeprefix("https://") + ")", "official " + OFFICIAL_PAGE),
    ("FLAME_FACTS.md s1: ", ""),
    (ME + "FlameStageProbability.java", ME_JAVA + "domain/flame/FlameStageProbability.java"),
    (ME + "FlameDpCalculator.java", ME_JAVA + "probability/FlameDpCalculator.java"),
    # "main.js,worker.js main.js": of the two files, main.js (worker.js disagrees: ABYSS_BRENDON_WORKER).
    ("flameCalculator/main.js,worker.js main.js", "flameCalculator/main.js"),
    ("flameCalculator/main.js,worker.js", "flameCalculator/main.js and flameCalculator/worker.js"),
    ("strategywiki 2018 rev", STRATEGYWIKI),
    ("GMS wiki via masonym", "masonym/masonym.dev@7beabf6 src/lib/equip/flames.js (GMS wiki)"),
    ("ME FLAME_LOGIC.md", ME + "docs/03_Technical_Guides/FLAME_LOGIC.md"),
    ("; KMS JS)", "; one more KMS calculator whose repository is not known)"),
    ("  [", " ["),
]
# A source known only by its code-index number: `unnamed <what> (find_string id 123)`.
UNNAMED_RE = re.compile(r"unnamed [^;()]+ \((?:find_string|read_file)[^)]*\bid `?\d+`?\)(?:; )?")
INDEX_ID_RE = re.compile(r"find_string|read_file|index id|\bid `?\d{5,}")


def openable(source, where):
    """`source` with every citation a reader can open and no internal index id."""
    for short, full in CITATIONS:
        source = source.replace(short, full)
    unnamed = len(UNNAMED_RE.findall(source))
    source = UNNAMED_RE.sub("", source)
    if unnamed == 1:
        source += " (one more KMS calculator agrees; its repository is not known)"
    elif unnamed > 1:
        source += f" ({unnamed} more KMS calculators agree; their repositories are not known)"
    if INDEX_ID_RE.search(source):
        sys.exit(f"generate.py: {where}: source still cites an index id: {source!r}")
    return source


# flame key in tier_probabilities.csv -> Rust constant
TIER_KEYS = [
    ("powerful", "TIER_POWERFUL"),
    ("eternal", "TIER_ETERNAL"),
    ("abyss", "TIER_ABYSS"),
    ("drop", "TIER_MONSTER_DROP"),
]

# prefix of item_class in line_count.csv -> Rust constant
LINE_KEYS = [
    ("boss_item", "LINES_BOSS"),
    ("other_item_flame", "LINES_OTHER_FLAME_KMS"),
    ("other_item_drop_or_other", "LINES_OTHER_DROP_KMS"),
    ("DISAGREEING: brendon/strategywiki (GMS)", "LINES_OTHER_FLAME_GMS"),
]


def read_csv(facts, name):
    with open(os.path.join(facts, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def int_percent(text, where):
    value = float(text)
    if value != int(value) or value < 0 or value > 100:
        sys.exit(f"generate.py: {where}: percent {text!r} is not an integer in 0..100")
    return int(value)


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tier_tables(facts):
    rows = read_csv(facts, "tier_probabilities.csv")
    out = []
    for key, const in TIER_KEYS:
        sel = [r for r in rows if r["flame"] == key]
        grades = sorted(sel, key=lambda r: int(r["grade(등급)"]))
        if [int(r["grade(등급)"]) for r in grades] != [1, 2, 3, 4, 5]:
            sys.exit(f"generate.py: tier table {key}: grades are not exactly 1..5")
        pct = [int_percent(r["prob_percent"], f"tier {key}") for r in grades]
        for r in grades:
            if int(r["tier_on_boss_item(=grade+2)"]) != int(r["grade(등급)"]) + 2:
                sys.exit(f"generate.py: tier table {key}: boss tier is not grade + 2")
        sources = sorted({r["source"] for r in grades})
        out.append((const, key, grades[0]["name"], pct, openable("; ".join(sources), f"tier {key}")))
    out.append(
        (
            "TIER_ABYSS_BRENDON_WORKER",
            "abyss_brendon_worker",
            "심연의 환생의 불꽃 (Abyss), brendonmay worker.js variant",
            ABYSS_BRENDON_WORKER["grades"],
            openable(ABYSS_BRENDON_WORKER["source"], "tier abyss_brendon_worker"),
        )
    )
    return out


def line_tables(facts):
    rows = read_csv(facts, "line_count.csv")
    out = []
    for prefix, const in LINE_KEYS:
        sel = [r for r in rows if r["item_class"].startswith(prefix)]
        sel.sort(key=lambda r: int(r["lines"]))
        if [int(r["lines"]) for r in sel] != [1, 2, 3, 4]:
            sys.exit(f"generate.py: line table {prefix}: lines are not exactly 1..4")
        pct = [int_percent(r["prob_percent"], f"lines {prefix}") for r in sel]
        sources = sorted({r["source"] for r in sel})
        out.append((const, sel[0]["item_class"], pct, openable("; ".join(sources), f"lines {prefix}")))
    return out


GMS_RE = re.compile(r"single (\d+), dual (\d+), hp (\d+)")


def stat_bands(facts):
    rows = read_csv(facts, "stat_values_by_level.csv")
    out = []
    for r in sorted(rows, key=lambda r: int(r["item_level"])):
        level = int(r["item_level"])
        gms = None
        if r["disagreement"].strip():
            m = GMS_RE.search(r["disagreement"])
            if not m:
                sys.exit(f"generate.py: level {level}: cannot read the GMS values in {r['disagreement']!r}")
            gms = tuple(int(x) for x in m.groups())
        out.append(
            (
                level,
                int(r["single_stat_per_tier"]),
                int(r["dual_stat_per_tier(each stat)"]),
                int(r["hp_mp_per_tier"]),
                int(r["def_per_tier"]),
                gms,
            )
        )
    levels = [b[0] for b in out]
    if levels != list(range(levels[0], levels[-1] + 1, 10)):
        sys.exit("generate.py: stat bands are not every 10 levels")
    return out


def data_version(facts):
    h = hashlib.sha256()
    for name in INPUTS:
        with open(os.path.join(facts, name), "rb") as f:
            data = f.read()
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    h.update(repr(ABYSS_BRENDON_WORKER).encode())
    return "flame-facts-" + h.hexdigest()[:12]


def render(facts):
    tiers = tier_tables(facts)
    lines = line_tables(facts)
    bands = stat_bands(facts)
    o = io.StringIO()
    w = o.write
    w("// @generated by engine/data/flame/generate.py from shared/data/flame/*.csv. DO NOT EDIT.\n")
    w("// Re-run: python3 engine/data/flame/generate.py   (FLAME_FACTS.md explains every row.)\n")
    w("//! Flame facts as Rust constants (generated, do not edit).\n\n")
    w("/// Digest of the facts this file was generated from; reported as `data_version`.\n")
    w(f"pub const DATA_VERSION: &str = {rust_str(data_version(facts))};\n\n")

    w("/// Grade (등급) probabilities in integer percent for grades 1..=5. On boss items tier = grade + 2,\n")
    w("/// on other items tier = grade.\n")
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n")
    w("pub struct TierTable {\n    pub key: &'static str,\n    pub name: &'static str,\n")
    w("    pub grade_percent: [u32; 5],\n    pub source: &'static str,\n}\n\n")
    for const, key, name, pct, source in tiers:
        w(f"pub const {const}: TierTable = TierTable {{\n")
        w(f"    key: {rust_str(key)},\n    name: {rust_str(name)},\n")
        w(f"    grade_percent: [{', '.join(str(p) for p in pct)}],\n")
        w(f"    source: {rust_str(source)},\n}};\n\n")

    w("/// Probability in integer percent of 1, 2, 3 and 4 lines.\n")
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n")
    w("pub struct LineCountTable {\n    pub key: &'static str,\n")
    w("    pub lines_percent: [u32; 4],\n    pub source: &'static str,\n}\n\n")
    for const, key, pct, source in lines:
        w(f"pub const {const}: LineCountTable = LineCountTable {{\n")
        w(f"    key: {rust_str(key)},\n")
        w(f"    lines_percent: [{', '.join(str(p) for p in pct)}],\n")
        w(f"    source: {rust_str(source)},\n}};\n\n")

    w("/// Per-tier line values of one 10-level band (KMS: malib + KMS JS). `gms` holds the disagreeing\n")
    w("/// GMS values (single, dual, hp) where the facts mark the band [UNCERTAIN].\n")
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq)]\n")
    w("pub struct StatBand {\n    pub level: u32,\n    pub single: u32,\n    pub dual: u32,\n")
    w("    pub hp_mp: u32,\n    pub def: u32,\n    pub gms: Option<(u32, u32, u32)>,\n}\n\n")
    w("/// Source of `STAT_BANDS` (stat_values_by_level.csv).\n")
    src = sorted({r["source"] for r in read_csv(facts, "stat_values_by_level.csv")})
    w(f"pub const STAT_BANDS_SOURCE: &str = {rust_str(openable('; '.join(src), 'stat bands'))};\n\n")
    w(f"pub const STAT_BANDS: [StatBand; {len(bands)}] = [\n")
    for level, single, dual, hp, df, gms in bands:
        g = "None" if gms is None else f"Some(({gms[0]}, {gms[1]}, {gms[2]}))"
        w(f"    StatBand {{ level: {level}, single: {single}, dual: {dual}, hp_mp: {hp}, def: {df}, gms: {g} }},\n")
    w("];\n")
    return o.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", default=DEFAULT_FACTS, help="folder with the flame CSVs")
    ap.add_argument("--out", default=DEFAULT_OUT, help="Rust file to write")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing --out")
    args = ap.parse_args()
    text = render(args.facts)
    if args.stdout:
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


if __name__ == "__main__":
    main()
