#!/usr/bin/env bash
# Fuzzes every parser that takes outside input (the cargo-fuzz targets in fuzz/, libFuzzer on
# nightly): each target runs for the given time, starting from its committed seeds in
# fuzz/corpus/<target>/ plus what earlier runs found (fuzz/target/corpus/<target>/).
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 s, every target)
#
# Installs the nightly toolchain and cargo-fuzz when they are missing. Exits non-zero when any
# target crashes (panic, timeout, out of memory); the input is kept in fuzz/artifacts/<target>/
# and `cargo +nightly fuzz run -O -s none <target> <file>` replays it.
#
# FUZZ_SANITIZER=address adds AddressSanitizer (slower to build and run; the crate is safe Rust,
# so by default panics are what the fuzzer looks for and no sanitizer is used).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CARGO_FUZZ_VERSION=0.13.2
secs="${1:-60}"
[ $# -gt 0 ] && shift
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "seconds per target must be a positive number, not '$secs'"
sanitizer="${FUZZ_SANITIZER:-none}"

command -v rustup >/dev/null || die "rustup is required (the fuzzer needs the nightly toolchain)"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  log "installing the nightly toolchain (cargo fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

cd "$ROOT/fuzz"
# The fuzz crate has its own target directory (nightly, instrumented): never the shared one.
unset CARGO_TARGET_DIR

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
[ "${#targets[@]}" -gt 0 ] || die "no fuzz targets found"

log "building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
start=$SECONDS
cargo +nightly fuzz build -O --sanitizer "$sanitizer"
log "built in $((SECONDS - start)) s"

mkdir -p target/fuzz-logs
failed=()
summary=()
for t in "${targets[@]}"; do
  [ -d "corpus/$t" ] || die "unknown target $t (no fuzz/corpus/$t)"
  work="target/corpus/$t"
  mkdir -p "$work"
  logfile="target/fuzz-logs/$t.log"
  log "fuzzing $t for $secs s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: over 2 GB is a leak or a
  # decompression bomb. Both count as crashes.
  if cargo +nightly fuzz run -O --sanitizer "$sanitizer" "$t" "$work" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$logfile" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -1)"
    took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$logfile" | tail -1)"
    summary+=("$t: ${runs:-?} runs in ${took:-?} s, no crash")
  else
    tail -n 40 "$logfile" >&2
    summary+=("$t: CRASHED (log: fuzz/$logfile, input in fuzz/artifacts/$t/)")
    failed+=("$t")
  fi
done

printf '%s\n' "${summary[@]}"
[ "${#failed[@]}" -eq 0 ] || die "fuzz targets crashed: ${failed[*]}"
log "fuzzing passed: ${#targets[@]} targets, $secs s each"
