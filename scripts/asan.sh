#!/usr/bin/env bash
# Runs weft's tests under AddressSanitizer (heap/stack out-of-bounds,
# use-after-free, double free, and LeakSanitizer for leaks at exit).
#
# usage: scripts/asan.sh [cargo test selection...]
#   default selection: --workspace (unit and integration tests; doctests are
#   skipped because rustdoc would need the sanitizer flags too)
#   e.g.  scripts/asan.sh -p weft-runtime
#
# -Zsanitizer needs a nightly flag; RUSTC_BOOTSTRAP=1 enables it on this
# stable toolchain. `--target` is explicit so RUSTFLAGS reach only the target
# crates, not build scripts and proc-macros (which cannot be sanitized).
# WEFT_CHECKER=1 scales the reliability tests down (tests/reliability_support).
# Artefacts go to target/asan. Exit status: 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${ASAN_TARGET_DIR:-target/asan}"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zsanitizer=address ${RUSTFLAGS:-}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
export WEFT_CHECKER=1
target="$(rustc -vV | sed -n 's/^host: //p')"
selection=("$@")
if [ ${#selection[@]} -eq 0 ]; then
    selection=(--workspace)
fi

started=$SECONDS
cargo test "${selection[@]}" --tests --no-fail-fast --target "$target" -- --test-threads=2
echo "asan.sh: clean in $((SECONDS - started)) s (build included)"
