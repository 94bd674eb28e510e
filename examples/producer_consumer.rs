//! # `producer_consumer`: asyncio.Queue, task_done, join
//!
//! Shows: two producers and three consumers around a bounded `Queue`, `join()` then `shutdown()`.
//!
//! Run: `cargo run --example producer_consumer` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/producer_consumer.rs`, shared with the tour. Read next:
//! `examples/rate_limit.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod producer_consumer;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("producer_consumer", "asyncio.Queue, task_done, join");
    let summary = patterns::producer_consumer::run().await;
    patterns::report::end("producer_consumer", &summary, started);
}
