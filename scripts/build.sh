#!/usr/bin/env bash
# Build the Wasm artifacts. Assumes scripts/setup.sh has run.
#   scripts/build.sh worker   the Cloudflare Worker (worker/build/), via worker-build
#   scripts/build.sh web      the browser engine (web/pkg/), via wasm-bindgen --target web, and its data (web/data/)
#   scripts/build.sh          both
# PVE_WORKER_FEATURES (e.g. "test-hooks") adds cargo features to the Worker; unset, it is the release
# build `wrangler deploy` ships, without the test-only routes.
source "$(dirname "$0")/lib.sh"
what="${1:-all}"

# A hash of everything the Worker is built from; wrangler runs this script on every start, and an
# unchanged tree must not cost a rebuild.
worker_inputs_hash() {
  { git ls-files -co --exclude-standard -- Cargo.toml Cargo.lock engine edge worker/src worker/Cargo.toml \
      | sort | xargs sha256sum; echo "$WORKER_BUILD_VERSION $WASM_BINDGEN_VERSION features=${PVE_WORKER_FEATURES:-}"; } | sha256sum | cut -d' ' -f1
}

build_worker() {
  local hash
  hash=$(worker_inputs_hash)
  if [[ -f worker/build/worker/shim.mjs && "$(cat worker/build/.inputs 2>/dev/null)" == "$hash" ]]; then
    step "worker: up to date"
    return
  fi
  local features=()
  [[ -n "${PVE_WORKER_FEATURES:-}" ]] && features=(--features "$PVE_WORKER_FEATURES")
  step "worker: worker-build --release ${features[*]}"
  (cd worker && worker-build --release . "${features[@]}")
  echo "$hash" > worker/build/.inputs
}

# One browser module: `cargo build` of pve-wasm with the given cargo arguments, wasm-bindgen (as
# web/pkg/<name>.js + <name>_bg.wasm), then wasm-opt -Oz.
build_web_module() {
  local name="$1"; shift
  cargo build -p pve-wasm --target wasm32-unknown-unknown --profile wasm-web "$@"
  wasm-bindgen --target web --out-dir web/pkg --out-name "$name" \
    "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-web/pve_wasm.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals -o "web/pkg/${name}_bg.wasm" "web/pkg/${name}_bg.wasm"
}

build_web() {
  step "web: pve-wasm for the browser (the star force module the page loads first, and the full module)"
  rm -rf web/pkg
  build_web_module pve_wasm_starforce --no-default-features
  build_web_module pve_wasm
  # The potential line tables stay out of the Wasm: the page's engine Worker fetches them on first use, in
  # the compact binary format (engine/data/potential.bin, same facts and version as potential.tsv).
  mkdir -p web/data
  rm -f web/data/potential.tsv
  cp engine/data/potential.bin web/data/potential.bin
  step "web: TypeScript types of the pve-api request/response types (web/pkg/pve-api.d.ts, from schemars)"
  cargo run -q -p pve-api --features schema --example schemas > web/pkg/pve-api.schemas.json
  node scripts/gen-types.mjs web/pkg/pve-api.schemas.json web/pkg/pve-api.d.ts
  local raw gz f
  for f in web/pkg/pve_wasm_starforce_bg.wasm web/pkg/pve_wasm_bg.wasm; do
    raw=$(wc -c < "$f")
    gz=$(gzip -9c "$f" | wc -c)
    echo "$f: $raw bytes raw, $gz bytes gzip -9"
  done
}

case "$what" in
  worker) build_worker ;;
  web) build_web ;;
  all) build_web; build_worker ;;
  *) echo "usage: scripts/build.sh [worker|web|all]" >&2; exit 2 ;;
esac
