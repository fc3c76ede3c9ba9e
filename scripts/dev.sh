#!/usr/bin/env bash
# Starts Edge ID locally: installs what is missing, builds the Worker, applies the schema to the
# local D1, starts a local mail catcher (aiosmtpd on 127.0.0.1:2525, every tenant's default SMTP
# server), starts `wrangler dev` on 127.0.0.1:8787 and seeds a `demo` tenant with email sign-in
# codes on.
# Stop it with Ctrl-C, or `kill -- -$(cat .wrangler/dev.pid)` from another shell.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT="${EDGE_ID_PORT:-8787}"
SMTP_PORT="${EDGE_ID_SMTP_PORT:-2525}"
PERSIST="$ROOT/.wrangler/state"
MAIL_DIR="$ROOT/.wrangler/mail"

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

mkdir -p "$ROOT/.wrangler" "$MAIL_DIR"
log "starting the mail catcher on 127.0.0.1:$SMTP_PORT (mail lands in .wrangler/mail/)"
setsid "$ROOT/.venv-mail/bin/python" "$ROOT/tests/e2e/lib/mail_catcher.py" "$SMTP_PORT" "$MAIL_DIR" \
  >"$ROOT/.wrangler/mail.log" 2>&1 </dev/null &
MAIL_PID=$!
LOGFILE="$ROOT/.wrangler/dev.log"
# The catcher is the deployment's default SMTP server (SMTP_* variables), so every local tenant
# sends there unless an admin sets another server.
PID="$(start_wrangler "$PORT" "$PERSIST" "$LOGFILE" \
  --var "SMTP_HOST:127.0.0.1" --var "SMTP_PORT:$SMTP_PORT" --var "SMTP_TLS:none" \
  --var "SMTP_FROM:no-reply@demo.localhost")"
echo "$PID" >"$ROOT/.wrangler/dev.pid"
trap 'stop_pid "$PID"; stop_pid "$MAIL_PID"; rm -f "$ROOT/.wrangler/dev.pid"' EXIT INT TERM
wait_ready "$PORT" "$LOGFILE"

# Seed the demo tenant once (a second start finds it and prints a fresh setup link if unused).
OPERATOR_URL="http://localhost:$PORT" OPERATOR_SECRET="$OPERATOR_SECRET" \
  node "$ROOT/scripts/edge-id-operator.mjs" ensure-demo demo "Demo"

# Email sign-in codes on for the demo tenant (through its admin API, with a key made once).
KEY_FILE="$ROOT/.wrangler/demo-api-key"
demo_api() {
  curl -s -o /dev/null -w '%{http_code}' -X "$1" "http://demo.localhost:$PORT$2" \
    -H "x-api-key: $(cat "$KEY_FILE" 2>/dev/null)" -H 'content-type: application/json' ${3:+-d "$3"}
}
if [ "$(demo_api GET /api/application-configuration)" != 200 ]; then
  curl -s -X POST "http://localhost:$PORT/operator/api/tenants/demo/api-keys" \
    -H "authorization: Bearer $OPERATOR_SECRET" -H 'content-type: application/json' \
    -d '{"name":"scripts/dev.sh"}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).api_key))' >"$KEY_FILE"
fi
[ "$(demo_api PUT /api/application-configuration '{"email_sign_in_codes":true}')" = 200 ] ||
  log "could not turn on email sign-in codes for the demo tenant"

cat <<MSG

  Edge ID is running (wrangler dev PID $PID, logs in .wrangler/dev.log).
    Demo tenant:     http://demo.localhost:$PORT
    Discovery:       http://demo.localhost:$PORT/.well-known/openid-configuration
    Admin console:   http://demo.localhost:$PORT/admin  (after the setup link above)
    Admin API docs:  http://demo.localhost:$PORT/api/openapi.json
    Operator API:    http://localhost:$PORT/operator/api/tenants  (Bearer token in .dev.vars)
    Operator CLI:    npm run operator -- list
    Email sign-in:   http://demo.localhost:$PORT/login/email
    Mail catcher:    127.0.0.1:$SMTP_PORT; every mail lands in .wrangler/mail/ (.eml and .json),
                     one line per mail in .wrangler/mail.log (tail -f it)

  Press Ctrl-C to stop.
MSG
while kill -0 "$PID" 2>/dev/null; do sleep 1; done
