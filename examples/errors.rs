//! # `errors`: gather(return_exceptions=True)
//!
//! Shows: partial failures with `gather` of `Result`s, fail-fast with `try_gather`.
//!
//! Run: `cargo run --example errors` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/errors.rs`, shared with the tour. Read next:
//! `examples/timeout.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod errors;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin("errors", "gather(return_exceptions=True)");
    let summary = patterns::errors::run().await;
    patterns::report::end("errors", &summary, started);
}
