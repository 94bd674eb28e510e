//! # `event`: asyncio.Event
//!
//! Shows: three waiters released together by one `set()`.
//!
//! Run: `cargo run --example event` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/event.rs`, shared with the tour. Read next:
//! `examples/condition.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod event;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("event", "asyncio.Event");
    let summary = patterns::event::run().await;
    patterns::report::end("event", &summary, started);
}
