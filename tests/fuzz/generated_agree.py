"""schemathesis' own generator against the release CLI: for each engine operation's request schema in
worker/src/openapi.json, requests drawn by schemathesis (positive: schema-valid; negative: schema-invalid)
must be accepted, respectively refused with a 4xx-class error code, by `pve <operation>`; `internal` is
always a failure. This is schemathesis' positive_data_acceptance and negative_data_rejection checks,
offline and with many more cases than the run against wrangler dev can afford in the test command, so a
document/engine disagreement is found here with its request, before the HTTP run.

  .venv/bin/python tests/fuzz/generated_agree.py   (needs `cargo build --release -p pve-cli`)
  PVE_AGREE_EXAMPLES=300 PVE_AGREE_OPS=flame,potential ...   (more cases, fewer operations)
"""
import json
import os
import subprocess
import sys
import time
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CLI = os.path.join(TARGET, "release", "pve")
SPEC = os.path.join(ROOT, "worker", "src", "openapi.json")
EXAMPLES = int(os.environ.get("PVE_AGREE_EXAMPLES", "40"))
# potential is left out by default: its schema takes schemathesis ~15 s per drawn case (20 cases: 304 s).
OPS = os.environ.get("PVE_AGREE_OPS", "starforce,flame,valuation").split(",")
SEED = 14


def verdict(op, body):
    """(accepted, error code or None, message)."""
    run = subprocess.run([CLI, op], input=json.dumps(body), capture_output=True, text=True, timeout=60)
    if run.returncode == 0:
        return True, None, ""
    try:
        err = json.loads(run.stdout or run.stderr)["error"]
        return False, err["code"], err["message"]
    except (ValueError, KeyError, TypeError):
        return False, "unreadable", (run.stdout + run.stderr)[:300]


def main():
    schema = schemathesis.openapi.from_path(SPEC)
    started = time.monotonic()
    bad, seen = [], Counter()
    for op in OPS:
        operation = schema[f"/v1/{op}"]["POST"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            @seed(SEED)
            @given(operation.as_strategy(generation_mode=mode))
            def check(case):
                body = case.body
                # A negative case may be a body JSON cannot carry (the HTTP run sends those as bytes).
                if not isinstance(body, (dict, list, str, int, float, bool)) and body is not None:
                    return
                try:
                    json.dumps(body)
                except (TypeError, ValueError):
                    return
                seen[(op, mode.value)] += 1
                accepted, code, message = verdict(op, body)
                wrong = (mode == GenerationMode.POSITIVE and not accepted) or (
                    mode == GenerationMode.NEGATIVE and accepted) or code in ("internal", "unreadable")
                if wrong:
                    bad.append((op, mode.value, code, message[:200], json.dumps(body, ensure_ascii=False)[:600]))

            check()
    for (op, mode), n in sorted(seen.items()):
        print(f"{op:10} {mode:8} {n:4} cases")
    print(f"{sum(seen.values())} cases in {time.monotonic() - started:.0f} s, {len(bad)} disagreements")
    for b in bad[:20]:
        print("  ", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
