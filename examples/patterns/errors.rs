//! errors: partial failures with `gather` of `Result`s
//! (asyncio.gather(..., return_exceptions=True)), and fail-fast with
//! `try_gather` (plain asyncio.gather, which raises the first exception).
//!
//! Errors are values: a failing future returns `Err`, and `gather` hands
//! back every `Result` in input order, so the caller sorts successes from
//! failures. `try_gather` stops at the first `Err` and drops the futures
//! still running.
//!
//! A task that panics is the Rust cousin of an uncaught exception in an
//! asyncio Task: weft catches the panic, the worker thread and every other
//! task keep running, and awaiting the task's `JoinHandle` gives a
//! `JoinError` whose `is_panic()` is true.

use std::fmt;
use std::time::Duration;
use weft::time::sleep;

/// Simulated latency of one operation.
const OPERATION_LATENCY: Duration = Duration::from_millis(100);

/// Why an item failed.
#[derive(Debug)]
struct ItemError {
    id: u32,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {} failed", self.id)
    }
}

impl std::error::Error for ItemError {}

async fn operation(id: u32) -> Result<u32, ItemError> {
    sleep(OPERATION_LATENCY).await;
    if id % 3 == 0 {
        Err(ItemError { id })
    } else {
        Ok(id * 100)
    }
}

/// Gathers ten operations of which three fail, then the fail-fast form.
pub async fn run() -> String {
    let results = weft::gather((1..=10).map(operation)).await;
    let (successes, failures): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    for failure in &failures {
        if let Err(err) = failure {
            println!("  error: {err}");
        }
    }
    println!("  success: {}, failed: {}", successes.len(), failures.len());

    let fail_fast = weft::try_gather((1..=10).map(operation)).await;
    match &fail_fast {
        Ok(values) => println!("  try_gather: all {} succeeded", values.len()),
        Err(err) => {
            println!("  try_gather stopped at the first error: {err}; the rest were dropped")
        }
    }
    assert!(fail_fast.is_err(), "three of the operations fail");

    // A panicking task: the panic is caught and becomes a JoinError.
    let crashing = weft::spawn(async {
        sleep(OPERATION_LATENCY).await;
        panic!("the parser hit malformed input");
    });
    let neighbour = weft::spawn(async { operation(1).await });
    let crashed = crashing.await.expect_err("the task panicked");
    assert!(crashed.is_panic());
    let message = crashed
        .into_panic()
        .downcast::<&str>()
        .map(|text| *text)
        .unwrap_or("(not a string)");
    println!("  a panicking task became JoinError::is_panic: {message:?}");
    let survived = neighbour
        .await
        .expect("the neighbour did not panic")
        .is_ok();
    println!("  its neighbour task still finished: {survived}");
    format!(
        "{} succeeded, {} failed; try_gather failed fast; a panic was caught",
        successes.len(),
        failures.len()
    )
}
