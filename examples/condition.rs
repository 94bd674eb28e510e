//! # `condition`: asyncio.Condition
//!
//! Shows: a bounded buffer with `wait_for` on two conditions.
//!
//! Run: `cargo run --example condition` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/condition.rs`, shared with the tour. Read next:
//! `examples/connection_pool.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod condition;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("condition", "asyncio.Condition");
    let summary = patterns::condition::run().await;
    patterns::report::end("condition", &summary, started);
}
