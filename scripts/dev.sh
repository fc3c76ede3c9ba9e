#!/usr/bin/env bash
# Starts Edge ID locally: installs what is missing, builds the Worker, applies the schema to the
# local D1, starts `wrangler dev` on 127.0.0.1:8787 and seeds a `demo` tenant.
# Stop it with Ctrl-C, or `kill -- -$(cat .wrangler/dev.pid)` from another shell.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT="${EDGE_ID_PORT:-8787}"
PERSIST="$ROOT/.wrangler/state"

bash "$ROOT/scripts/setup.sh"
source "$ROOT/scripts/lib.sh"

log "building the Worker (release)"
bash "$ROOT/scripts/build.sh"

# Local secrets: generated once, kept in .dev.vars (git-ignored), read by wrangler dev.
if [ ! -f "$ROOT/.dev.vars" ]; then
  log "writing .dev.vars with a fresh MASTER_KEY and OPERATOR_SECRET"
  {
    echo "MASTER_KEY=\"$(head -c 32 /dev/urandom | base64)\""
    echo "OPERATOR_SECRET=\"$(head -c 24 /dev/urandom | base64 | tr -d '/+=')\""
  } >"$ROOT/.dev.vars"
fi
OPERATOR_SECRET="$(sed -n 's/^OPERATOR_SECRET="\(.*\)"$/\1/p' "$ROOT/.dev.vars")"

log "applying migrations to the local D1"
(cd "$ROOT" && wrangler d1 migrations apply DB --local --persist-to "$PERSIST" >/dev/null)

mkdir -p "$ROOT/.wrangler"
LOGFILE="$ROOT/.wrangler/dev.log"
PID="$(start_wrangler "$PORT" "$PERSIST" "$LOGFILE")"
echo "$PID" >"$ROOT/.wrangler/dev.pid"
trap 'stop_pid "$PID"; rm -f "$ROOT/.wrangler/dev.pid"' EXIT INT TERM
wait_ready "$PORT" "$LOGFILE"

# Seed the demo tenant once (a second start finds it and prints a fresh setup link if unused).
OPERATOR_URL="http://localhost:$PORT" OPERATOR_SECRET="$OPERATOR_SECRET" \
  node "$ROOT/scripts/edge-id-operator.mjs" ensure-demo demo "Demo"

cat <<MSG

  Edge ID is running (wrangler dev PID $PID, logs in .wrangler/dev.log).
    Demo tenant:     http://demo.localhost:$PORT
    Discovery:       http://demo.localhost:$PORT/.well-known/openid-configuration
    Admin console:   http://demo.localhost:$PORT/admin  (after the setup link above)
    Admin API docs:  http://demo.localhost:$PORT/api/openapi.json
    Operator API:    http://localhost:$PORT/operator/api/tenants  (Bearer token in .dev.vars)
    Operator CLI:    npm run operator -- list

  Press Ctrl-C to stop.
MSG
while kill -0 "$PID" 2>/dev/null; do sleep 1; done
