//! # `lock`: asyncio.Lock
//!
//! Shows: a read-modify-write across an `.await` loses updates without `Lock` and none with it.
//!
//! Run: `cargo run --example lock` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/lock.rs`, shared with the tour. Read next:
//! `examples/event.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod lock;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("lock", "asyncio.Lock");
    let summary = patterns::lock::run().await;
    patterns::report::end("lock", &summary, started);
}
