#!/usr/bin/env bash
# Prints the Worker's wasm size raw, gzip -9 and brotli -11 (the figures of bench/run.mjs's
# "Size and startup" table) without running the benchmark. Builds first unless SIZE_NO_BUILD=1;
# a path argument measures that wasm instead of build/index_bg.wasm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

WASM="${1:-$ROOT/build/index_bg.wasm}"
if [ $# -eq 0 ] && [ "${SIZE_NO_BUILD:-0}" != 1 ]; then
  bash "$ROOT/scripts/build.sh" >&2
fi
[ -f "$WASM" ] || die "no wasm at $WASM (run scripts/build.sh)"

node -e '
const { readFileSync } = require("node:fs");
const zlib = require("node:zlib");
const b = readFileSync(process.argv[1]);
const gz = zlib.gzipSync(b, { level: 9 }).length;
const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kb = (n) => `${(n / 1024).toFixed(0)} KB (${n.toLocaleString("en")} B)`;
console.log(`wasm raw        ${kb(b.length)}`);
console.log(`wasm gzip -9    ${kb(gz)}`);
console.log(`wasm brotli -11 ${kb(br)}`);
' "$WASM"
