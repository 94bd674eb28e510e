//! Summary: `Handle`, a cheap, clonable reference to a running runtime:
//! spawn onto it, run blocking closures on its pool, block on it, dump it.
//!
//! Role: returned by `Runtime::handle` and `Handle::current`; the free
//! functions `spawn`/`spawn_blocking` go through `Handle::current`.
//!
//! Design: a `Handle` is an `Arc` of the scheduler's shared state, so it
//! may outlive the `Runtime`; after shutdown, spawned tasks are cancelled
//! at once (their JoinHandles report `is_cancelled()`).
//!
//! Invariants: none of its own (see `scheduler`).
//!
//! Concurrency: `Send + Sync`; every method may be called from any thread.

use crate::context::{self, EnterGuard};
use crate::debug::TaskDump;
use crate::metrics::RuntimeMetrics;
use crate::scheduler::{current, Shared};
use crate::task::task_local::{self, Captured};
use crate::task::{JoinHandle, Scope, SpawnMeta};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// A reference to a runtime, usable from any thread.
///
/// ```
/// let rt = weft_runtime::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// let answer = std::thread::spawn(move || handle.block_on(async { 42 })).join().unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// The runtime this thread is running on (a worker, a blocking-pool
    /// thread, or inside `block_on`).
    ///
    /// # Panics
    ///
    /// Panics outside a runtime; use [`Handle::try_current`] where there may be none.
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().expect(
            "there is no weft runtime on this thread: call this inside Runtime::block_on, weft::run \
             or a task spawned on a runtime, or pass a Handle to the thread",
        )
    }

    /// The runtime this thread is running on, or `None`.
    ///
    /// ```
    /// assert!(weft_runtime::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::current()
    }

    /// Spawns `future` as a new task on this runtime.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 1 + 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // Context variables in scope are copied into the child (asyncio's
        // create_task); with none, the future is spawned as it is.
        match task_local::capture() {
            None => self.shared.spawn(future),
            Some(context) => self.spawn_in_context(context, future),
        }
    }

    /// `spawn` with context variables in scope, kept out of line so the
    /// common path stays as small as it was before they existed.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn spawn_in_context<F>(&self, context: Captured, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(Scope::inherit(context, future))
    }

    /// `spawn` with a name or other options (`task::Builder`), copying the
    /// context variables in scope as `spawn` does.
    pub(crate) fn spawn_with<F>(&self, future: F, meta: SpawnMeta<'_>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match task_local::capture() {
            None => self.shared.spawn_with(future, meta),
            Some(context) => self
                .shared
                .spawn_with(Scope::inherit(context, future), meta),
        }
    }

    /// Runs `f` on the blocking pool; the handle yields its result.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// let task = rt.handle().spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(task).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.count_spawn();
        match task_local::capture() {
            None => self.shared.blocking().spawn(self, f),
            Some(context) => self
                .shared
                .blocking()
                .spawn(self, move || task_local::enter_captured(context, f)),
        }
    }

    /// Runs `future` to completion on this thread, with this runtime current.
    ///
    /// # Panics
    ///
    /// Panics if this thread is a worker of a runtime or is already inside
    /// `block_on` (nested runtimes would deadlock); panics with the task's
    /// message if a task panicked under `UnhandledPanic::ShutdownRuntime`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _driving = context::enter_driving();
        let _enter = self.enter();
        // The caller's context variables belong to `future` alone: the tasks
        // this thread may run meanwhile have their own.
        let (context, _restore) = task_local::take_current();
        match context {
            None => current::block_on(&self.shared, future),
            Some(context) => current::block_on(&self.shared, Scope::inherit(context, future)),
        }
    }

    /// Makes this runtime current on this thread until the guard drops, so
    /// `spawn` and `Handle::current` work outside `block_on`.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// let _guard = rt.handle().enter();
    /// let task = weft_runtime::spawn(async { 5 });
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        context::enter(self)
    }

    /// The live tasks of this runtime, for debugging.
    pub fn dump(&self) -> TaskDump {
        self.shared.dump()
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.shared.metrics()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.shared.flavor())
            .finish_non_exhaustive()
    }
}
