//! # `context_manager`: async with
//!
//! Shows: a closure-scoped helper closes a resource asynchronously; `Drop` releases it on cancellation.
//!
//! Run: `cargo run --example context_manager` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/context_manager.rs`, shared with the tour. Read next:
//! `examples/async_iter.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod context_manager;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("context_manager", "async with");
    let summary = patterns::context_manager::run().await;
    patterns::report::end("context_manager", &summary, started);
}
