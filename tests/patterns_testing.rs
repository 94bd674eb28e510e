//! The `testing` pattern as real tests: `#[weft::test]` runs an async test
//! on a current-thread runtime, and `start_paused = true` makes timers
//! virtual, so long waits finish at once and deterministically.
//! `#[weft::main]` is checked here too, on a helper with a return type.

use std::time::{Duration, Instant as WallClock};
use weft::time::{sleep, timeout, Instant};

/// Real time a paused-clock test may take; far below the virtual times used.
const REAL_TIME_LIMIT: Duration = Duration::from_secs(5);

/// An hour of sleeping passes in virtual time only.
#[weft::test(start_paused = true)]
async fn an_hour_long_sleep_finishes_at_once_on_the_paused_clock() {
    let wall = WallClock::now();
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert!(start.elapsed() >= Duration::from_secs(3600));
    assert!(
        wall.elapsed() < REAL_TIME_LIMIT,
        "took {:?} of real time",
        wall.elapsed()
    );
}

/// `wait_for` semantics on virtual time: the 5 s limit fires before the
/// 10 s operation, exactly at 5 s of virtual time.
#[weft::test(start_paused = true)]
async fn timeout_fires_at_its_deadline_in_virtual_time() {
    let start = Instant::now();
    let result = timeout(Duration::from_secs(5), sleep(Duration::from_secs(10))).await;
    assert!(result.is_err(), "the 10 s sleep must time out");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(10),
        "waited {waited:?}"
    );
}

/// A plain `#[weft::test]` can spawn tasks and gather them.
#[weft::test]
async fn weft_test_runs_spawned_tasks() {
    let handles = (1..=3u32).map(|n| weft::spawn(async move { n * n }));
    let squares: Vec<u32> = weft::gather(handles)
        .await
        .into_iter()
        .map(|result| result.expect("no task panics"))
        .collect();
    assert_eq!(squares, vec![1, 4, 9]);
}

/// What `#[weft::main]` expands a fallible entry point into, used as a
/// helper: `?` converts errors into the declared return type.
#[weft::main(flavor = "current_thread")]
async fn parse_on_a_runtime() -> Result<u32, std::num::ParseIntError> {
    let parsed: u32 = "41".parse()?;
    sleep(Duration::from_millis(1)).await;
    Ok(parsed + 1)
}

/// A `#[weft::main]` function with a `Result` return type returns it.
#[test]
fn weft_main_returns_the_body_result() {
    assert_eq!(parse_on_a_runtime(), Ok(42));
}

/// `worker_threads` configures a multi-thread runtime that runs the body.
#[weft::main(worker_threads = 2)]
async fn on_two_workers() -> usize {
    let handles = (0..8).map(|i| weft::spawn(async move { i }));
    weft::gather(handles)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

/// The multi-thread flavour of `#[weft::main]` runs spawned tasks.
#[test]
fn weft_main_with_worker_threads_runs_tasks() {
    assert_eq!(on_two_workers(), 8);
}
