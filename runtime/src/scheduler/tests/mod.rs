//! Loom models of the scheduler's sleep protocol, the drivers hand-over and
//! the LIFO slot (`RUSTFLAGS="--cfg loom"`).

mod loom_busy_worker;
mod loom_sleepers;
