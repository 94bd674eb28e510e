//! # `basics`: asyncio.run + await
//!
//! Shows: a future runs only when awaited; `#[weft::main]` is `asyncio.run`.
//!
//! Run: `cargo run --example basics` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/basics.rs`, shared with the tour. Read next:
//! `examples/gather.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod basics;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("basics", "asyncio.run + await");
    let summary = patterns::basics::run().await;
    patterns::report::end("basics", &summary, started);
}
