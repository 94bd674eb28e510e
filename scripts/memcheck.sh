#!/usr/bin/env bash
# Runs weft's test binaries under valgrind memcheck: any invalid read or
# write, use of uninitialised memory, or definitely-lost block fails the run.
#
# usage: scripts/memcheck.sh [cargo test selection...]
#   default selection: --workspace (every crate's unit and integration tests;
#   doctests are not run: each is its own process, too slow under valgrind)
#   e.g.  scripts/memcheck.sh -p weft-sync
#         scripts/memcheck.sh -p weft --test reliability_cancel_storm
#
# WEFT_CHECKER=1 makes the reliability tests scale their counts down (see
# tests/reliability_support), so the run keeps every path with fewer rounds.
# Artefacts go to target/memcheck (a debug build, separate from target/debug
# so the normal build is not invalidated). Exit status: 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "memcheck.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
command -v jq >/dev/null || { echo "memcheck.sh: jq is not installed (apt-get install jq)" >&2; exit 2; }

export CARGO_TARGET_DIR="${MEMCHECK_TARGET_DIR:-target/memcheck}"
export WEFT_CHECKER=1
selection=("$@")
if [ ${#selection[@]} -eq 0 ]; then
    selection=(--workspace)
fi

mapfile -t binaries < <(
    cargo test "${selection[@]}" --no-run --message-format=json \
        | jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null) | .executable'
)
if [ ${#binaries[@]} -eq 0 ]; then
    echo "memcheck.sh: the selection built no test binary" >&2
    exit 2
fi

started=$SECONDS
failed=()
for binary in "${binaries[@]}"; do
    name=$(basename "$binary")
    echo "==> memcheck $name"
    # --error-exitcode: any memcheck error fails the binary; leaks fail only
    # when definitely lost (the test harness and std keep some "still
    # reachable" and "possibly lost" thread-local state on purpose).
    if ! valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --quiet "$binary" --test-threads=2; then
        failed+=("$name")
    fi
done
echo "memcheck.sh: ${#binaries[@]} test binaries in $((SECONDS - started)) s"
if [ ${#failed[@]} -ne 0 ]; then
    echo "memcheck.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "memcheck.sh: clean (0 errors, 0 definitely lost)"
