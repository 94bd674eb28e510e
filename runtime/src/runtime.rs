//! Summary: `Runtime`, the owned runtime value: its handle plus the duty
//! to shut everything down when dropped.
//!
//! Role: built by `Builder`; `weft::run` builds one, blocks on a future
//! and drops it.
//!
//! Design: shutdown is explicit steps in one place, so their order is
//! visible: (1) tell workers to stop and wake them, (2) wait for them to
//! exit, (3) cancel every task left in the owned list, dropping its future
//! on this thread, (4) release every queued reference and drop the timer
//! and I/O drivers (sockets and timers still held outside learn that their
//! runtime is gone), (5) stop the blocking pool. Futures are dropped after the workers stopped, so no
//! worker can be polling a task whose future is being dropped.
//!
//! Invariants: SCHED-3 (`scheduler`); after `drop` returns, every
//! unfinished task's future has been dropped, except one still being
//! polled by a worker that `shutdown_timeout` gave up waiting for.
//!
//! Concurrency: `Runtime` is `Send + Sync`; shutdown runs on the dropping thread.

use crate::handle::Handle;
use crate::metrics::RuntimeMetrics;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// An async runtime: worker threads (or the `block_on` thread), a blocking
/// pool, and the tasks spawned on them.
///
/// Dropping it shuts it down: the workers stop at their next task, and
/// every task that has not finished has its future dropped, exactly once,
/// before `drop` returns (a `JoinHandle` still held then reports a
/// cancelled `JoinError`). Use [`Runtime::shutdown_timeout`] to bound the
/// wait for threads that are blocked.
///
/// ```
/// let rt = weft_runtime::Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let tasks: Vec<_> = (0..10u64).map(|i| weft_runtime::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    handle: Handle,
    /// Joined at shutdown once they have exited, so that nothing of a
    /// worker thread (its captured `Handle` included) outlives `drop`.
    worker_threads: Vec<std::thread::JoinHandle<()>>,
    is_shut_down: bool,
}

impl Runtime {
    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime {
            handle,
            worker_threads: Vec::new(),
            is_shut_down: false,
        }
    }

    pub(crate) fn add_worker_thread(&mut self, thread: std::thread::JoinHandle<()>) {
        self.worker_threads.push(thread);
    }

    /// Runs `future` to completion on this thread; see [`Handle::block_on`].
    ///
    /// # Panics
    ///
    /// As [`Handle::block_on`]: inside a worker thread or another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns `future` on this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A handle to this runtime, usable from any thread.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `timeout` for worker threads and
    /// blocking closures to finish; threads still busy after it are left
    /// to finish on their own.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(200)));
    /// rt.shutdown_timeout(std::time::Duration::from_millis(10));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.is_shut_down, true) {
            return;
        }
        let shared = &self.handle.shared;
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        shared.begin_shutdown();
        if shared.lifecycle().wait_workers_exited(timeout) {
            // They have all left `run`; joining only waits for thread teardown.
            // A worker panic was already contained or reported.
            for thread in self.worker_threads.drain(..) {
                let _ = thread.join();
            }
        }
        shared.shutdown_tasks();
        let remaining = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        self.handle.blocking.shutdown(remaining);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::Builder;
    use std::sync::Arc;

    /// After the runtime and every handle are dropped, its shared state is
    /// freed: no queued task keeps it alive in a cycle (SCHED-2), on either
    /// flavour, with tasks left in the LIFO slot, the local deques and the
    /// injector.
    #[test]
    fn dropping_the_runtime_frees_its_shared_state() {
        for mut builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
            let rt = builder.worker_threads(2).build().unwrap();
            let weak = Arc::downgrade(&rt.handle().shared);
            let handles: Vec<_> = (0..1_000)
                .map(|_| rt.spawn(std::future::pending::<()>()))
                .collect();
            rt.block_on(async {
                // Spawned from inside: these land in the LIFO slot and deque.
                for _ in 0..1_000 {
                    drop(crate::spawn(async { crate::yield_now().await }));
                }
                crate::yield_now().await;
            });
            drop(rt);
            drop(handles);
            assert!(
                weak.upgrade().is_none(),
                "the runtime's shared state leaked"
            );
        }
    }
}
