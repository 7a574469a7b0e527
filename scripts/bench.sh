#!/usr/bin/env bash
# The one benchmark command. Builds what it needs, runs every benchmark on this machine (loopback only,
# bounded), prints the results and writes them to BENCHMARKS.md with the date, the machine and the
# versions. Every number in BENCHMARKS.md is this script's output; never edit it by hand.
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
step "build (release CLI, bench harness, browser Wasm, Worker)"
cargo build --release -p pve-cli
cargo build --release -p pve-api --features bundled-data --example bench
bash scripts/build.sh all

out=$(mktemp)
section() { printf '\n## %s\n\n' "$1" | tee -a "$out"; }
run() { "$@" 2>&1 | tee -a "$out"; }

{
  echo "# Benchmarks"
  echo
  echo "Produced by \`bash scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Do not edit by hand."
  echo
  echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/{print $2}') GiB RAM, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- versions: $(rustc --version), node $(node --version), wrangler $(wrangler --version 2>/dev/null | tail -1), engine $(target/release/pve version)"
  echo "- The API numbers come from \`wrangler dev --local\` (workerd on this machine), not Cloudflare's network: read them as ratios against the baseline measured in the same run."
} | tee "$out"

section "Engine: native and Wasm (node), same cases, same harness"
run node tests/bench/engine.mjs
section "API on wrangler dev, and upstream calls per N concurrent cold requests (stampede)"
run node tests/bench/api.mjs
section "Outbox: relay throughput and write-to-delivery latency"
run node tests/bench/outbox.mjs

# The browser engine before and after, in the same run: the page and Wasm of BENCH_BASE (a git revision,
# default edge-skel) built from a `git archive` copy into a temp dir, next to this tree's web/ (issue 16).
section "Browser: Wasm and data size, star force input → painted, cold load (baseline ${BENCH_BASE:-edge-skel} built in this run)"
base=$(mktemp -d)
git archive "${BENCH_BASE:-edge-skel}" | tar -x -C "$base"
ln -s "$ROOT/node_modules" "$base/node_modules"
(CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/bench-base" bash "$base/scripts/build.sh" web) >/dev/null
{
  echo "| build | Wasm gzip -9 (raw) | potential data gzip -9 (raw) |"
  echo "|---|---|---|"
  for row in "base=$base/web" "now=web"; do
    dir=${row#*=}
    data=$(ls "$dir"/data/potential.* | head -1)
    echo "| ${row%%=*} | $(gzip -9c "$dir/pkg/pve_wasm_bg.wasm" | wc -c) B ($(wc -c < "$dir/pkg/pve_wasm_bg.wasm") B) | $(gzip -9c "$data" | wc -c) B ($(wc -c < "$data") B) |"
  done
  echo
} | tee -a "$out"
run node tests/bench/page.mjs "base=$base/web" now=web
rm -rf "$base"

cp "$out" BENCHMARKS.md
rm -f "$out"
step "wrote BENCHMARKS.md"
