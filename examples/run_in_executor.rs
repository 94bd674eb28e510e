//! # `run_in_executor`: loop.run_in_executor, asyncio.to_thread
//!
//! Shows: blocking work on `spawn_blocking` while the async side keeps ticking.
//!
//! Run: `cargo run --example run_in_executor` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/run_in_executor.rs`, shared with the tour. Read next:
//! `examples/batch.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod report;
    pub mod run_in_executor;
}

#[weft::main]
async fn main() {
    let started =
        patterns::report::begin("run_in_executor", "loop.run_in_executor, asyncio.to_thread");
    let summary = patterns::run_in_executor::run().await;
    patterns::report::end("run_in_executor", &summary, started);
}
