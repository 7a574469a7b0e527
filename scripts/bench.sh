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

cp "$out" BENCHMARKS.md
rm -f "$out"
step "wrote BENCHMARKS.md"
