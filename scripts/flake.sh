#!/usr/bin/env bash
# Measure the flake rate of the end-to-end and browser suite: run it N times (default 20) on one build,
# exactly as scripts/test.sh runs it, then print the pass rate and every test that failed at least once
# (with how often). No retries: a run passes only if every test in it passed.
#   scripts/flake.sh [N]        logs of each run in ${FLAKE_LOG_DIR:-target/flake}/run-<i>.tap
source "$(dirname "$0")/lib.sh"
runs="${1:-20}"
logs="${FLAKE_LOG_DIR:-target/flake}"
mkdir -p "$logs"
rm -f "$logs"/run-*.tap

step "build once: release CLI, browser Wasm, Worker"
cargo build --release -p pve-cli
# The Worker with its test-only routes, as scripts/test.sh and tests/lib/stack.mjs build it (without the
# feature every first wrangler start would rebuild it inside its ready timeout).
PVE_WORKER_FEATURES=test-hooks bash scripts/build.sh all

passed=0
for i in $(seq 1 "$runs"); do
  start=$SECONDS
  if node --test --test-concurrency=1 --test-reporter=tap tests/e2e/*.test.mjs tests/browser/*.test.mjs \
      > "$logs/run-$i.tap" 2>&1; then
    passed=$((passed + 1))
    echo "run $i/$runs: pass ($((SECONDS - start)) s)"
  else
    echo "run $i/$runs: FAIL ($((SECONDS - start)) s):"
    grep -E '^\s*not ok [0-9]+ - ' "$logs/run-$i.tap" | sed -E 's/^\s*not ok [0-9]+ - /    /' || true
  fi
done

echo
echo "pass rate: $passed/$runs runs"
echo "tests that failed at least once (failed runs out of $runs; a failing test also fails its file and suite):"
failures=$(grep -hE '^\s*not ok [0-9]+ - ' "$logs"/run-*.tap | sed -E 's/^\s*not ok [0-9]+ - //; s/ # .*$//' \
  | sort | uniq -c | sort -rn || true)
echo "${failures:-    none}"
[[ "$passed" -eq "$runs" ]]
