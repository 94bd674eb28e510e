//! Loom models of the scheduler's idle protocol, the drivers hand-over and
//! the LIFO slot (`RUSTFLAGS="--cfg loom"`).

mod loom_busy_worker;
mod loom_idle;
