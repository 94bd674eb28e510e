//! # `cancel`: Task.cancel + CancelledError
//!
//! Shows: aborting a task drops its future, and a `Drop` guard does the cleanup.
//!
//! Run: `cargo run --example cancel` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/cancel.rs`, shared with the tour. Read next:
//! `examples/errors.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod cancel;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("cancel", "Task.cancel + CancelledError");
    let summary = patterns::cancel::run().await;
    patterns::report::end("cancel", &summary, started);
}
