#!/usr/bin/env bash
# A bounded soak of the release Worker on loopback (not part of the tests): builds it, starts
# wrangler dev on a free 127.0.0.1 port with fresh local D1/KV, and runs bench/soak.mjs: 10,000
# mixed requests at concurrency 32, a check of every token they issued, and 200 concurrent user
# creations. Prints a summary (also saved to target/soak/latest.md); exits non-zero when any
# criterion fails.
#   bash scripts/soak.sh        (SOAK_REQUESTS, SOAK_CONCURRENCY, SOAK_USERS, SOAK_SEED,
#                                SOAK_DEADLINE_MS tune it; SOAK_REAL_LIMITS=1 keeps the limits)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

log "release build of the Worker and the software authenticator"
bash "$ROOT/scripts/build.sh" >/dev/null
cargo build --release --quiet -p soft-authenticator

WORK="$(mktemp -d /tmp/edge-id-soak.XXXXXX)"
PID=""
cleanup() {
  stop_pid "$PID"
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The rate limits (60 sign-in ceremonies and 600 token calls per minute per tenant and IP) would
# answer most of a one-IP soak with 429. By default the soak runs the same Worker with a copy of
# wrangler.toml whose limits are raised (the limiter bindings are still called on every request),
# so it measures the endpoints; SOAK_REAL_LIMITS=1 keeps wrangler.toml as it is and counts 429s
# at the limited endpoints as expected.
CONFIG="$ROOT/wrangler.toml"
if [ "${SOAK_REAL_LIMITS:-0}" != 1 ]; then
  CONFIG="$WORK/wrangler.toml"
  sed -e "s#^main = \"build/index.js\"#main = \"$ROOT/build/index.js\"#" \
    -e "s#^migrations_dir = \"migrations\"#migrations_dir = \"$ROOT/migrations\"#" \
    -e "s#^directory = \"ui/public\"#directory = \"$ROOT/ui/public\"#" \
    -e '/^\[build\]$/,/^command = /d' \
    -e 's/^simple = { limit = [0-9]*, period = 60 }$/simple = { limit = 1000000, period = 60 }/' \
    "$ROOT/wrangler.toml" >"$CONFIG"
  [ "$(grep -c 'limit = 1000000' "$CONFIG")" = 2 ] && grep -q "^main = \"$ROOT/" "$CONFIG" &&
    grep -q "^migrations_dir = \"$ROOT/" "$CONFIG" && grep -q "^directory = \"$ROOT/" "$CONFIG" &&
    ! grep -q '^\[build\]' "$CONFIG" ||
    die "could not derive the soak's wrangler config from wrangler.toml (did its layout change?)"
fi

OPERATOR_SECRET="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
PORT="$(free_port)"
wrangler d1 migrations apply DB --local -c "$CONFIG" --persist-to "$WORK/state" >"$WORK/migrate.log" 2>&1 ||
  { cat "$WORK/migrate.log"; die "applying migrations failed"; }
log "starting the Worker on 127.0.0.1:$PORT with a fresh local D1/KV"
PID="$(start_wrangler "$PORT" "$WORK/state" "$WORK/wrangler.log" -c "$CONFIG" \
  --var "MASTER_KEY:$(head -c 32 /dev/urandom | base64)" --var "OPERATOR_SECRET:$OPERATOR_SECRET")"
wait_ready "$PORT" "$WORK/wrangler.log"

OUT="$ROOT/target/soak/latest.md"
DEADLINE_MS="${SOAK_DEADLINE_MS:-900000}"
status=0
# The soak stops itself at its deadline; `timeout` is the backstop should Node hang.
SOAK_OUT="$OUT" SOAK_DEADLINE_MS="$DEADLINE_MS" \
  SOAK_MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), node $(node --version)." \
  EDGE_ID_PORT="$PORT" EDGE_ID_OPERATOR_SECRET="$OPERATOR_SECRET" \
  EDGE_ID_SOFT_AUTHENTICATOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/soft-authenticator" \
  timeout --kill-after=10 "$((DEADLINE_MS / 1000 + 120))" node "$ROOT/bench/soak.mjs" || status=$?
# Anything the Worker logged as an error (panics, uncaught exceptions) is worth seeing.
if grep -Eiq 'panicked|uncaught|error' "$WORK/wrangler.log"; then
  log "the Worker logged errors (first 40 lines):"
  grep -Ei 'panicked|uncaught|error' "$WORK/wrangler.log" | head -n 40 >&2
  [ "$status" = 0 ] && status=1
fi
if [ "$status" != 0 ]; then
  log "wrangler log (last 40 lines)"
  tail -n 40 "$WORK/wrangler.log" >&2
  die "soak failed (exit $status); summary in $OUT"
fi
log "soak passed; summary in $OUT"
