//! What several of weft-runtime's integration tests share (each test file
//! is its own crate and includes this with `mod common;`).

use weft_runtime::{Builder, Runtime};

/// One runtime of each flavour: a multi-thread one with two workers and a
/// current-thread one, so a test runs its scenario on both.
pub fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ]
}
