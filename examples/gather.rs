//! # `gather`: asyncio.gather
//!
//! Shows: ten 0.5 s fetches gathered take about 0.5 s instead of 5 s; `join!` for mixed types.
//!
//! Run: `cargo run --example gather` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/gather.rs`, shared with the tour. Read next:
//! `examples/create_task.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod gather;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("gather", "asyncio.gather");
    let summary = patterns::gather::run().await;
    patterns::report::end("gather", &summary, started);
}
