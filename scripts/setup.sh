#!/usr/bin/env bash
# Installs everything Edge ID needs to build, run and test, idempotently and quickly when it is
# already there. Usage: scripts/setup.sh [--browser]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# worker-build would download wasm-bindgen and wasm-opt from GitHub, which is unreachable here:
# install the pinned CLI from crates.io and take wasm-opt/esbuild from npm instead.
wbv="$(wasm_bindgen_version)"
[ -n "$wbv" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbv" ]; then
  log "installing wasm-bindgen-cli $wbv (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$wbv" --force
fi
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "0.8.7" ]; then
  log "installing worker-build 0.8.7 (a few minutes, once)"
  cargo install worker-build --version 0.8.7 --force
fi

# npm dependencies (wrangler, Node 22, wasm-opt, esbuild, test libraries).
stamp="$ROOT/node_modules/.edge-id-stamp"
if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
  log "installing npm packages"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
# Re-source so the freshly installed Node 22 lands on PATH.
source "$(dirname "$0")/lib.sh"

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi

# The Django relying party (tests/e2e/django.test.mjs): mozilla-django-oidc in a virtualenv.
if [ "$want_browser" = 1 ]; then
  venv="$ROOT/.venv-django"
  req="$ROOT/tests/django_rp/requirements.txt"
  if [ ! -x "$venv/bin/python" ] || [ "$req" -nt "$venv/.installed" ]; then
    log "installing Django and mozilla-django-oidc for the Django test"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    touch "$venv/.installed"
  fi
fi

# The local mail catcher (scripts/dev.sh) and the email tests' SMTP server: aiosmtpd in a
# virtualenv of its own.
mail_venv="$ROOT/.venv-mail"
if [ ! -x "$mail_venv/bin/python" ] || ! "$mail_venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd for the local mail catcher and the email tests"
  python3 -m venv "$mail_venv"
  "$mail_venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
fi
