#!/usr/bin/env bash
# hyper 1.x on weft against hyper on tokio: the server under wrk on both
# flavours, and hyper-util's pooled client.
#
#   scripts/bench-hyper.sh                 # 3 rounds x 10 s per runtime and flavour, 100 connections
#   ROUNDS=5 DURATION=20s CONNECTIONS=200 scripts/bench-hyper.sh
#   FLAVOURS=multi scripts/bench-hyper.sh  # multi-thread servers only (or FLAVOURS=current)
#   PARTS=client scripts/bench-hyper.sh    # the client comparison only (PARTS="server client counts" by default)
#   CLIENT_SPAWN=1 PARTS=client scripts/bench-hyper.sh  # each client request a spawned task (default: all in block_on)
#   PARTS=counts scripts/bench-hyper.sh    # per-request counts only (CPU, context switches, system calls)
#
# Installs wrk from the OS packages if it is missing (apt-get), builds
# benches/hyper (its own package, so hyper stays out of weft's normal build),
# then, per flavour (multi-thread with 2 workers, current-thread), alternates
# the two servers round by round (weft, tokio, weft, ...) on loopback and
# prints requests/s and p99 latency per round and their medians. The client
# part runs the same hyper-util pooled client on each runtime (multi-thread,
# 2 workers), CLIENT_CONCURRENCY keep-alive requests at once, CLIENT_ROUNDS
# times, against one tokio server in another process, alternating round by
# round, and prints the medians of the time taken. wrk and the server share
# the same 2 cores, so compare the two runtimes with each other, not with
# published figures.
#
# The counts part, last, measures what a request costs
# rather than how many fit in a second, so other load on the machine moves
# it far less: per server, under the same wrk load for COUNT_DURATION, the
# server's CPU time per request (its threads' run time from
# /proc/PID/task/*/schedstat), its context switches per request (voluntary
# ones are sleeps: parks and futex waits), and, when `perf` can count
# tracepoints here (root or perf_event_paranoid <= 1), its system calls per
# request, with epoll_wait, futex and ppoll apart; then the same for one
# client run of each runtime (GNU time's CPU and context switches, and perf's
# system calls). Each figure prints with its weft/tokio ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-100}
WRK_THREADS=${WRK_THREADS:-2}
WORKERS=${WORKERS:-2}
PORT_WEFT=${PORT_WEFT:-18081}
PORT_TOKIO=${PORT_TOKIO:-18082}
PORT_CLIENT=${PORT_CLIENT:-18083}
FLAVOURS=${FLAVOURS:-multi current}
PARTS=${PARTS:-server client counts}
CLIENT_CONCURRENCY=${CLIENT_CONCURRENCY:-100}
CLIENT_ROUNDS=${CLIENT_ROUNDS:-1000}
COUNT_DURATION=${COUNT_DURATION:-5}

if ! command -v wrk >/dev/null; then
    echo "bench-hyper: installing wrk from the OS packages" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get install -y wrk >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y wrk >&2; }
fi

export CARGO_TARGET_DIR="$PWD/target/hyper-bench"
cargo build --release --manifest-path benches/hyper/Cargo.toml >&2
server="$CARGO_TARGET_DIR/release/weft-hyper-bench"

server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
trap stop_server EXIT

# wait_for_port PORT: until something accepts on 127.0.0.1:PORT (at most ~5 s).
wait_for_port() {
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "bench-hyper: nothing listens on port $1" >&2
    return 1
}

# to_ms LATENCY: wrk prints 1.23ms, 456.78us or 1.02s; print milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else { printf "%s", v }
    }'
}

declare -A rps p99
run_round() { # SERVER PORT ROUND
    "$server" "$1" "127.0.0.1:$2" "$WORKERS" 2>/dev/null &
    server_pid=$!
    wait_for_port "$2"
    out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/")
    stop_server
    local r l
    r=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    l=$(echo "$out" | awk '$1 == "99%" {print $2}')
    rps[$1]="${rps[$1]:-} $r"
    p99[$1]="${p99[$1]:-} $(to_ms "$l")"
    printf "round %s  %-8s  %10s req/s  p99 %s\n" "$3" "$1" "$r" "$l"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
if [[ " $PARTS " == *" server "* ]]; then
    echo "server: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency; multi-thread servers with $WORKERS workers; $ROUNDS rounds"
    for flavour in $FLAVOURS; do
        case $flavour in
            multi) weft=weft tokio=tokio ;;
            current) weft=weft-ct tokio=tokio-ct ;;
            *) echo "bench-hyper: unknown flavour $flavour (multi or current)" >&2; exit 2 ;;
        esac
        for round in $(seq "$ROUNDS"); do
            run_round "$weft" "$PORT_WEFT" "$round"
            run_round "$tokio" "$PORT_TOKIO" "$round"
        done
        weft_rps=$(echo "${rps[$weft]}" | median); tokio_rps=$(echo "${rps[$tokio]}" | median)
        weft_p99=$(echo "${p99[$weft]}" | median); tokio_p99=$(echo "${p99[$tokio]}" | median)
        echo
        printf "%-8s %14s %12s\n" server "median req/s" "median p99"
        printf "%-8s %14s %9s ms\n" "$weft" "$weft_rps" "$weft_p99"
        printf "%-8s %14s %9s ms\n" "$tokio" "$tokio_rps" "$tokio_p99"
        awk -v f="$flavour" -v w="$weft_rps" -v t="$tokio_rps" -v wl="$weft_p99" -v tl="$tokio_p99" \
            'BEGIN { printf "%s-thread weft/tokio: req/s %.2f (above 1.00: weft serves more), p99 %.2f (below 1.00: weft is faster)\n\n", f, w / t, wl / tl }'
    done
fi

if [[ " $PARTS " == *" client "* ]]; then
    shape="all in block_on's future"
    [ "${CLIENT_SPAWN:-0}" = 1 ] && shape="each a spawned task"
    echo "client: hyper-util's pooled client, $CLIENT_CONCURRENCY concurrent keep-alive requests x $CLIENT_ROUNDS ($shape), against a tokio server ($WORKERS workers); $ROUNDS rounds"
    "$server" tokio "127.0.0.1:$PORT_CLIENT" "$WORKERS" 2>/dev/null &
    server_pid=$!
    wait_for_port "$PORT_CLIENT"
    declare -A took
    for round in $(seq "$ROUNDS"); do
        for side in weft tokio; do
            out=$("$server" "client-$side" "127.0.0.1:$PORT_CLIENT" "$WORKERS" "$CLIENT_CONCURRENCY" "$CLIENT_ROUNDS")
            t=$(echo "$out" | awk '{print $5}')
            took[$side]="${took[$side]:-} $t"
            printf "round %s  client-%-5s  %s s\n" "$round" "$side" "$t"
        done
    done
    stop_server
    weft_t=$(echo "${took[weft]}" | median); tokio_t=$(echo "${took[tokio]}" | median)
    awk -v w="$weft_t" -v t="$tokio_t" \
        'BEGIN { printf "client median time: weft %.3f s, tokio %.3f s; weft/tokio %.2f (below 1.00: weft is faster)\n", w, t, w / t }'
fi

# perf_counts FILE: "calls epoll_wait futex ppoll" from a `perf stat -x,` file
# (empty fields when perf counted nothing).
perf_counts() {
    awk -F, '$3 == "raw_syscalls:sys_enter" {c=$1} $3 ~ /epoll_wait$/ {e=$1} $3 ~ /futex$/ {f=$1} $3 ~ /ppoll$/ {p=$1}
        END {print c, e, f, p}' "$1"
}
perf_events=raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_ppoll
have_perf=no
if command -v perf >/dev/null && perf stat -x, -e raw_syscalls:sys_enter -o /dev/null -- true 2>/dev/null; then
    have_perf=yes
fi

# col_medians: reads lines of numbers ("-" for none), prints each column's median.
col_medians() {
    awk '{ for (i = 1; i <= NF; i++) v[i, NR] = $i; if (NF > nf) nf = NF }
        END {
            for (i = 1; i <= nf; i++) {
                n = 0
                for (r = 1; r <= NR; r++) if (v[i, r] != "-") a[++n] = v[i, r] + 0
                if (n == 0) { printf "%s-", (i > 1 ? " " : ""); continue }
                for (x = 2; x <= n; x++) for (y = x; y > 1 && a[y - 1] > a[y]; y--) { t = a[y]; a[y] = a[y - 1]; a[y - 1] = t }
                m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
                printf "%s%.4g", (i > 1 ? " " : ""), m
            }
            printf "\n"
        }'
}

if [[ " $PARTS " == *" counts "* ]]; then
    echo "counts: wrk -t$WRK_THREADS -c$CONNECTIONS for ${COUNT_DURATION}s per server (after a 1 s warm-up), $ROUNDS rounds; per request:"
    [ "$have_perf" = yes ] || echo "(perf cannot count tracepoints here: system calls skipped; run as root for them)"
    header() { printf "%-16s %7s %8s %8s %8s %8s %8s %8s %9s\n" "$1" "cpu us" "vol cs" "invol cs" syscalls epoll futex ppoll "req/s"; }
    header server
    declare -A cnt
    for round in $(seq "$ROUNDS"); do
        for mode in weft tokio weft-ct tokio-ct; do
            "$server" "$mode" "127.0.0.1:$PORT_WEFT" "$WORKERS" 2>/dev/null &
            server_pid=$!
            wait_for_port "$PORT_WEFT"
            wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "http://127.0.0.1:$PORT_WEFT/" >/dev/null
            snap() {
                cat /proc/"$server_pid"/task/*/schedstat | awk '{r += $1} END {printf "%.0f", r}'
                printf " "
                cat /proc/"$server_pid"/task/*/status | awk '/^voluntary_ctxt/ {v += $2} /^nonvoluntary_ctxt/ {n += $2} END {print v, n}'
            }
            perf_pid=""
            if [ "$have_perf" = yes ]; then
                # Counts for a little longer than wrk runs: the idle tail adds
                # next to nothing, a cut-off head would lose requests' calls.
                perf stat -x, -e "$perf_events" -p "$server_pid" -o "$CARGO_TARGET_DIR/counts-$mode.txt" \
                    -- sleep $((COUNT_DURATION + 1)) 2>/dev/null &
                perf_pid=$!
                sleep 0.2
            fi
            read -r run0 vol0 inv0 <<<"$(snap)"
            out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${COUNT_DURATION}s" "http://127.0.0.1:$PORT_WEFT/")
            read -r run1 vol1 inv1 <<<"$(snap)"
            calls="" epolls="" futexes="" ppolls=""
            if [ -n "$perf_pid" ]; then
                wait "$perf_pid" 2>/dev/null || true
                read -r calls epolls futexes ppolls <<<"$(perf_counts "$CARGO_TARGET_DIR/counts-$mode.txt")"
            fi
            stop_server
            reqs=$(echo "$out" | awk '/requests in/ {print $1}')
            r=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
            line=$(awk -v q="$reqs" -v run=$((run1 - run0)) -v v=$((vol1 - vol0)) -v n=$((inv1 - inv0)) \
                -v c="$calls" -v e="$epolls" -v f="$futexes" -v p="$ppolls" -v r="$r" 'BEGIN {
                    printf "%.2f %.4f %.4f", run / q / 1000, v / q, n / q
                    if (c == "") printf " - - - -"; else printf " %.4f %.4f %.4f %.4f", c / q, e / q, f / q, p / q
                    printf " %.0f\n", r }')
            cnt[$mode]="${cnt[$mode]:-}$line"$'\n'
            # shellcheck disable=SC2086 # the fields are meant to split
            printf "%-16s %7s %8s %8s %8s %8s %8s %8s %9s\n" "round $round $mode" $line
        done
    done
    echo
    header "median"
    declare -A med
    for mode in weft tokio weft-ct tokio-ct; do
        med[$mode]=$(printf "%s" "${cnt[$mode]}" | col_medians)
        # shellcheck disable=SC2086
        printf "%-16s %7s %8s %8s %8s %8s %8s %8s %9s\n" "$mode" ${med[$mode]}
    done
    for pair in "weft tokio" "weft-ct tokio-ct"; do
        read -r w t <<<"$pair"
        awk -v name="$w/$t" -v a="${med[$w]}" -v b="${med[$t]}" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            printf "%-17s cpu/req %.2f, context switches/req %.2f", name, x[1] / y[1], (x[2] + x[3]) / (y[2] + y[3])
            if (x[4] != "-") printf ", syscalls/req %.3f, futex/req %.2f", x[4] / y[4], (y[6] > 0 ? x[6] / y[6] : 1)
            printf " (medians; below 1.00: weft spends less)\n" }'
    done
    if command -v /usr/bin/time >/dev/null || [ "$have_perf" = yes ]; then
        echo
        echo "client counts: $CLIENT_CONCURRENCY concurrent keep-alive requests x $CLIENT_ROUNDS against a tokio server, $ROUNDS rounds; per request:"
        printf "%-20s %7s %9s %8s %8s %8s\n" client "cpu us" "ctx sw" syscalls epoll futex
        "$server" tokio "127.0.0.1:$PORT_CLIENT" "$WORKERS" 2>/dev/null &
        server_pid=$!
        wait_for_port "$PORT_CLIENT"
        declare -A ccnt
        for round in $(seq "$ROUNDS"); do
            for side in weft tokio; do
                requests=$((CLIENT_CONCURRENCY * (CLIENT_ROUNDS + 1)))
                cmd=("$server" "client-$side" "127.0.0.1:$PORT_CLIENT" "$WORKERS" "$CLIENT_CONCURRENCY" "$CLIENT_ROUNDS")
                if [ "$have_perf" = yes ]; then
                    perf stat -x, -e "task-clock,context-switches,$perf_events" -o "$CARGO_TARGET_DIR/counts-client-$side.txt" -- "${cmd[@]}" >/dev/null
                    line=$(awk -F, -v q="$requests" '$3 == "task-clock" {t=$1} $3 == "context-switches" {s=$1}
                        $3 == "raw_syscalls:sys_enter" {c=$1} $3 ~ /epoll_wait$/ {e=$1} $3 ~ /futex$/ {f=$1}
                        END {printf "%.2f %.4f %.4f %.4f %.4f\n", t * 1000 / q, s / q, c / q, e / q, f / q}' "$CARGO_TARGET_DIR/counts-client-$side.txt")
                else
                    line=$( { /usr/bin/time -f "TIME %U %S %w %c" "${cmd[@]}" >/dev/null; } 2>&1 | awk -v q="$requests" '/^TIME/ {
                        printf "%.2f %.4f - - -\n", ($2 + $3) * 1e6 / q, ($4 + $5) / q }')
                fi
                ccnt[$side]="${ccnt[$side]:-}$line"$'\n'
                # shellcheck disable=SC2086
                printf "%-20s %7s %9s %8s %8s %8s\n" "round $round client-$side" $line
            done
        done
        stop_server
        wm=$(printf "%s" "${ccnt[weft]}" | col_medians); tm=$(printf "%s" "${ccnt[tokio]}" | col_medians)
        # shellcheck disable=SC2086
        printf "%-20s %7s %9s %8s %8s %8s\n" "median client-weft" $wm
        # shellcheck disable=SC2086
        printf "%-20s %7s %9s %8s %8s %8s\n" "median client-tokio" $tm
        awk -v a="$wm" -v b="$tm" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            printf "client weft/tokio cpu/req %.2f, context switches/req %.2f", x[1] / y[1], x[2] / y[2]
            if (x[3] != "-") printf ", syscalls/req %.3f", x[3] / y[3]
            printf " (medians; below 1.00: weft spends less)\n" }'
    fi
fi
