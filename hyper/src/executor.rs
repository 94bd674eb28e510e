//! Summary: [`WeftExecutor`], hyper's `Executor` over `weft::spawn`.
//!
//! Role: hyper-util's pooled client spawns each connection's background
//! task through it (and an HTTP/2 server its streams).
//!
//! Design: a unit struct that spawns on the runtime current at the time of
//! the call (hyper calls it from inside a request, that is from a weft
//! task). Rejected: capturing a `Handle` at construction, which would make
//! `new()` fail outside a runtime and tie a client built once to a runtime
//! that may have been replaced.
//!
//! Invariants: none.
//!
//! Concurrency: stateless; `Send + Sync + Copy`.

use std::future::Future;

/// hyper's `rt::Executor`: spawns each future as a weft task on the
/// current runtime and detaches it.
///
/// # Panics
///
/// `execute` panics outside a weft runtime (as `weft::spawn` does).
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftExecutor {
    _private: (),
}

impl WeftExecutor {
    /// An executor for the current weft runtime.
    pub fn new() -> WeftExecutor {
        WeftExecutor { _private: () }
    }
}

impl<F> hyper::rt::Executor<F> for WeftExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        // Detached: hyper owns the task's lifetime through the connection.
        drop(weft_runtime::spawn(future));
    }
}
