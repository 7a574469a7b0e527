#!/usr/bin/env python3
"""Convert the shared KMS potential (cube) facts into the project's own compact data file.

Usage (from the repository root):

    python3 engine/data/generate.py                      # rewrites engine/data/potential.tsv and .bin
    python3 engine/data/generate.py --out /tmp/p.tsv --out-bin /tmp/p.bin   # write elsewhere (the test does)
    python3 engine/data/generate.py --src DIR            # read the sources from DIR

Two files, the same facts: potential.tsv (format 1, text: readable, diffable, and what the data version
hashes) and potential.bin (format 2, compact binary, served to the browser and compiled into the CLI and
the Worker). potential.bin carries potential.tsv's version line, so the same facts have one version.

Inputs (read-only, never needed at run time): ../shared/data/potential/
  potential_lines.csv.gz, potential_lines_other_cubes.csv.gz, table_sums.csv.gz, tier_up.csv, costs.csv.

The output is deterministic (same inputs -> same bytes): everything is sorted explicitly, no timestamps.
The file format is described in engine/data/README.md; `pve_engine::potential::Data::decode` reads it.
Python 3 standard library only.
"""

import argparse
import csv
import gzip
import hashlib
import io
import os
import re
import sys
from decimal import Decimal

FORMAT = 1
BINARY_FORMAT = 2
# The line tables are the 2025-05-10 snapshot of Nexon's official probability pages (rainbow96bear/dev-playground
# branch dev, a33691f); see PROVENANCE.md. The date names the game state, the hash names the exact content.
DATA_DATE = "2025-05-10"
SUM_TOLERANCE = Decimal("0.0001")

GRADES = ["레어", "에픽", "유니크", "레전드리"]
# The official page's part categories, in the page's order.
PARTS = [
    "무기", "엠블렘", "보조무기", "포스실드/소울링", "방패", "모자", "상의", "한벌옷", "하의", "신발",
    "장갑", "망토", "벨트", "어깨장식", "얼굴장식", "눈장식", "귀고리", "반지", "펜던트", "기계 심장",
]
# Line-table cubes, in output order.
LINE_CUBES = ["black", "red", "additional", "master", "meister", "strange", "strange_additional"]

# name, line tables used, potential kind, payment, Korean label, assumption note (empty when none).
CUBES = [
    ("black", "black", "main", "item", "블랙 큐브", ""),
    ("red", "red", "main", "item", "레드 큐브", ""),
    ("additional", "additional", "additional", "item", "에디셔널 큐브", ""),
    ("white_additional", "additional", "additional", "item", "화이트 에디셔널 큐브",
     "white additional cube: its line tables are assumed to be the additional cube's (single source, "
     "rainbow96bear)"),
    ("meso_reset_main", "black", "main", "meso", "잠재능력 재설정",
     "meso reset (main potential): every source uses the black cube's line tables and tier-up rates; no "
     "separate official table was found"),
    ("meso_reset_additional", "additional", "additional", "meso", "에디셔널 잠재능력 재설정",
     "meso reset (additional potential): line tables assumed to be the additional cube's by all sources (not "
     "independently verified)"),
    ("master", "master", "main", "item", "장인의 큐브", ""),
    ("meister", "meister", "main", "item", "명장의 큐브", ""),
    ("strange", "strange", "main", "item", "수상한 큐브", ""),
    ("strange_additional", "strange_additional", "additional", "item", "수상한 에디셔널 큐브", ""),
]

# Caveats attached to tier-up records (a cube's stages), shown when a result uses that stage.
TIER_UP_NOTES = {
    "red": "red cube pity counts (25/83/500) come from a single source (rainbow96bear) and are unverified",
    "additional": "additional cube pity counts (31/76/214) come from a single source (rainbow96bear) and are "
                  "unverified",
    "white_additional": "white additional cube tier-up rates and pity come from a single source (rainbow96bear)",
    "strange_additional": "strange additional cube tier-up rate comes from a single source (rainbow96bear)",
}

# Options that may appear a limited number of times among one item's three lines. When a slot would draw an
# option whose group is already full, the draw is repeated until it is not (equivalently: the slot's
# distribution is renormalised over the allowed options). Slots are drawn in order 1, 2, 3.
LIMITS = [
    ("decent_skill", 1,
     "<쓸만한 …> skill lines: at most 1 per item. Sources: ccnspace/MapleGround src/utils/CubeSimulator.ts "
     "(KMS, 2025) and misaomaki/misaomaki.github.io starforce/cubes.js (GMS) agree, as do two KMS calculators "
     "whose repository is not known"),
    ("invincible_after_hit", 1,
     "피격 후 무적시간: at most 1 per item. Sources: ccnspace/MapleGround src/utils/CubeSimulator.ts agrees with "
     "two KMS calculators whose repository is not known (misaomaki/misaomaki.github.io starforce/cubes.js, GMS, "
     "allows 2)"),
    ("on_hit_guard", 2,
     "피격 시 …% 확률로 데미지의 …% 무시 and 피격 시 …% 확률로 …초간 무적 together: at most 2 per item. Sources: "
     "two KMS calculators whose repository is not known (one group, max 2); ccnspace/MapleGround "
     "src/utils/CubeSimulator.ts applies it only to the third line. "
     "Uncertain: one calculator and the GMS one also count 피격 시 …의 데미지 무시 (flat) lines; this data does "
     "not. No current KMS source limits 보스 몬스터 데미지, 몬스터 방어율 무시, 아이템 드롭률, 메소 획득량 or "
     "스킬 재사용 대기시간 (older GMS rules capped boss/IED/drop at 2; removed there too)"),
]


def limit_group(option):
    if option.startswith("<쓸만한 ") and option.endswith("> 스킬 사용 가능"):
        return "decent_skill"
    if option.startswith("피격 후 무적시간 +"):
        return "invincible_after_hit"
    if re.fullmatch(r"피격 시 \d+% 확률로 데미지의 \d+% 무시", option):
        return "on_hit_guard"
    if re.fullmatch(r"피격 시 \d+% 확률로 \d+초간 무적", option):
        return "on_hit_guard"
    return None


def fail(msg):
    sys.exit(f"generate.py: {msg}")


def clean(text):
    """Fields go into a tab-separated file: refuse anything that would break it instead of escaping."""
    if "\t" in text or "\n" in text or "\r" in text:
        fail(f"field contains a tab or newline: {text!r}")
    return text


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def probability(text, where):
    if not re.fullmatch(r"0\.\d{1,12}|1(\.0+)?", text):
        fail(f"{where}: probability {text!r} is not a decimal in [0, 1] with at most 12 places")
    if Decimal(text) <= 0:
        fail(f"{where}: probability {text!r} is not positive")
    return text


def load_lines(src):
    """(cube, grade, part, lmin, lmax) -> {"source": s, "slots": {slot: [(option, prob, prime)]}}"""
    bands = {}
    seen_prob, seen_option = {}, {}  # validation caches: the same few thousand strings repeat 560k times
    for name in ("potential_lines.csv.gz", "potential_lines_other_cubes.csv.gz"):
        with gzip.open(os.path.join(src, name), "rt", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            want = ["source", "cube_type", "grade", "part", "level_min", "level_max", "slot", "option",
                    "probability", "line_grade"]
            if header != want:
                fail(f"{name}: unexpected header {header}")
            by_raw_key = {}  # the raw (cube, grade, part, lmin, lmax) strings -> band, validated once
            slots_ok, grades_ok = {"1": 1, "2": 2, "3": 3}, {"prime": True, "nonprime": False}
            for i, row in enumerate(reader, start=2):
                source, cube, grade, part, lmin, lmax, slot, option, prob, line_grade = row
                band = by_raw_key.get((cube, grade, part, lmin, lmax))
                if band is None:
                    where = f"{name}:{i}"
                    if cube not in LINE_CUBES or grade not in GRADES or part not in PARTS:
                        fail(f"{where}: unknown cube/grade/part {cube}/{grade}/{part}")
                    key = (cube, grade, part, int(lmin), int(lmax))
                    if key[3] > key[4]:
                        fail(f"{where}: level_min > level_max")
                    band = bands.setdefault(key, {"source": source, "slots": {}})
                    by_raw_key[(cube, grade, part, lmin, lmax)] = band
                if band["source"] != source:
                    fail(f"{name}:{i}: one band has rows from two sources")
                if slot not in slots_ok:
                    fail(f"{name}:{i}: slot {slot}")
                if line_grade not in grades_ok:
                    fail(f"{name}:{i}: line_grade {line_grade!r}")
                if prob not in seen_prob:
                    seen_prob[prob] = probability(prob, f"{name}:{i}")
                if option not in seen_option:
                    seen_option[option] = clean(option.strip())
                band["slots"].setdefault(slots_ok[slot], []).append(
                    (seen_option[option], prob, grades_ok[line_grade])
                )
    for key, band in bands.items():
        if sorted(band["slots"]) != [1, 2, 3]:
            fail(f"band {key} lacks a slot")
    # Bands of one (cube, grade, part) must not overlap: a level must select at most one table.
    by_table = {}
    for (cube, grade, part, lmin, lmax) in bands:
        by_table.setdefault((cube, grade, part), []).append((lmin, lmax))
    for k, ranges in by_table.items():
        ranges.sort()
        for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
            if b0 <= a1:
                fail(f"{k}: bands {a0}-{a1} and {b0}-{b1} overlap")
    return bands


def check_published_sums(src, bands):
    """Our own exact sums must agree with the published table_sums.csv (same SUM_OFF set)."""
    published = {}
    for r in read_csv(os.path.join(src, "table_sums.csv.gz")):
        key = (r["cube_type"], r["grade"], r["part"], int(r["level_min"]), int(r["level_max"]), int(r["slot"]))
        if key in published:
            fail(f"table_sums.csv: duplicate {key}")
        published[key] = r["status"]
    sum_off = []
    ours = set()
    exact = {}  # decimal string -> Decimal, computed once
    for key in sorted(bands, key=band_order):
        for slot in (1, 2, 3):
            total = Decimal(0)
            for _, p, _ in bands[key]["slots"][slot]:
                d = exact.get(p)
                if d is None:
                    d = exact[p] = Decimal(p)
                total += d
            full = key + (slot,)
            ours.add(full)
            status = "OK" if abs(total - 1) <= SUM_TOLERANCE else "SUM_OFF"
            if published.get(full) != status:
                fail(f"{full}: our sum {total} gives {status}, table_sums.csv says {published.get(full)}")
            if status == "SUM_OFF":
                sum_off.append((full, total))
    if ours != set(published):
        fail("table_sums.csv and the line files list different tables")
    return sum_off


def band_order(key):
    cube, grade, part, lmin, lmax = key
    return (LINE_CUBES.index(cube), GRADES.index(grade), PARTS.index(part), lmin, lmax)


def load_tier_up(src):
    out = []
    cube_names = [c[0] for c in CUBES]
    for i, r in enumerate(read_csv(os.path.join(src, "tier_up.csv")), start=2):
        cube = r["cube_type"]
        if cube not in cube_names:
            fail(f"tier_up.csv:{i}: unknown cube {cube}")
        a, b = r["from_grade"], r["to_grade"]
        if a not in GRADES or b not in GRADES or GRADES.index(b) != GRADES.index(a) + 1:
            fail(f"tier_up.csv:{i}: {a} -> {b} is not one grade up")
        pity = r["pity"].strip()
        if pity and not re.fullmatch(r"[1-9]\d*", pity):
            fail(f"tier_up.csv:{i}: pity {pity!r}")
        out.append((cube, a, b, probability(r["probability"], f"tier_up.csv:{i}"), pity or "-",
                    TIER_UP_NOTES.get(cube, "-")))
    out.sort(key=lambda t: (cube_names.index(t[0]), GRADES.index(t[1])))
    for x, y in zip(out, out[1:]):
        if x[:2] == y[:2]:
            fail(f"tier_up.csv: duplicate {x[:2]}")
    return out


def load_costs(src):
    out = []
    for i, r in enumerate(read_csv(os.path.join(src, "costs.csv")), start=2):
        if r["reset_type"] not in ("meso_reset_main", "meso_reset_additional"):
            fail(f"costs.csv:{i}: reset_type {r['reset_type']}")
        if r["current_grade"] not in GRADES:
            fail(f"costs.csv:{i}: grade")
        if r["status"] not in ("current", "superseded", "conflicting"):
            fail(f"costs.csv:{i}: status {r['status']}")
        if not re.fullmatch(r"[1-9]\d*", r["meso_cost"]):
            fail(f"costs.csv:{i}: meso_cost {r['meso_cost']!r}")
        out.append((r["reset_type"], int(r["level_min"]), int(r["level_max"]), r["current_grade"],
                    r["meso_cost"], r["status"]))
    status_rank = {"current": 0, "superseded": 1, "conflicting": 2}
    out.sort(key=lambda t: (t[0], status_rank[t[5]], t[1], t[2], GRADES.index(t[3])))
    # current rows must not overlap for one (reset type, grade)
    cur = {}
    for t in out:
        if t[5] == "current":
            cur.setdefault((t[0], t[3]), []).append((t[1], t[2]))
    for k, ranges in cur.items():
        ranges.sort()
        for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
            if b0 <= a1:
                fail(f"costs.csv: current rows overlap for {k}")
    return out


def build(src):
    bands = load_lines(src)
    sum_off = check_published_sums(src, bands)
    tier_up = load_tier_up(src)
    costs = load_costs(src)

    strings = sorted({opt for b in bands.values() for rows in b["slots"].values() for opt, _, _ in rows})
    sid = {s: i for i, s in enumerate(strings)}
    sources = sorted({b["source"] for b in bands.values()})
    src_id = {s: i for i, s in enumerate(sources)}

    tables, table_id, band_lines = [], {}, []
    for key in sorted(bands, key=band_order):
        ids = []
        for slot in (1, 2, 3):
            rows = tuple(bands[key]["slots"][slot])
            if rows not in table_id:
                table_id[rows] = len(tables)
                tables.append(rows)
            ids.append(table_id[rows])
        cube, grade, part, lmin, lmax = key
        band_lines.append([cube, grade, part, str(lmin), str(lmax), str(src_id[bands[key]["source"]])]
                          + [str(i) for i in ids])

    out = []
    for i, s in enumerate(sources):
        out.append(["source", str(i), clean(s)])
    for p in PARTS:
        out.append(["part", p])
    for name, lines, kind, pay, label, note in CUBES:
        out.append(["cube", name, lines, kind, pay, label, note or "-"])
    for name, mx, note in LIMITS:
        out.append(["limit", name, str(mx), note])
    for cube, a, b, p, pity, note in tier_up:
        out.append(["tierup", cube, a, b, p, pity, note])
    for reset, lmin, lmax, grade, meso, status in costs:
        out.append(["cost", reset, str(lmin), str(lmax), grade, meso, status])
    for (cube, grade, part, lmin, lmax, slot), total in sum_off:
        out.append(["sumoff", cube, grade, part, str(lmin), str(lmax), str(slot), str(total)])
    for s in strings:
        out.append(["s", limit_group(s) or "-", s])
    for rows in tables:
        out.append(["t", " ".join(f"{sid[o]}:{p}{'*' if prime else ''}" for o, p, prime in rows)])
    out.extend(["band"] + b for b in band_lines)
    out.append(["end", str(len(strings)), str(len(tables)), str(len(band_lines))])

    body = "".join("\t".join(fields) + "\n" for fields in out)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    version = f"kms-potential-{DATA_DATE}-{digest}"
    head = f"PVE-POTENTIAL\t{FORMAT}\nversion\t{version}\n"
    binary = encode_binary(version, sources, tier_up, costs, sum_off, strings, sid, tables, band_lines)
    return (head + body).encode("utf-8"), binary, len(strings), len(tables), len(band_lines)


# ---------------------------------------------------------------------------------------------------------
# Format 2 (engine/data/README.md, decoded by `Decoder::run_binary` in engine/src/potential/data.rs)

def varint(n):
    if n < 0:
        fail(f"varint of a negative number {n}")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def bstr(text):
    raw = text.encode("utf-8")
    return varint(len(raw)) + raw


def bopt(text):
    """A note: 0 for none ('-' in the text format), else length + 1 and the bytes."""
    if text in ("", "-"):
        return varint(0)
    raw = text.encode("utf-8")
    return varint(len(raw) + 1) + raw


def decimal(text):
    """A decimal as (places k, digits m), read back as m / 10^k: exact for k <= 22 and m < 2^53."""
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        fail(f"decimal {text!r} is not digits with an optional fraction")
    whole, _, frac = text.partition(".")
    k, m = len(frac), int(whole + frac)
    if k > 22 or m >= 2 ** 53:
        fail(f"decimal {text!r} has too many digits for an exact binary encoding")
    return varint(k) + varint(m)


def encode_binary(version, sources, tier_up, costs, sum_off, strings, sid, tables, band_lines):
    cube_names = [c[0] for c in CUBES]
    line_cubes = []  # in order of first use by a cube record, as the decoder derives them
    for c in CUBES:
        if c[1] not in line_cubes:
            line_cubes.append(c[1])
    limit_names = [name for name, _, _ in LIMITS]
    out = bytearray(f"PVE-POTENTIAL\t{BINARY_FORMAT}\nversion\t{version}\n".encode("utf-8"))
    out += varint(len(sources)) + b"".join(bstr(s) for s in sources)
    out += varint(len(PARTS)) + b"".join(bstr(p) for p in PARTS)
    out += varint(len(CUBES))
    for name, lines, kind, pay, label, note in CUBES:
        out += bstr(name) + bstr(lines) + varint(["main", "additional"].index(kind))
        out += varint(["item", "meso"].index(pay)) + bstr(label) + bopt(note)
    out += varint(len(LIMITS))
    for name, mx, note in LIMITS:
        out += bstr(name) + varint(mx) + bstr(note)
    out += varint(len(tier_up))
    for cube, a, _b, p, pity, note in tier_up:
        out += varint(cube_names.index(cube)) + varint(GRADES.index(a)) + decimal(p)
        out += varint(0 if pity == "-" else int(pity)) + bopt(note)
    out += varint(len(costs))
    for reset, lmin, lmax, grade, meso, status in costs:
        out += varint(cube_names.index(reset)) + varint(lmin) + varint(lmax) + varint(GRADES.index(grade))
        out += varint(int(meso)) + varint(["current", "superseded", "conflicting"].index(status))
    out += varint(len(sum_off))
    for (cube, grade, part, lmin, lmax, slot), total in sum_off:
        out += varint(line_cubes.index(cube)) + varint(GRADES.index(grade)) + varint(PARTS.index(part))
        out += varint(lmin) + varint(lmax) + varint(slot) + decimal(str(total))
    out += varint(len(strings))
    for s in strings:
        g = limit_group(s)
        out += varint(0 if g is None else limit_names.index(g) + 1) + bstr(s)
    # Slot tables: each one is (option sequence, probability vector); both are interned.
    probs = sorted({p for rows in tables for _, p, _ in rows}, key=lambda p: (Decimal(p), p))
    pid = {p: i for i, p in enumerate(probs)}
    seqs, vecs, pairs = {}, {}, []
    for rows in tables:
        seq = tuple(sid[o] * 2 + (1 if prime else 0) for o, _, prime in rows)
        vec = tuple(pid[p] for _, p, _ in rows)
        pairs.append((seqs.setdefault(seq, len(seqs)), vecs.setdefault(vec, len(vecs))))
    out += varint(len(probs)) + b"".join(decimal(p) for p in probs)
    out += varint(len(seqs))
    for seq in seqs:
        out += varint(len(seq)) + b"".join(varint(x) for x in seq)
    out += varint(len(vecs))
    for vec in vecs:
        out += varint(len(vec)) + b"".join(varint(x) for x in vec)
    out += varint(len(pairs)) + b"".join(varint(a) + varint(b) for a, b in pairs)
    # Bands, column by column (each column is runs of equal or counting values: gzip takes them to little).
    rows = [[line_cubes.index(cube), GRADES.index(grade), PARTS.index(part)] + [int(x) for x in rest]
            for cube, grade, part, *rest in band_lines]
    out += varint(len(rows))
    for col in range(9):
        out += b"".join(varint(r[col]) for r in rows)
    out += varint(len(strings)) + varint(len(tables)) + varint(len(band_lines))
    return bytes(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=os.path.join(repo, "..", "shared", "data", "potential"))
    ap.add_argument("--out", default=os.path.join(here, "potential.tsv"))
    ap.add_argument("--out-bin", default=os.path.join(here, "potential.bin"))
    args = ap.parse_args()
    if not os.path.isdir(args.src):
        fail(f"source directory {args.src} does not exist")
    data, binary, n_strings, n_tables, n_bands = build(args.src)
    for path, content in ((args.out, data), (args.out_bin, binary)):
        with open(path, "wb") as f:
            f.write(content)
        gz = io.BytesIO()
        with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=9) as g:
            g.write(content)
        print(f"wrote {path}: {len(content)} bytes ({len(gz.getvalue())} gzip -9)", file=sys.stderr)
    print(f"{n_strings} strings, {n_tables} distinct slot tables, {n_bands} bands", file=sys.stderr)


if __name__ == "__main__":
    main()
