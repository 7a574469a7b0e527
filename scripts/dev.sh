#!/usr/bin/env bash
# Run the whole product locally: the page and the API on http://127.0.0.1:8787, with local KV, Durable
# Objects and D1 (state in .wrangler/), migrations applied. Installs what it needs first. Ctrl-C stops it.
# Extra arguments go to `wrangler dev` (e.g. --port 9000, --var UPSTREAM_BASE_URL:http://127.0.0.1:9100).
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
bash scripts/build.sh web
[[ -f .dev.vars ]] || cp .dev.vars.example .dev.vars
step "D1 migrations (local)"
wrangler d1 migrations apply DB --local
step "wrangler dev --local"
exec wrangler dev --local --ip 127.0.0.1 --port 8787 "$@"
