#!/usr/bin/env bash
# Runs every Edge ID check: formatting, lints, native unit and ceremony tests, the release build,
# then the end-to-end suites against the real Worker in workerd (wrangler dev, fresh local D1/KV,
# loopback only), including headless Chromium with a virtual authenticator.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/setup.sh" --browser
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

log "cargo fmt --check"
cargo fmt --all --check

log "clippy (native, all targets) and clippy (wasm32 Worker)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --quiet -- -D warnings

log "native unit and ceremony tests"
cargo test --workspace --quiet

log "fuzz targets, a short pass (5 s each)"
bash "$ROOT/scripts/fuzz.sh" 5

bash "$ROOT/scripts/e2e.sh"
log "all tests passed"
