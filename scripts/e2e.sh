#!/usr/bin/env bash
# Builds the release Worker, starts it in workerd (wrangler dev, fresh local D1/KV, loopback) and
# runs end-to-end suites against it. Usage: scripts/e2e.sh [tests/e2e/<suite>.test.mjs ...]
# (default: every suite). scripts/test.sh runs it after the native checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

log "release build of the Worker and the software authenticator"
bash "$ROOT/scripts/build.sh" >/dev/null
cargo build --release --quiet -p soft-authenticator

WORK="$(mktemp -d /tmp/edge-id-test.XXXXXX)"
PID=""
FAULT_PID=""
cleanup() {
  stop_pid "$PID"
  stop_pid "$FAULT_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

log "wrangler deploy --dry-run (the bundle and config are deployable)"
# The build above is the one being checked: wrangler's build hook does not repeat it.
EDGE_ID_PREBUILT=1 wrangler deploy --dry-run --outdir "$WORK/dry-run" >"$WORK/dry-run.log" 2>&1 || {
  cat "$WORK/dry-run.log"
  die "wrangler deploy --dry-run failed"
}

MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
OPERATOR_SECRET="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
PORT="$(free_port)"
log "starting the Worker on 127.0.0.1:$PORT with a fresh local D1/KV"
wrangler d1 migrations apply DB --local --persist-to "$WORK/state" >"$WORK/migrate.log" 2>&1 || {
  cat "$WORK/migrate.log"
  die "applying migrations failed"
}
# The main instance runs wrangler.toml with its commented-out `send_email` binding turned on
# and EMAIL_FROM set: tenants without their own SMTP server send through wrangler dev's local
# Cloudflare Email Service simulator (tests/e2e/mail-delivery.test.mjs reads what it captured).
sed -e "s|^main = .*|main = \"$ROOT/build/index.js\"|" \
  -e "s|^migrations_dir = .*|migrations_dir = \"$ROOT/migrations\"|" \
  -e "s|^directory = .*|directory = \"$ROOT/ui/public\"|" \
  -e '/^\[build\]/,/^command/d' \
  -e 's|^# \[\[send_email\]\]$|[[send_email]]|' -e 's|^# name = "EMAIL"$|name = "EMAIL"|' \
  "$ROOT/wrangler.toml" >"$WORK/wrangler.toml"
grep -q '^\[\[send_email\]\]' "$WORK/wrangler.toml" || die "wrangler.toml has no send_email block to turn on"
PID="$(start_wrangler "$PORT" "$WORK/state" "$WORK/wrangler.log" -c "$WORK/wrangler.toml" \
  --var "MASTER_KEY:$MASTER_KEY" --var "OPERATOR_SECRET:$OPERATOR_SECRET" --var "EXPOSE_METRICS:1" \
  --var "EMAIL_FROM:id@mail.edge-id.test")"
wait_ready "$PORT" "$WORK/wrangler.log"

if [ "$#" -gt 0 ]; then suites=("$@"); else suites=("$ROOT"/tests/e2e/*.test.mjs); fi

# The fault suite talks to a second instance: the same bundle behind a faulty D1 double
# (tests/faults/entry.mjs), configured from wrangler.toml with only the entry point changed.
FAULT_PORT=""
if printf '%s\n' "${suites[@]}" | grep -q 'faults.test.mjs'; then
  FAULT_PORT="$(free_port)"
  sed -e 's|^name = .*|name = "edge-id-faults"|' \
    -e "s|^main = .*|main = \"$ROOT/tests/faults/entry.mjs\"|" \
    -e "s|^migrations_dir = .*|migrations_dir = \"$ROOT/migrations\"|" \
    -e "s|^directory = .*|directory = \"$ROOT/ui/public\"|" \
    -e '/^\[build\]/,/^command/d' "$ROOT/wrangler.toml" >"$WORK/faults.toml"
  log "starting the Worker behind a faulty D1 double on 127.0.0.1:$FAULT_PORT"
  wrangler d1 migrations apply DB --local --persist-to "$WORK/fault-state" -c "$WORK/faults.toml" \
    >"$WORK/fault-migrate.log" 2>&1 || {
    cat "$WORK/fault-migrate.log"
    die "applying migrations (fault instance) failed"
  }
  FAULT_PID="$(start_wrangler "$FAULT_PORT" "$WORK/fault-state" "$WORK/faults.log" -c "$WORK/faults.toml" \
    --var "MASTER_KEY:$MASTER_KEY" --var "OPERATOR_SECRET:$OPERATOR_SECRET" --var "EXPOSE_METRICS:1")"
  wait_ready "$FAULT_PORT" "$WORK/faults.log"
fi
log "end-to-end tests"
mkdir -p "$ROOT/tests/output"
status=0
# EDGE_ID_STATE: the local D1/KV state, for suites that set up a row no request can make
# (an expired device code) with `wrangler d1 execute --local --persist-to`.
EDGE_ID_PORT="$PORT" EDGE_ID_FAULT_PORT="$FAULT_PORT" EDGE_ID_OPERATOR_SECRET="$OPERATOR_SECRET" \
  EDGE_ID_STATE="$WORK/state" \
  EDGE_ID_SOFT_AUTHENTICATOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/soft-authenticator" \
  node --test --test-concurrency=2 --test-reporter=spec "${suites[@]}" || status=$?
if [ "$status" != 0 ]; then
  log "wrangler log (last 60 lines)"
  tail -n 60 "$WORK/wrangler.log" >&2
  exit "$status"
fi
log "all end-to-end tests passed"
