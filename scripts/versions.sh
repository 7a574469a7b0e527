# Pinned tool versions, in one place. Sourced by the other scripts.
# wasm-bindgen CLI must equal the wasm-bindgen library version in Cargo.lock (checked by setup.sh).
WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
# prometheus-client (PyPI) is the reference Prometheus text parser used by tests/e2e/metrics.test.mjs.
# Node 22 (wrangler >= 4.87 needs it) and wrangler, playwright-core, binaryen come from package.json / package-lock.json.
PROMETHEUS_CLIENT_VERSION=0.26.0
# schemathesis (PyPI), the outside fuzzer run by test.sh against the served /openapi.json, in the venv .venv/.
SCHEMATHESIS_VERSION=4.32.5
