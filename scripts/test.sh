#!/usr/bin/env bash
# Run every test: installs what is missing, then format, lints, unit/property tests, the engine's Wasm
# build and purity, the Wasm bindings under node, and end-to-end + browser tests against `wrangler dev`.
# Idempotent; exits non-zero on the first failure. `.ci/run` calls exactly this.
source "$(dirname "$0")/lib.sh"
# Setup must leave the tree as it found it: compare the tracked files' state before and after it (so a
# developer's own uncommitted edits never fail this, but a lock file rewritten by npm does).
tree_state() { git status --porcelain; git diff HEAD --binary | sha256sum; }
before=$(tree_state)
bash scripts/setup.sh --tests
if [[ "$(tree_state)" != "$before" ]]; then
  echo "scripts/setup.sh changed tracked files:" >&2
  git status --porcelain >&2
  exit 1
fi

step "promtool: check and unit-test the alert rules"
promtool check rules ops/prometheus-alerts.yml
promtool test rules ops/prometheus-alerts.test.yml

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native workspace, and the Wasm crates for wasm32)"
cargo clippy --workspace --exclude pve-worker --all-targets -- -D warnings
cargo clippy -p pve-worker -p pve-wasm --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p pve-worker --target wasm32-unknown-unknown --features test-hooks -- -D warnings

step "cargo test (engine, schema, CLI)"
cargo test --workspace --exclude pve-worker --exclude pve-wasm --exclude pve-edge

step "cargo test -p pve-worker --lib (the Worker's pure parts, natively: cache tiers, limits, config, names)"
cargo test -p pve-worker --lib

step "cargo test -p pve-edge (every decision the edge makes, natively)"
cargo test -p pve-edge

step "JSON Schemas of every pve-api DTO (schemars, feature schema)"
cargo clippy -p pve-api --features schema --examples -- -D warnings
cargo run -q -p pve-api --features schema --example schemas > /dev/null

step "OpenAPI document regenerates byte for byte (pve-openapi: route table + pve-api schemas + error codes)"
cargo test -q -p pve-openapi
if ! cargo run -q -p pve-openapi | cmp -s - worker/src/openapi.json; then
  echo "worker/src/openapi.json differs from the generator's output; run:" >&2
  echo "  cargo run -q -p pve-openapi > worker/src/openapi.json" >&2
  exit 1
fi

step "purity: pve-engine and pve-edge build for wasm32 and depend on no worker / wasm-bindgen / js-sys"
cargo check -p pve-engine -p pve-edge --target wasm32-unknown-unknown
for crate in pve-engine pve-edge; do
  case $crate in
    pve-engine) pattern='^(worker|worker-sys|wasm-bindgen|js-sys|web-sys|serde_json|getrandom) ' ;;
    pve-edge) pattern='^(worker|worker-sys|wasm-bindgen|js-sys|web-sys|getrandom) ' ;;
  esac
  forbidden=$(cargo tree -p "$crate" -e normal,build --prefix none --target all | grep -E "$pattern" || true)
  if [[ -n "$forbidden" ]]; then
    echo "$crate must not depend on these crates:" >&2
    echo "$forbidden" >&2
    exit 1
  fi
  echo "$crate dependencies are pure"
done

step "no import cycle among the modules of pve-worker and pve-edge (a scan of crate::/super::/child paths)"
node scripts/module-cycles.mjs worker edge

step "Wasm bindings under node (wasm-bindgen-test)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p pve-wasm --target wasm32-unknown-unknown

step "build: release CLI, browser Wasm, Worker"
cargo build --release -p pve-cli
PVE_WORKER_FEATURES=test-hooks bash scripts/build.sh all

step "the document's request schemas admit exactly what the engine takes (seeded sample vs the release CLI)"
.venv/bin/python tests/fuzz/schema_agrees.py

step "schemathesis' generator vs the release CLI: schema-valid requests accepted, schema-invalid refused"
.venv/bin/python tests/fuzz/generated_agree.py

step "tsc --noEmit --checkJs over web/ against the generated .d.ts files (tsconfig.json, not strict)"
node_modules/.bin/tsc -p tsconfig.json

step "end-to-end and browser tests against wrangler dev --local"
node --test --test-concurrency=1 --test-reporter=spec tests/e2e/*.test.mjs tests/browser/*.test.mjs

step "schemathesis --checks all against wrangler dev --local and the fake upstream: zero failures"
node tests/fuzz/schemathesis.mjs
