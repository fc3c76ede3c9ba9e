#!/usr/bin/env bash
# Benchmarks the release Worker (not part of the tests; loopback only). Builds it and the software
# authenticator, then runs bench/run.mjs in one Node 22 process: CPU per request of each endpoint
# and of a whole passkey login (the Worker called in-process, D1 over node:sqlite, harness cost
# subtracted), the same workloads against panva's oidc-provider (a child process), latency with
# injected D1 round-trip times beside a central server, throughput through Miniflare, wasm size
# and startup. Prints a markdown report, also saved to target/bench/latest.md. Method and limits:
# docs/benchmarks.md.
#   bash scripts/bench.sh     (BENCH_N, BENCH_LOGIN_N, BENCH_RTTS, BENCH_RTT_SAMPLES,
#                              BENCH_REPLICA_RTT_MS, BENCH_THROUGHPUT_MS tune it)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

log "release build of the Worker and the software authenticator"
bash "$ROOT/scripts/build.sh" >/dev/null
cargo build --release --quiet -p soft-authenticator

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), node $(node --version)"
mkdir -p "$ROOT/target/bench"
# bench/run.mjs owns its only server (the oidc-provider child) and ends it on exit; Miniflare's
# workerd is disposed by the same process.
EDGE_ID_SOFT_AUTHENTICATOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/soft-authenticator" \
  node --no-warnings --no-liftoff --no-wasm-lazy-compilation "$ROOT/bench/run.mjs" >"$ROOT/target/bench/latest.md.tmp"
mv "$ROOT/target/bench/latest.md.tmp" "$ROOT/target/bench/latest.md"
cat "$ROOT/target/bench/latest.md"
