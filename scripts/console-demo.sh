#!/usr/bin/env bash
# Runs examples/console.rs under tokio-console in tmux, captures the
# console's screen (tmux capture-pane) and checks that weft's named tasks
# are listed (issue 17: "run the real thing once").
#
#   scripts/console-demo.sh            # 10 s of the service, then the capture
#   scripts/console-demo.sh 20         # 20 s
#
# Needs tmux and tokio-console (`cargo install tokio-console`). The screen
# goes to stdout and to target/console-screen.txt. Exit status 1 if a named
# task is missing from the screen.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in tmux tokio-console; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "console-demo: needs $tool (tmux: apt-get install tmux; tokio-console: cargo install tokio-console)" >&2
        exit 2
    fi
done
secs=${1:-10}
# console-subscriber refuses to start unless it was built with
# `--cfg tokio_unstable` or `--cfg console_without_tokio_unstable` (its
# switch for runtimes other than tokio); a target dir of its own keeps that
# flag from rebuilding target/.
export RUSTFLAGS="--cfg console_without_tokio_unstable"
export CARGO_TARGET_DIR=target/console
cargo build --example console --features console --quiet
mkdir -p target
session="weft-console-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
# The service outlives the capture; console-subscriber listens on 127.0.0.1:6669.
tmux new-session -d -s "$session" -x 160 -y 40 \
    "WEFT_CONSOLE_SECS=$((secs + 60)) target/console/debug/examples/console"
sleep 2
tmux new-window -t "$session" "tokio-console"
sleep "$secs"
tmux capture-pane -p -t "$session:1" >target/console-screen.txt
cat target/console-screen.txt
missing=0
for name in ticker producer consumer-0 consumer-1 slow-poll; do
    if ! grep -q -- "$name" target/console-screen.txt; then
        echo "console-demo: task \"$name\" is not on the console's screen" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ] && echo "console-demo: tokio-console lists every named weft task"
exit "$missing"
