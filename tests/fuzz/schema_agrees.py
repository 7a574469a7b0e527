"""The request schemas of worker/src/openapi.json admit exactly the requests the engine takes.

schemathesis's positive_data_acceptance fails when a schema-valid request gets a 400 and
negative_data_rejection when a schema-invalid one is accepted, so every rule the API checks must be in
the document. This checks the cross-field star force rules (star caps per rule set and item level,
from_star <= to_star, the safeguard stars per rule set, safeguard vs safeguard_stars, the event presets)
on a seeded sample that crosses each boundary, and the flame score's rules (class names and aliases,
exactly one of class/main_stat/weights, the stats each field takes, what goes with what) and the potential
plan's (exactly one budget, its bounds; on a cube with its price, since which budgets a cube takes is data)
and its place rule (which levels a cube, grade and part have tables for): for every request, the document's verdict (jsonschema_rs,
installed with schemathesis in .venv/) must equal the release CLI's (`pve starforce`: exit 0 or a 400-class
error code).

  .venv/bin/python tests/fuzz/schema_agrees.py   (needs `cargo build --release -p pve-cli`)
"""
import json
import os
import random
import subprocess
import sys

import jsonschema_rs

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CLI = os.path.join(TARGET, "release", "pve")

with open(os.path.join(ROOT, "worker", "src", "openapi.json"), encoding="utf-8") as f:
    DOC = json.load(f)


def validator(name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def engine_accepts(op, request):
    run = subprocess.run([CLI, op], input=json.dumps(request), capture_output=True, text=True)
    if run.returncode == 0:
        return True
    body = json.loads(run.stdout or run.stderr)
    code = body["error"]["code"]
    assert code != "internal", f"{request}: {body}"
    return False


def starforce_sample(rng, n):
    rulesets = [None, "kms", "gms", "savior", "pre_savior"]
    levels = [0, 94, 95, 107, 108, 117, 118, 127, 128, 137, 138, 150, 200, 250, 300]
    for _ in range(n):
        req = {"item_level": rng.choice(levels)}
        to = rng.randint(0, 31)
        req["to_star"] = to
        req["from_star"] = max(0, min(31, to + rng.choice([-3, -1, 0, 0, 1])))
        # Keep the engine's work small: most targets are low, a few reach the caps.
        if rng.random() < 0.7:
            req["from_star"] = max(req["from_star"], to - 2)
        ruleset = rng.choice(rulesets)
        if ruleset:
            req["ruleset"] = ruleset
        if rng.random() < 0.4:
            req["safeguard_stars"] = rng.sample(range(10, 19), rng.randint(0, 3))
        if rng.random() < 0.2:
            req["safeguard"] = rng.random() < 0.5
        if rng.random() < 0.3:
            req["event"] = rng.choice(["shining", "shining_5_10_15"])
            if rng.random() < 0.6:
                req["events"] = {rng.choice(["thirty_off", "boom_reduction", "five_ten_fifteen", "plus_one"]): rng.random() < 0.5}
        yield req


def flame_sample(rng, n):
    classes = ["hero", "에반", "xenon", "데몬어벤져", "night_lord", " hero", "Hero", "nobody", ""]
    stats = ["str", "dex", "int", "luk", "attack_power", "magic_power", "boss_damage", "speed"]
    for _ in range(n):
        score = {}
        for key, values in [
            ("class", classes),
            ("main_stat", stats),
            ("sub_stats", [[], ["dex"], ["str", "luk"], ["dex", "dex"], ["speed"], ["int"]]),
            ("attack", stats),
            ("convention", ["kms_grade", "maple_expectation", "brendon_gms"]),
            ("attack_weight", [3, "1/2", 0]),
            ("sub_stat_weight", [1, "1/12"]),
            ("weights", [{"str": 1}, {"luk": "1/12", "attack_power": 4}, {"nothing": 1}]),
        ]:
            if rng.random() < (0.5 if key == "class" else 0.25):
                score[key] = rng.choice(values + [None])
        yield {"flame": "eternal", "item": {"level": 200, "kind": "armor", "boss": True}, "score": score, "target_score": 100}


def potential_plan_sample(rng, n):
    values = [0, 1, 250, 2.5, -1, 1e6, None]
    for _ in range(n):
        plan = {}
        for key in ["budget_mesos", "budget_cubes"]:
            if rng.random() < 0.6:
                plan[key] = rng.choice(values)
        yield {"cube": "red", "part": "모자", "level": 200, "grade": "레어", "goal": {"lines": {"str": 1}},
               "cube_price_mesos": 1000, "plan": plan}


def potential_place_sample(rng, n):
    """(cube, grade, part, level) across the place rule's boundaries: levels at, inside and just outside
    every level interval the document gives, and some anywhere in 0..301; every cube, grade and part name
    the document lists, and one unknown of each."""
    schema = DOC["components"]["schemas"]["PotentialRequest"]
    cubes = schema["properties"]["cube"]["enum"] + ["nope"]
    parts = schema["properties"]["part"]["enum"] + ["nope"]
    grades = DOC["components"]["schemas"]["GradeDto"]["enum"] + ["nope"]
    ends = {e for branch in schema["allOf"][2]["anyOf"] for r in branch["properties"]["level"]["anyOf"]
            for e in (r["minimum"], r["maximum"])}
    levels = sorted({x + d for x in ends for d in (-1, 0, 1) if x + d >= 0})
    for _ in range(n):
        level = rng.choice(levels) if rng.random() < 0.8 else rng.randint(0, 301)
        yield {"cube": rng.choice(cubes), "grade": rng.choice(grades), "part": rng.choice(parts), "level": level,
               "goal": {"lines": {"str": 1}}}


def agree(op, schema, requests):
    check = validator(schema)
    counts = {True: 0, False: 0}
    disagree = []
    for req in requests:
        valid = check.is_valid(req)
        counts[valid] += 1
        if valid != engine_accepts(op, req):
            disagree.append((valid, req))
    print(f"{op}: {counts[True]} admitted, {counts[False]} refused by the document; {len(disagree)} disagreements")
    for valid, req in disagree[:10]:
        print(f"  document {'admits' if valid else 'refuses'}, engine {'refuses' if valid else 'takes'}: {json.dumps(req, ensure_ascii=False)}")
    # A sample that never crosses a boundary would pass without checking anything.
    assert counts[True] >= 50 and counts[False] >= 50, counts
    return not disagree


def main():
    n = int(os.environ.get("PVE_SCHEMA_SAMPLES", "400"))
    ok = agree("starforce", "StarforceRequest", starforce_sample(random.Random(14), n))
    ok = agree("flame", "FlameRequest", flame_sample(random.Random(14), n)) and ok
    ok = agree("potential", "PotentialRequest", potential_plan_sample(random.Random(14), n // 2)) and ok
    ok = agree("potential", "PotentialRequest", potential_place_sample(random.Random(14), n * 2)) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
