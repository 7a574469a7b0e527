#!/usr/bin/env bash
# The one benchmark command. Builds what it needs, runs every benchmark on this machine (loopback only,
# bounded), prints the results and writes them to BENCHMARKS.md with the date, the machine and the
# versions. Every number in BENCHMARKS.md is this script's output; never edit it by hand.
source "$(dirname "$0")/lib.sh"

# Issue 17's two scale benchmarks, each a section of its own in BENCHMARKS.md:
#   bash scripts/bench.sh --stampede   only the stampede (10,000 concurrent cold lookups); replaces "## Stampede"
#   bash scripts/bench.sh --soak       only the outbox soak (SOAK_EVENTS, default 1,000,000 events over
#                                      SOAK_AGGREGATES, default 10,000; tens of minutes at least); replaces "## Outbox soak"
# The default run runs the stampede too, and keeps the last "## Outbox soak" section as it was.
# replace_section TITLE FILE: BENCHMARKS.md with its "## TITLE" section (up to the next "## ") replaced by
# FILE's content, or FILE appended when the section is absent.
replace_section() {
  local title=$1 file=$2 tmp
  tmp=$(mktemp)
  [[ -f BENCHMARKS.md ]] || echo "# Benchmarks" > BENCHMARKS.md
  awk -v title="## $title" -v file="$file" '
    $0 == title { while ((getline line < file) > 0) print line; skip = 1; done = 1; next }
    skip && /^## / { skip = 0 }
    !skip { print }
    END { if (!done) { print ""; while ((getline line < file) > 0) print line } }
  ' BENCHMARKS.md > "$tmp"
  mv "$tmp" BENCHMARKS.md
}
# The "## TITLE" section of BENCHMARKS.md (nothing if absent).
keep_section() {
  [[ -f BENCHMARKS.md ]] || return 0
  awk -v title="## $1" '$0 == title { on = 1; print; next } on && /^## / { on = 0 } on { print }' BENCHMARKS.md
}
only_section() {
  local title=$1; shift
  bash scripts/setup.sh
  step "build (Worker, with the test routes the benchmark stacks run: tests/lib/stack.mjs)"
  PVE_WORKER_FEATURES=test-hooks bash scripts/build.sh worker
  local part
  part=$(mktemp)
  {
    printf '## %s\n\n' "$title"
    echo "Produced by \`bash scripts/bench.sh $ONLY\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(nproc) cores, load average at start $(cut -d' ' -f1-3 /proc/loadavg)). Do not edit by hand."
    echo
  } > "$part"
  "$@" 2>&1 | tee -a "$part"
  echo >> "$part"
  replace_section "$title" "$part"
  rm -f "$part"
  step "wrote the \"$title\" section of BENCHMARKS.md"
}
ONLY=${1:-}
case "$ONLY" in
  --stampede) only_section "Stampede" node tests/bench/stampede.mjs; exit 0 ;;
  --soak) only_section "Outbox soak" node --max-old-space-size=8192 tests/bench/outbox-soak.mjs --events "${SOAK_EVENTS:-1000000}" \
            --aggregates "${SOAK_AGGREGATES:-10000}"; exit 0 ;;
  "") ;;
  *) echo "usage: bash scripts/bench.sh [--stampede | --soak]" >&2; exit 2 ;;
esac

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
  echo "- versions: $(rustc --version), node $(node --version), wrangler $(wrangler --version 2>/dev/null | tail -1), engine $("${CARGO_TARGET_DIR:-$ROOT/target}/release/pve" version)"
  echo "- The API numbers come from \`wrangler dev --local\` (workerd on this machine), not Cloudflare's network: read them as ratios against the baseline measured in the same run."
} | tee "$out"

# BENCH_ONLY=issue16 runs only the issue 16 section (the others need 15+ minutes on a loaded machine) and
# keeps the last stampede and soak sections as they were.
if [ "${BENCH_ONLY:-}" != issue16 ]; then
section "Engine: native and Wasm (node), same cases, same harness"
run node tests/bench/engine.mjs
section "API on wrangler dev, and upstream calls per N concurrent cold requests (stampede)"
run node tests/bench/api.mjs
section "Outbox: relay throughput and write-to-delivery latency"
run node tests/bench/outbox.mjs
else
  echo "- This run: BENCH_ONLY=issue16, so only the issue 16 section below was measured (engine, API and outbox sections not run)." | tee -a "$out"
fi

# Issue 16, before and after in the same run: the tree of BENCH_BASE (a git revision; default 4dcc424, the
# last commit before wave 2, i.e. before edge/ was added in 022bd14: the state issue 16 measured) built from
# a `git archive` copy into a temp dir (next to a link to ../shared, so its fixtures resolve), with its own
# page, Wasm and native bench harness, measured next to this tree by tests/bench/issue16.mjs.
BENCH_BASE=${BENCH_BASE:-4dcc424}
git rev-parse --verify --quiet "$BENCH_BASE^{commit}" >/dev/null || { echo "BENCH_BASE=$BENCH_BASE is not a commit" >&2; exit 2; }
section "Issue 16: browser engine, data asset, valuation and star force, baseline $BENCH_BASE ($(git log -1 --format='%h %ad' --date=short "$BENCH_BASE")) built in this run"
parent=$(mktemp -d)
base="$parent/repo"
mkdir "$base"
git archive "$BENCH_BASE" | tar -x -C "$base"
ln -s "$ROOT/node_modules" "$base/node_modules"
ln -s "$(cd "$ROOT/.." && pwd)/shared" "$parent/shared"
base_target="${CARGO_TARGET_DIR:-$ROOT/target}/bench-base"
(cd "$base" && export CARGO_TARGET_DIR="$base_target" && bash scripts/build.sh web \
  && cargo build --release -p pve-api --features bundled-data --example bench) >/dev/null
{
  echo "Load average before this section (\`uptime\`): $(uptime)"
  echo
  echo "The machine is shared and was loaded (2 cores): read the timings as ratios within this run; the"
  echo "callgrind instruction counts (valgrind, deterministic) are the load-independent measure."
  echo
} | tee -a "$out"
run node tests/bench/issue16.mjs "$base" "$base_target"
echo | tee -a "$out"
echo "Load average after this section: $(uptime)" | tee -a "$out"
rm -rf "$parent"

if [ "${BENCH_ONLY:-}" != issue16 ]; then
  section "Stampede"
  run node tests/bench/stampede.mjs
else
  # Its last section as it was, like the soak's.
  { echo; keep_section "Stampede"; } >> "$out"
fi
# The soak runs only with --soak: keep its last section.
keep_section "Outbox soak" >> "$out"

cp "$out" BENCHMARKS.md
rm -f "$out"
step "wrote BENCHMARKS.md"
