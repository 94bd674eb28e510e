//! # `batch`: gather in chunks
//!
//! Shows: 35 items processed in concurrent chunks of ten.
//!
//! Run: `cargo run --example batch` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/batch.rs`, shared with the tour. Read next:
//! `examples/testing.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod batch;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("batch", "gather in chunks");
    let summary = patterns::batch::run().await;
    patterns::report::end("batch", &summary, started);
}
