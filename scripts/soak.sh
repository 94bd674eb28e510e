#!/usr/bin/env bash
# The long variants of the reliability tests: the same tests as the default
# `cargo test` run, with WEFT_SOAK=1 scaling them up (tests/reliability_support):
#   - reliability_soak: 10,000 concurrent echo connections for 60 s, clients
#     resetting mid-message, every byte checked, RSS flat, no task leaked
#     (raises RLIMIT_NOFILE to about 20,300; needs the hard limit, or root);
#   - reliability_cancel_storm: 1,000,000 tasks aborted from three threads;
#   - reliability_shutdown: 1,000,000 live tasks (500,000 on the
#     current-thread runtime) and 100,000 idle tasks beside 1,000 sockets at drop.
#
# usage: scripts/soak.sh [test name filter]
#   e.g. scripts/soak.sh echo_server     (only the echo soak)
# Release build (the soak measures the runtime, not debug assertions); the
# tests run one at a time so each has both cores. Takes about 2-4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

export WEFT_SOAK=1
started=$SECONDS
cargo test --release -p weft \
    --test reliability_soak --test reliability_cancel_storm --test reliability_shutdown \
    -- --test-threads=1 --nocapture "$@"
echo "soak.sh: done in $((SECONDS - started)) s"
