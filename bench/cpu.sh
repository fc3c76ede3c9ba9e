#!/usr/bin/env bash
# CPU per request of a built Worker, for before/after comparisons (issue 14; not part of the
# tests). Starts the build in wrangler dev (fresh local D1/KV) and, for the floor, the trivial
# Worker of bench/hello; bench/cpu.mjs then makes sequential requests and reads the CPU time of
# each instance's workerd processes from /proc. Usage:
#   bash bench/cpu.sh [build-dir (default build/)] [requests per kind (default 30)]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
BUILD="$(realpath "${1:-$ROOT/build}")"
N="${2:-30}"
[ -f "$BUILD/index.js" ] || die "no built Worker in $BUILD (bash scripts/build.sh)"

WORK="$(mktemp -d /tmp/edge-id-cpu.XXXXXX)"
PID=""
HELLO_PID=""
cleanup() {
  stop_pid "$PID"
  stop_pid "$HELLO_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The same wrangler.toml with only the entry point changed, so any build directory can be measured.
sed -e "s|^main = .*|main = \"$BUILD/index.js\"|" \
  -e "s|^migrations_dir = .*|migrations_dir = \"$ROOT/migrations\"|" \
  -e "s|^directory = .*|directory = \"$ROOT/ui/public\"|" \
  -e '/^\[build\]/,/^command/d' "$ROOT/wrangler.toml" >"$WORK/wrangler.toml"
MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
OPERATOR_SECRET="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
wrangler d1 migrations apply DB --local --persist-to "$WORK/state" -c "$WORK/wrangler.toml" >"$WORK/migrate.log" 2>&1 || {
  cat "$WORK/migrate.log"
  die "applying migrations failed"
}
PORT="$(free_port)"
PID="$(start_wrangler "$PORT" "$WORK/state" "$WORK/wrangler.log" -c "$WORK/wrangler.toml" \
  --var "MASTER_KEY:$MASTER_KEY" --var "OPERATOR_SECRET:$OPERATOR_SECRET")"
HELLO_PORT="$(free_port)"
HELLO_PID="$(start_wrangler "$HELLO_PORT" "$WORK/hello-state" "$WORK/hello.log" -c "$ROOT/bench/hello/wrangler.toml")"
wait_ready "$PORT" "$WORK/wrangler.log"
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "http://127.0.0.1:$HELLO_PORT/" 2>/dev/null && break
  sleep 0.1
done

EDGE_ID_PORT="$PORT" EDGE_ID_OPERATOR_SECRET="$OPERATOR_SECRET" EDGE_ID_WORKERD_ROOT="$PID" \
  EDGE_ID_HELLO_PORT="$HELLO_PORT" EDGE_ID_HELLO_ROOT="$HELLO_PID" EDGE_ID_BUILD="$BUILD" \
  EDGE_ID_SOFT_AUTHENTICATOR="${EDGE_ID_SOFT_AUTHENTICATOR:-${CARGO_TARGET_DIR:-$ROOT/target}/release/soft-authenticator}" \
  node "$ROOT/bench/cpu.mjs" "$N"
