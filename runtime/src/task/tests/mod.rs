//! Loom models of the task state machine (`RUSTFLAGS="--cfg loom"`).

mod loom_task;
