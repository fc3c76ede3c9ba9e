#!/usr/bin/env bash
# Native line coverage of the storage operations and use cases (the layers the native tests
# against SQLite exist for), with cargo-llvm-cov:
#
#   scripts/coverage.sh            prints each file's line coverage and the total of
#                                  src/storage + src/usecase; fails below 80 %
#   COVERAGE_MIN=85 scripts/coverage.sh
#
# Installs llvm-tools and cargo-llvm-cov when they are missing (the first run builds it, a few
# minutes). Not part of scripts/test.sh: the numbers are for the README and reviews, the tests
# themselves run there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

LLVM_COV_VERSION=0.9.1
min="${COVERAGE_MIN:-80}"

rustup component list --installed 2>/dev/null | grep -q '^llvm-tools' \
  || { log "installing llvm-tools"; rustup component add llvm-tools-preview; }
if ! cargo llvm-cov --version 2>/dev/null | grep -q "$LLVM_COV_VERSION"; then
  log "installing cargo-llvm-cov $LLVM_COV_VERSION"
  cargo install cargo-llvm-cov --version "$LLVM_COV_VERSION" --locked
fi

cd "$ROOT"
lcov="$(mktemp)"
trap 'rm -f "$lcov"' EXIT
cargo llvm-cov --lib --lcov --output-path "$lcov" >/dev/null
python3 - "$lcov" "$ROOT" "$min" <<'PY'
import re, sys
lcov, root, minimum = sys.argv[1], sys.argv[2], float(sys.argv[3])

def test_module_start(path):
    """The line where a file's `#[cfg(test)] mod tests` begins: lines from there on are test
    code, whose own execution must not count as coverage of the code under test."""
    lines = open(path).read().split("\n")
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub(\(crate\))? )?mod tests", lines[i + 1]):
            return i + 1
    return len(lines) + 1

files, current = {}, None
for line in open(lcov):
    line = line.strip()
    if line.startswith("SF:"):
        current = line[3:]
        files[current] = {}
    elif line.startswith("DA:") and current:
        number, count = line[3:].split(",")[:2]
        files[current][int(number)] = int(count)

covered = total = 0
for path in sorted(files):
    name = path.removeprefix(root + "/")
    # storage/inspection.rs is test-only code (a cfg(test) module), like the tests modules.
    if not name.startswith(("src/storage/", "src/usecase/")) or name == "src/storage/inspection.rs":
        continue
    end = test_module_start(path)
    counts = [c for n, c in files[path].items() if n < end]
    hit = sum(1 for c in counts if c > 0)
    covered += hit
    total += len(counts)
    percent = 100.0 * hit / len(counts) if counts else 100.0
    print(f"{name:45} {hit:5}/{len(counts):<5} {percent:6.1f} %")
percent = 100.0 * covered / total
print(f"{'src/storage + src/usecase (tests excluded)':45} {covered:5}/{total:<5} {percent:6.1f} %")
if percent < minimum:
    sys.exit(f"line coverage {percent:.1f} % is below {minimum} %")
PY
