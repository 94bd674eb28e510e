//! Every pattern example runs to completion: exit status 0 and its closing
//! line on stdout. The tour runs them all within its time budget and prints
//! the summary table. The server examples (echo, HTTP, TLS, WebSocket)
//! each start their own server on loopback, drive it with well-behaved
//! clients and with clients that reset mid-stream, and must report every
//! reset as one failed connection and still finish.
//!
//! The examples are separate binaries in `target/<profile>/examples/`; the
//! first test to need one runs `cargo build --examples` (a no-op when they
//! are up to date), so `cargo test --test examples` alone works too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The tour's promise in the README: every pattern in under this long.
const TOUR_BUDGET: Duration = Duration::from_secs(15);

/// `target/<profile>`, found from this test binary's own path
/// (`target/<profile>/deps/examples-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of example `name`. The examples are (re)built once per test run,
/// so a stale binary is never tested; when they are up to date this is a
/// no-op for cargo.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile = profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--examples", "--quiet"]);
        if profile.ends_with("release") {
            cargo.arg("--release");
        }
        let target = profile.parent().expect("target/<profile> has a parent");
        let status = cargo
            .env("CARGO_TARGET_DIR", target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the examples failed: {status}");
    });
    profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs example `name`; returns its stdout and wall time, failing the test
/// with its output if it did not exit 0.
fn run(name: &str) -> (String, Duration) {
    // Built (if needed) before the stopwatch starts: the time is the run's.
    let binary = example(name);
    let started = Instant::now();
    let output = Command::new(binary)
        .output()
        .unwrap_or_else(|err| panic!("cannot start example {name}: {err}"));
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} exited with {}\n--- stdout\n{stdout}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout, took)
}

/// Runs example `name` and checks its closing line and the given phrases.
fn check(name: &str, phrases: &[&str]) {
    let (stdout, _) = run(name);
    let closing = format!("== {name}: ");
    assert!(
        stdout.contains(&closing),
        "example {name} did not finish its pattern:\n{stdout}"
    );
    for phrase in phrases {
        assert!(
            stdout.contains(phrase),
            "example {name} should print {phrase:?}:\n{stdout}"
        );
    }
}

macro_rules! example_tests {
    ($($test:ident: $name:literal => [$($phrase:literal),*];)*) => {
        $(
            #[doc = concat!("`cargo run --example ", $name, "` exits 0 and shows its pattern.")]
            #[test]
            fn $test() {
                check($name, &[$($phrase),*]);
            }
        )*
    };
}

example_tests! {
    basics_runs_only_the_awaited_future: "basics" => ["the unawaited future never ran"];
    gather_overlaps_ten_fetches: "gather" => ["gathered 10 users in input order", "instead of 5.0 s"];
    create_task_joins_the_group_in_completion_order: "create_task" => ["fast, medium, slow"];
    cancel_runs_the_cleanup_guard: "cancel" => ["cleanup guard: releasing", "cancelled = true"];
    errors_reports_partial_failures: "errors" => ["success: 7, failed: 3", "try_gather stopped", "JoinError::is_panic", "neighbour task still finished: true"];
    timeout_cuts_the_slow_call: "timeout" => ["timed out after", "mirror answered first"];
    context_manager_releases_every_connection: "context_manager" => ["async close", "0 left open"];
    async_iter_streams_pages_lazily: "async_iter" => ["processing page 5", "[2, 4]"];
    producer_consumer_processes_every_item: "producer_consumer" => ["10 items processed"];
    rate_limit_caps_concurrency_at_five: "rate_limit" => ["peak 5 in flight"];
    lock_keeps_every_increment: "lock" => ["50/50 increments kept"];
    event_releases_every_waiter: "event" => ["waiter 0 released", "waiter 2 released"];
    condition_passes_items_in_order: "condition" => ["received [0, 1, 2"];
    connection_pool_reuses_connections_within_limits: "connection_pool" => ["20/20 responses", "keep-alive TCP connection(s) served 10 requests"];
    run_in_executor_keeps_the_async_side_responsive: "run_in_executor" => ["returned [2, 4, 6, 8]"];
    batch_processes_chunks_of_ten: "batch" => ["35 items in 4 batches"];
    testing_jumps_the_paused_clock: "testing" => ["virtual time passed: 3605 s", "explore: seed", "replayed seed", "all 200 seeds pass"];
    graceful_shutdown_says_goodbye_to_every_client: "graceful_shutdown" => ["8 of 8 polite clients read their goodbye line", "1 connection failed (reset by its client), the server kept serving", "1 aborted after the grace", "the server returned"];
    local_state_shares_an_rc_and_inherits_the_request_id: "local_state" => ["2 hits", "audit ids [1, 2, 3, 4]", "[request 2] home: hit"];
}

/// Runs example `name` (one that is not a pattern: no closing line) and
/// checks the given phrases.
fn check_output(name: &str, phrases: &[&str]) {
    let (stdout, _) = run(name);
    for phrase in phrases {
        assert!(
            stdout.contains(phrase),
            "example {name} should print {phrase:?}:\n{stdout}"
        );
    }
}

/// The echo server serves its 20 demo clients while 5 more reset their
/// connection mid-stream (SO_LINGER 0): each reset is one failed
/// connection, counted, and the server goes on to its summary.
#[test]
fn echo_server_survives_clients_that_reset() {
    check_output(
        "echo_server",
        &[
            "served 25 connections, echoed 1310720 bytes",
            "5 connections failed (reset by their client), the server kept serving",
        ],
    );
}

/// hyper on weft: keep-alive clients get every response while 4 clients
/// reset mid-request; the graceful shutdown then lets the server finish.
#[test]
fn http_server_serves_keep_alive_clients_and_survives_resets() {
    check_output(
        "http_server",
        &[
            "8 clients got 40 responses",
            "served 40 requests on",
            "4 connections failed (reset by their client), the server kept serving",
        ],
    );
}

/// hyper-util's pooled client over `HttpConnector` reuses keep-alive
/// connections and reports a refused connect as an error.
#[test]
fn http_client_reuses_pooled_connections() {
    check_output(
        "http_client",
        &[
            "100 requests (1590 body bytes)",
            "keep-alive TCP connections",
            "a closed port answers: client error (Connect): Connection refused",
        ],
    );
}

/// tokio-rustls over weft's sockets (the `tokio-io` traits), on a
/// certificate made at start; 3 clients reset after their first echo.
#[test]
fn tls_echo_serves_clients_and_survives_resets() {
    check_output(
        "tls_echo",
        &[
            "13 TLS connections, 900 bytes echoed",
            "3 connections failed (reset by their client), the server kept serving",
        ],
    );
}

/// async-tungstenite over weft's futures-io sockets; 3 clients reset after
/// their first echo.
#[test]
fn websocket_echo_serves_clients_and_survives_resets() {
    check_output(
        "websocket_echo",
        &[
            "13 WebSocket connections, 53 messages echoed",
            "3 connections failed (reset by their client), the server kept serving",
        ],
    );
}

/// The tour runs all nineteen patterns within its budget and ends with the
/// summary table.
#[test]
fn tour_runs_every_pattern_within_budget_and_prints_the_table() {
    let (stdout, took) = run("tour");
    assert!(
        took < TOUR_BUDGET,
        "the tour took {took:?}, over its {TOUR_BUDGET:?} budget"
    );
    assert!(
        stdout.contains("19 patterns in"),
        "missing the table footer:\n{stdout}"
    );
    let table_rows = stdout
        .lines()
        .skip_while(|line| !line.starts_with("pattern "))
        .filter(|line| line.ends_with(" s") && !line.contains(" patterns in "))
        .count();
    assert_eq!(table_rows, 19, "one table row per pattern:\n{stdout}");
}
