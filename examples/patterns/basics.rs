//! basics: a future runs only when awaited, and `weft::run` / `#[weft::main]`
//! is the event loop (asyncio.run).
//!
//! In Python, `fetch_data(url)` without `await` builds a coroutine that never
//! runs (and warns). In Rust it is the same, minus the warning at run time:
//! the compiler flags an unused future (`#[must_use]`), and a future that is
//! dropped unawaited simply never starts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft::time::sleep;

/// Simulated network latency of one call.
const CALL_LATENCY: Duration = Duration::from_millis(100);

/// Counts calls that actually ran, to show that an unawaited future does not.
static CALLS_STARTED: AtomicUsize = AtomicUsize::new(0);

/// An async function: calling it builds a future; awaiting it runs the body.
async fn fetch_data(url: &str) -> String {
    CALLS_STARTED.fetch_add(1, Ordering::SeqCst);
    sleep(CALL_LATENCY).await; // simulated I/O: this task yields, others run
    format!("result of {url}")
}

/// Awaits one call, and shows that a future never awaited never runs.
pub async fn run() -> String {
    let result = fetch_data("https://api.example.com").await;
    println!("  awaited fetch_data: {result:?}");

    let never_awaited = fetch_data("https://api.example.com/never");
    drop(never_awaited); // like a coroutine object that is never awaited
    let started = CALLS_STARTED.load(Ordering::SeqCst);
    println!("  built a second future and dropped it unawaited: calls that ran = {started}");
    assert_eq!(started, 1, "an unawaited future must not run");
    "awaited 1 call; the unawaited future never ran".to_string()
}
