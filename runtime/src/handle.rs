//! Summary: `Handle`, a cheap, clonable reference to a running runtime:
//! spawn onto it, run blocking closures on its pool, block on it, dump it.
//!
//! Role: returned by `Runtime::handle` and `Handle::current`; the free
//! functions `spawn`/`spawn_blocking` go through `Handle::current`. The
//! methods that read or set this thread's current runtime (`current`,
//! `try_current`, `enter`, `block_on`) live in `context.rs`, the crate's one
//! thread-local layer, so this file depends on no thread-local state.
//!
//! Design: a `Handle` is an `Arc` of the scheduler's shared state and a
//! clone of the blocking pool, two siblings the runtime owns side by side
//! (the scheduler knows no pool); it may outlive the `Runtime`; after
//! shutdown, spawned tasks are cancelled at once (their JoinHandles report
//! `is_cancelled()`). The free `spawn` clones only the scheduler's `Arc`
//! out of the thread-local (`context::current_scheduler`, then
//! [`spawn_on`]), so the pool beside it costs a spawn nothing.
//!
//! Invariants: none of its own (see `scheduler`).
//!
//! Concurrency: `Send + Sync`; every method may be called from any thread.

use crate::blocking::{BlockingPool, WeakBlockingPool};
use crate::debug::TaskDump;
use crate::metrics::RuntimeMetrics;
use crate::scheduler::Shared;
use crate::task::task_local::{self, Captured};
use crate::task::{JoinHandle, Scope, SpawnMeta};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Weak};

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
    /// The runtime's blocking pool, beside the scheduler (not part of it).
    pub(crate) blocking: BlockingPool,
}

/// A `Handle` that does not keep the runtime alive (the builder's hooks
/// hold one: the drivers and the pool are the runtime's, so a strong
/// reference from their hooks would keep it alive in a cycle).
pub(crate) struct WeakHandle {
    shared: Weak<Shared>,
    blocking: WeakBlockingPool,
}

impl WeakHandle {
    /// The handle, if the runtime is still alive.
    pub(crate) fn upgrade(&self) -> Option<Handle> {
        Some(Handle {
            shared: self.shared.upgrade()?,
            blocking: self.blocking.upgrade()?,
        })
    }
}

/// `Handle::spawn` on the scheduler `shared` (also the free `spawn`'s
/// path, which holds only the scheduler).
#[inline]
#[track_caller]
pub(crate) fn spawn_on<F>(shared: &Arc<Shared>, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Context variables in scope are copied into the child (asyncio's
    // create_task); with none, the future is spawned as it is.
    match task_local::capture() {
        None => shared.spawn(future),
        Some(context) => spawn_in_context(shared, context, future),
    }
}

/// `spawn_on` with context variables in scope, kept out of line so the
/// common path stays as small as it was before they existed.
#[cold]
#[inline(never)]
#[track_caller]
fn spawn_in_context<F>(shared: &Arc<Shared>, context: Captured, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    shared.spawn(Scope::inherit(context, future))
}

impl Handle {
    /// Spawns `future` as a new task on this runtime.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new().unwrap();
    /// let task = rt.handle().spawn(async { 1 + 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 2);
    /// ```
    #[inline]
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, future)
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
            None => self.blocking.spawn(f),
            Some(context) => self
                .blocking
                .spawn(move || task_local::enter_captured(context, f)),
        }
    }

    /// The live tasks of this runtime, for debugging.
    pub fn dump(&self) -> TaskDump {
        self.shared.dump()
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.shared.metrics(self.blocking.num_alive())
    }

    /// A reference that does not keep the runtime alive.
    pub(crate) fn downgrade(&self) -> WeakHandle {
        WeakHandle {
            shared: Arc::downgrade(&self.shared),
            blocking: self.blocking.downgrade(),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.shared.flavor())
            .finish_non_exhaustive()
    }
}
