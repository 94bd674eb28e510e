//! Loom models of the crate's private structures (public-API models live in
//! `tests/loom.rs`).

mod loom_waitlist;
