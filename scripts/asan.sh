#!/usr/bin/env bash
# Runs weft's test binaries under AddressSanitizer (heap/stack out-of-bounds,
# use-after-free, double free, and LeakSanitizer for leaks at exit).
#
# usage: scripts/asan.sh [cargo test selection...]
#   default selection: --workspace (every crate's unit and integration tests;
#   doctests are skipped because rustdoc would need the sanitizer flags too)
#   e.g.  scripts/asan.sh -p weft-runtime
#
# -Zsanitizer needs a nightly flag; RUSTC_BOOTSTRAP=1 enables it on this
# stable toolchain. `--target` is explicit so RUSTFLAGS reach only the target
# crates, not build scripts and proc-macros (which cannot be sanitized). The
# flags are given to the build only, not to the test processes: a test that
# runs cargo itself (tests/examples.rs) then builds normally.
# `--cfg weft_no_block_cache` turns off the task module's cache of freed task
# blocks (runtime/src/task/blocks.rs), so every freed block goes back to the
# allocator and ASan sees any use after free of a task.
# WEFT_CHECKER=1 scales the reliability tests down (tests/reliability_support).
# Artefacts go to target/asan. Exit status: 1 if any test binary fails.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v jq >/dev/null || { echo "asan.sh: jq is not installed (apt-get install jq)" >&2; exit 2; }

target_dir="${ASAN_TARGET_DIR:-target/asan}"
target="$(rustc -vV | sed -n 's/^host: //p')"
selection=("$@")
if [ ${#selection[@]} -eq 0 ]; then
    selection=(--workspace)
fi

started=$SECONDS
mapfile -t binaries < <(
    RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address --cfg weft_no_block_cache ${RUSTFLAGS:-}" CARGO_TARGET_DIR="$target_dir" \
        cargo test "${selection[@]}" --tests --target "$target" --no-run --message-format=json \
        | jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null) | "\(.executable)\t\(.manifest_path)"'
)
if [ ${#binaries[@]} -eq 0 ]; then
    echo "asan.sh: the selection built no test binary" >&2
    exit 2
fi
echo "asan.sh: built ${#binaries[@]} test binaries in $((SECONDS - started)) s"

export WEFT_CHECKER=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
# Known, deliberate leaks only, each naming the test that makes it:
# timer/tests/sleep.rs forgets a registered Sleep on purpose (std::mem::forget)
# to keep it past its thread. Remove an entry when its test stops leaking.
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
echo "leak:an_earlier_deadline_unparks_the_parked_thread_and_a_later_one_does_not" >"$suppressions"
export LSAN_OPTIONS="suppressions=$suppressions${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# Proc-macro crates' test binaries link libstd dynamically.
export LD_LIBRARY_PATH="$(rustc --print target-libdir)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# A hung test binary (a lost wakeup) must fail the run, not stall CI.
BINARY_TIMEOUT_S="${CHECKER_BINARY_TIMEOUT_S:-600}"
run_started=$SECONDS
failed=()
for entry in "${binaries[@]}"; do
    binary=${entry%%$'\t'*}
    # As under cargo test: run from the package directory, with its manifest dir set.
    package_dir=$(dirname "${entry#*$'\t'}")
    name=$(basename "$binary")
    echo "==> asan $name"
    if ! (cd "$package_dir" && CARGO_MANIFEST_DIR="$package_dir" \
        timeout "$BINARY_TIMEOUT_S" "$binary" --test-threads=2); then
        failed+=("$name")
    fi
done
echo "asan.sh: ${#binaries[@]} test binaries ran in $((SECONDS - run_started)) s (total $((SECONDS - started)) s)"
if [ ${#failed[@]} -ne 0 ]; then
    echo "asan.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "asan.sh: clean (no AddressSanitizer or LeakSanitizer report)"
