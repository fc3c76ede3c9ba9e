#!/usr/bin/env bash
# Benchmarks Edge ID against panva's oidc-provider on this machine, on loopback only:
# builds the release Worker, runs it in local workerd (wrangler dev, fresh local D1/KV) and the
# reference in Node, drives the same workloads at both (bench/run.mjs) and prints a markdown
# table (also saved to target/bench/latest.md). Not part of the tests.
#   bash scripts/bench.sh            (BENCH_DURATION_MS, BENCH_CONCURRENCY, BENCH_CODES tune it)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

log "release build of the Worker and the software authenticator"
bash "$ROOT/scripts/build.sh" >/dev/null
cargo build --release --quiet -p soft-authenticator

WORK="$(mktemp -d /tmp/edge-id-bench.XXXXXX)"
PID=""
REF_PID=""
FLOOR_PID=""
cleanup() {
  stop_pid "$PID"
  stop_pid "$FLOOR_PID"
  [ -n "$REF_PID" ] && kill "$REF_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

OPERATOR_SECRET="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
PORT="$(free_port)"
REF_PORT="$(free_port)"
wrangler d1 migrations apply DB --local --persist-to "$WORK/state" >"$WORK/migrate.log" 2>&1 ||
  { cat "$WORK/migrate.log"; die "applying migrations failed"; }

log "starting Edge ID on 127.0.0.1:$PORT and oidc-provider on 127.0.0.1:$REF_PORT"
t0=$(date +%s%3N)
PID="$(start_wrangler "$PORT" "$WORK/state" "$WORK/wrangler.log" \
  --var "MASTER_KEY:$(head -c 32 /dev/urandom | base64)" --var "OPERATOR_SECRET:$OPERATOR_SECRET" --var "EXPOSE_METRICS:1")"
wait_ready "$PORT" "$WORK/wrangler.log"
t1=$(date +%s%3N)
node "$ROOT/bench/reference-op.mjs" "$REF_PORT" >"$WORK/reference.log" 2>&1 &
REF_PID=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$REF_PORT/.well-known/openid-configuration" 2>/dev/null && break
  sleep 0.1
done

FLOOR_PORT="$(free_port)"
cd "$ROOT/bench/hello"
setsid wrangler dev --ip 127.0.0.1 --port "$FLOOR_PORT" --inspector-port "$(free_port)" \
  --persist-to "$WORK/floor-state" --log-level warn --show-interactive-dev-session=false >"$WORK/floor.log" 2>&1 </dev/null &
FLOOR_PID=$!
cd "$ROOT"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$FLOOR_PORT/" 2>/dev/null && break
  sleep 0.1
done

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), node $(node --version)"
mkdir -p "$ROOT/target/bench"
EDGE_ID_PORT="$PORT" EDGE_ID_OPERATOR_SECRET="$OPERATOR_SECRET" REF_PORT="$REF_PORT" \
  EDGE_ID_SOFT_AUTHENTICATOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/soft-authenticator" \
  BENCH_READY_MS="$((t1 - t0))" EDGE_PGID="$PID" EDGE_INSPECTOR_PORT="$(cat "$WORK/wrangler.log.inspector")" FLOOR_PORT="$FLOOR_PORT" FLOOR_PGID="$FLOOR_PID" \
  node "$ROOT/bench/run.mjs" | tee "$ROOT/target/bench/latest.md"
