//! # `create_task`: asyncio.create_task, as_completed
//!
//! Shows: background tasks with `weft::spawn`, and a `TaskGroup` joined in completion order.
//!
//! Run: `cargo run --example create_task` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/create_task.rs`, shared with the tour. Read next:
//! `examples/cancel.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod create_task;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("create_task", "asyncio.create_task, as_completed");
    let summary = patterns::create_task::run().await;
    patterns::report::end("create_task", &summary, started);
}
