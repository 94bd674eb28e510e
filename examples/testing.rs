//! # `testing`: pytest-asyncio + virtual time
//!
//! Shows: the paused clock: an hour of sleeping in a millisecond; then
//! schedule exploration: a lock-order deadlock found by `weft::explore`
//! under one seed, replayed from that seed, and the fix passing every seed.
//!
//! Run: `cargo run --example testing` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/testing.rs`, shared with the tour. Read next:
//! `tests/patterns_testing.rs` (the same clock in a `#[weft::test]`),
//! `tests/explore/` (a catalogue of concurrency bugs that exploration
//! finds), then `docs/asyncio.md` and `docs/guide/09-exploring.md`.

mod patterns {
    pub mod report;
    pub mod testing;
}

fn main() {
    let started = patterns::report::begin("testing", "pytest-asyncio + virtual time");
    let summary = patterns::testing::run();
    patterns::report::end("testing", &summary, started);
}
