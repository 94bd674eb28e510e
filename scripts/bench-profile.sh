#!/usr/bin/env bash
# Profiles one workload on one runtime with callgrind (instruction counts are
# stable on a noisy shared machine, unlike wall time) and prints the hottest
# functions, inclusive and exclusive.
#
#   scripts/bench-profile.sh WORKLOAD RUNTIME [extra benchmark args]
#   scripts/bench-profile.sh spawn_inside weft-mt
#   scripts/bench-profile.sh ping_pong tokio-ct --runs 1
#
# Runs the quick size once. The raw profile is kept in
# target/callgrind.WORKLOAD.RUNTIME.out for callgrind_annotate or kcachegrind.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
    echo "usage: $0 WORKLOAD RUNTIME [extra benchmark args]" >&2
    exit 2
fi
workload=$1 runtime=$2
shift 2

# The bench profile keeps debug line info (see [profile.bench]), so the
# annotated names are readable.
exe=$(cargo bench --bench compare --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*compare-[^"]*\)".*/\1/p' | tail -1)
if [ -z "$exe" ]; then
    echo "$0: could not find the compare benchmark's executable" >&2
    exit 1
fi
out=target/callgrind.$workload.$runtime.out
valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$exe" --quick --runs 1 --runtimes "$runtime" --json target/callgrind.json "$@" "$workload"
echo "== inclusive"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '/file:function/,$p' | head -45
echo "== exclusive"
callgrind_annotate "$out" 2>/dev/null | sed -n '/file:function/,$p' | head -40
