//! weft: a small, fast async runtime that gives Rust the patterns of
//! Python's asyncio. This facade re-exports the member crates under the
//! paths of the public API; see the README for the tour.
