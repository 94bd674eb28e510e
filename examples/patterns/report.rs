//! How every pattern prints: a header naming the asyncio counterpart, the
//! pattern's own narration, and a closing line with the wall-clock time.
//!
//! Shared by each `examples/<pattern>.rs` and by `examples/tour.rs`, so a
//! pattern reads the same whether it runs alone or in the tour.

use std::time::{Duration, Instant};

/// Prints the opening line of a pattern and starts its stopwatch.
pub fn begin(name: &str, asyncio: &str) -> Instant {
    println!("== {name} (asyncio: {asyncio})");
    Instant::now()
}

/// Prints the closing line of a pattern and returns the time it took.
pub fn end(name: &str, summary: &str, started: Instant) -> Duration {
    let took = started.elapsed();
    println!("== {name}: {summary} [{}]", seconds(took));
    took
}

/// A duration as seconds with two decimals, e.g. `0.51 s`.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
