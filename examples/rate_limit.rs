//! # `rate_limit`: asyncio.Semaphore
//!
//! Shows: fifteen calls, never more than five in flight.
//!
//! Run: `cargo run --example rate_limit` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/rate_limit.rs`, shared with the tour. Read next:
//! `examples/lock.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod rate_limit;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("rate_limit", "asyncio.Semaphore");
    let summary = patterns::rate_limit::run().await;
    patterns::report::end("rate_limit", &summary, started);
}
