#!/usr/bin/env bash
# Builds the Worker (release wasm + JS shim into build/). wrangler runs this as its build command.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The dev and test scripts build once up front and tell wrangler's build hook not to repeat it.
if [ "${EDGE_ID_PREBUILT:-0}" = 1 ] && [ -f "$ROOT/build/index.js" ]; then
  exit 0
fi

# The Worker's wasm always builds in this checkout's own target dir: cargo copies the final
# artifact to one fixed path per target dir (target/wasm32-unknown-unknown/release/edge_id.wasm),
# so two checkouts sharing a CARGO_TARGET_DIR would bundle each other's code. Several checkouts
# (git worktrees) may build at once.
export CARGO_TARGET_DIR="$ROOT/target"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
cd "$ROOT"
worker-build --release "$@"
