#!/usr/bin/env bash
# Install everything the product and its tests need, skipping what is already there. Idempotent.
#   scripts/setup.sh            tools to build and run (rust target, wasm-bindgen-cli, worker-build, npm packages)
#   scripts/setup.sh --tests    the same plus Debian's chromium for the browser tests
source "$(dirname "$0")/lib.sh"

want_tests=false
[[ "${1:-}" == "--tests" ]] && want_tests=true

step "rust: wasm32 target, rustfmt, clippy"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  rustup component list --installed | grep -q "^$c" || rustup component add "$c"
done

step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (must match Cargo.lock)"
locked=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [[ "$locked" != "$WASM_BINDGEN_VERSION" ]]; then
  echo "Cargo.lock has wasm-bindgen $locked but scripts/versions.sh pins $WASM_BINDGEN_VERSION" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  # No --locked: one locked dependency is missing from the registry mirror (TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

step "worker-build $WORKER_BUILD_VERSION"
if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

step "npm packages (wrangler, Node 22, playwright-core, binaryen)"
stamp=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ "$(cat node_modules/.pve-installed 2>/dev/null)" != "$stamp" ]]; then
  # `npm ci`: installs exactly package-lock.json and never rewrites it. The lock records every
  # platform's optional workerd package (what npm 11 writes on `install`); npm ci accepts it.
  npm ci --no-audit --no-fund
  echo "$stamp" > node_modules/.pve-installed
fi

if $want_tests; then
  step "prometheus-client $PROMETHEUS_CLIENT_VERSION (the reference text-format parser, for the metrics test)"
  if ! python3 -c "import prometheus_client, sys; sys.exit(prometheus_client.__version__ != '$PROMETHEUS_CLIENT_VERSION')" 2>/dev/null; then
    python3 -m pip install --quiet "prometheus-client==$PROMETHEUS_CLIENT_VERSION"
  fi
  step "schemathesis $SCHEMATHESIS_VERSION in .venv/ (the outside OpenAPI fuzzer)"
  if ! .venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  step "promtool (Debian's prometheus package) to check and unit-test ops/prometheus-alerts.yml"
  if ! command -v promtool >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
    fi
  fi
  step "chromium (Debian) for the browser tests, and a Korean font for readable screenshots"
  if [[ ! -x /usr/bin/chromium || ! -d /usr/share/fonts/truetype/nanum ]]; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum
    fi
  fi
fi
echo "setup: done"
