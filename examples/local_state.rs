//! # `local_state`: one thread's shared state, and contextvars
//!
//! Shows: local (`!Send`) tasks sharing an `Rc<RefCell<..>>` on
//! `#[weft::main(flavor = "local")]`, and a `task_local!` request id that
//! the tasks a handler starts inherit.
//!
//! Run: `cargo run --example local_state` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/local_state.rs`, shared with the tour. Read next:
//! `runtime/src/local.rs` (how local tasks stay on their thread) and
//! `runtime/src/task/task_local.rs` (how a spawn copies the context).

mod patterns {
    pub mod local_state;
    pub mod report;
}

#[weft::main(flavor = "local")]
async fn main() {
    let started = patterns::report::begin("local_state", "contextvars, one-thread event loop");
    let summary = patterns::local_state::run().await;
    patterns::report::end("local_state", &summary, started);
}
