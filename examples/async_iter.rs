//! # `async_iter`: async for / async generators
//!
//! Shows: a paginated `Stream` fetched page by page, and `StreamExt` adapters.
//!
//! Run: `cargo run --example async_iter` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/async_iter.rs`, shared with the tour. Read next:
//! `examples/producer_consumer.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod async_iter;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("async_iter", "async for / async generators");
    let summary = patterns::async_iter::run().await;
    patterns::report::end("async_iter", &summary, started);
}
