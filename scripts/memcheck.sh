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
# so the normal build is not invalidated). Exit status: 1 when any binary has
# a memory error or a definite leak; tests that only fail under valgrind's
# slowdown are listed, and fail the run only with MEMCHECK_STRICT=1.
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
        | jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null) | "\(.executable)\t\(.manifest_path)"'
)
if [ ${#binaries[@]} -eq 0 ]; then
    echo "memcheck.sh: the selection built no test binary" >&2
    exit 2
fi

# Proc-macro crates' test binaries link libstd dynamically; cargo test sets
# this path itself, a direct run must too.
export LD_LIBRARY_PATH="$(rustc --print target-libdir)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# A memcheck error exits with MEMCHECK_ERROR (overriding the test's own
# status); a test that merely fails under valgrind's slowdown exits 101.
MEMCHECK_ERROR=99
# Known, deliberate leaks only, each naming the test that makes it:
# timer/tests/sleep.rs forgets a registered Sleep on purpose (std::mem::forget)
# to keep it past its thread. Remove an entry when its test stops leaking.
# Not weft's memory: ring's AES-GCM assembly (the TLS handshake and echo in
# tests/interop_threads.rs, over tokio-rustls) writes the sealed records and
# tags with instructions memcheck does not follow, so it reports them as
# uninitialised when they are compared or sent; the entries match only
# ring's tag comparison and writes made under tokio-rustls frames, hence
# --num-callers=40 (the tokio-rustls frame sits below the default 12).
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
cat >"$suppressions" <<'SUPPRESSIONS'
{
   timer-sleep-test-forgets-a-registered-sleep-on-purpose
   Memcheck:Leak
   match-leak-kinds: definite
   ...
   fun:*an_earlier_deadline_unparks_the_parked_thread_and_a_later_one_does_not*
}
{
   ring-aead-tag-compare-reads-asm-output
   Memcheck:Cond
   fun:*ring*verify_slices_are_equal*
}
{
   ring-sealed-tls-record-written-by-writev
   Memcheck:Param
   writev(vector[...])
   ...
   fun:*tokio_rustls*
}
{
   ring-sealed-tls-record-written-by-write
   Memcheck:Param
   write(buf)
   ...
   fun:*tokio_rustls*
}
SUPPRESSIONS
# A hung test binary (a lost wakeup) must fail the run, not stall CI.
BINARY_TIMEOUT_S="${CHECKER_BINARY_TIMEOUT_S:-900}"

started=$SECONDS
memory_errors=()
test_failures=()
for entry in "${binaries[@]}"; do
    binary=${entry%%$'\t'*}
    # As under cargo test: run from the package directory, with its manifest dir set.
    package_dir=$(dirname "${entry#*$'\t'}")
    name=$(basename "$binary")
    echo "==> memcheck $name"
    # Leaks fail only when definitely lost (the test harness and std keep
    # some "still reachable" and "possibly lost" thread-local state on purpose).
    # --fair-sched=yes: valgrind runs one thread at a time, and its default
    # lock lets the thread that gives it up take it straight back. A thread
    # that waits by spinning (crossbeam's injector waiting for a push to
    # finish writing its slot, a test's yield loop) then keeps the CPU while
    # the thread it waits for never runs: tests stalled past their limits
    # or saw nothing of the other threads' work (docs/reliability.md,
    # "Valgrind's thread scheduling"). The fair lock hands the CPU round in
    # turn, as the kernel does.
    status=0
    (cd "$package_dir" && CARGO_MANIFEST_DIR="$package_dir" \
        timeout "$BINARY_TIMEOUT_S" valgrind --tool=memcheck --fair-sched=yes --error-exitcode=$MEMCHECK_ERROR --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40 --suppressions="$suppressions" \
        --quiet "$binary" --test-threads=2) || status=$?
    case $status in
        0) ;;
        "$MEMCHECK_ERROR") memory_errors+=("$name") ;;
        124) memory_errors+=("$name (hung: killed after ${BINARY_TIMEOUT_S} s)") ;;
        *) test_failures+=("$name") ;;
    esac
done
echo "memcheck.sh: ${#binaries[@]} test binaries in $((SECONDS - started)) s"
if [ ${#test_failures[@]} -ne 0 ]; then
    # Timing-sensitive assertions can fail 20-50x slower; they are reported,
    # and fail the run only with MEMCHECK_STRICT=1.
    echo "memcheck.sh: tests that failed under valgrind (no memory error): ${test_failures[*]}" >&2
fi
if [ ${#memory_errors[@]} -ne 0 ]; then
    echo "memcheck.sh: FAILED, memory errors or definite leaks in: ${memory_errors[*]}" >&2
    exit 1
fi
if [ ${#test_failures[@]} -ne 0 ] && [ "${MEMCHECK_STRICT:-0}" = 1 ]; then
    exit 1
fi
echo "memcheck.sh: clean (0 memory errors, 0 definitely lost)"
