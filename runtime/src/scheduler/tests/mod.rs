//! Loom models of the scheduler's idle protocol (`RUSTFLAGS="--cfg loom"`).

mod loom_idle;
