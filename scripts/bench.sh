#!/usr/bin/env bash
# Runs the side-by-side comparison of weft, tokio and smol (issue 7).
#
#   scripts/bench.sh                 # full suite (15 runs per runtime, < 10 min on 2 cores)
#   scripts/bench.sh --quick         # small sizes, 3 runs (< 2 min)
#   scripts/bench.sh --quick spawn   # only workloads whose name contains "spawn"
#
# Arguments are passed to the benchmark (see `--help`). The table goes to
# stdout and to target/bench-compare.txt, the JSON to target/bench-compare.json,
# and the machine's description heads both, so a saved run says where it ran.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mkdir -p target
{
    echo "machine: $(nproc) cpus, ${cpu_model:-unknown cpu}, $(uname -sr)"
    echo "rustc:   $(rustc --version)"
    echo "command: cargo bench --bench compare -- $*"
    echo
    cargo bench --bench compare -- "$@"
} | tee target/bench-compare.txt
