//! # `timeout`: asyncio.wait_for, timeout, shield
//!
//! Shows: `weft::time::timeout` cancels a slow call; `race` picks the fastest of two.
//!
//! Run: `cargo run --example timeout` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/timeout.rs`, shared with the tour. Read next:
//! `examples/context_manager.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod report;
    pub mod timeout;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("timeout", "asyncio.wait_for, timeout, shield");
    let summary = patterns::timeout::run().await;
    patterns::report::end("timeout", &summary, started);
}
