//! Summary: local (`!Send`) tasks, asyncio's single-threaded model:
//! [`LocalRuntime`], [`spawn_local`] and [`run_local`](crate::run_local).
//! A local task may hold `Rc`, `RefCell` borrows and other `!Send` values
//! across `.await`, because it never leaves the thread that owns its
//! runtime.
//!
//! Role: `Builder::build_local` makes a `LocalRuntime`; `spawn_local`
//! (here and as a method) creates local tasks through
//! `Shared::spawn_local`; `run_local` and `#[weft::main(flavor = "local")]`
//! are the entry points.
//!
//! Design: a `LocalRuntime` *is* a current-thread runtime whose one core
//! may only be driven by the thread that built it (LIFE-3,
//! `scheduler/lifecycle.rs`), wrapped in a `!Send` type so the runtime,
//! its `block_on` and its shutdown stay on that thread. Local tasks are
//! ordinary tasks (same block, state word, owned list, queues, budget,
//! slow-poll report, dump, abort and shutdown paths) whose future need not
//! be `Send`; INV-10 (`task/raw.rs`) says why that is sound: only the owner
//! thread polls or drops them, and a waker fired on another thread only
//! sets the state word and pushes the task pointer onto the runtime's
//! thread-safe injector, which only the owner drains. Send tasks spawned
//! through the `Handle` from anywhere run on the same core, interleaved.
//!
//! Alternatives rejected: tokio's first design, a `LocalSet` with its own
//! queues polled inside another runtime's task (a second scheduler to keep
//! in step: wakes, budget, shutdown and dumps written twice); a separate
//! `!Send` task type with its own vtable and harness (the same state
//! machine written twice, for a difference of one auto trait).
//!
//! Invariants: LIFE-3 and INV-10. A `LocalRuntime` is `!Send` and `!Sync`
//! (checked by a `compile_fail` doctest on [`LocalRuntime`]), so its
//! methods and its `Drop` run on the owner thread.
//!
//! Concurrency: the `Handle` of a `LocalRuntime` is `Send + Sync` as any
//! handle (spawning `Send` futures, dumps, metrics from any thread); a
//! `block_on` through it on another thread never takes the core (LIFE-3),
//! it only polls its own future. `JoinHandle<T>` is `Send` when `T` is.

use crate::handle::Handle;
use crate::metrics::RuntimeMetrics;
use crate::runtime::Runtime;
use crate::scheduler::{current_local, Shared};
use crate::task::task_local;
use crate::task::{JoinHandle, Scope, SpawnMeta};
use crate::trace::Kind;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

/// A current-thread runtime that can also run tasks whose futures are not
/// `Send` (tokio's `LocalRuntime`; asyncio's one event loop per thread).
///
/// Build one with [`Builder::build_local`](crate::Builder::build_local) (or use [`run_local`](crate::run_local)). It is
/// `!Send` and `!Sync`: it and its local tasks stay on the thread that
/// built it, and dropping it cancels every task still alive there, running
/// their destructors on that thread.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
///
/// let rt = weft_runtime::Builder::new_current_thread().build_local().unwrap();
/// let log = Rc::new(RefCell::new(Vec::new()));
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let log = log.clone();
///             weft_runtime::task::spawn_local(async move { log.borrow_mut().push(i) })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// assert_eq!(*log.borrow(), [0, 1, 2]);
/// ```
///
/// It cannot be moved to another thread:
///
/// ```compile_fail
/// let rt = weft_runtime::Builder::new_current_thread().build_local().unwrap();
/// std::thread::spawn(move || drop(rt));
/// ```
pub struct LocalRuntime {
    runtime: Runtime,
    /// `!Send` and `!Sync`: LIFE-3 holds only while every call is made on
    /// the owner thread.
    _not_send: PhantomData<*const ()>,
}

impl LocalRuntime {
    pub(crate) fn from_runtime(runtime: Runtime) -> LocalRuntime {
        LocalRuntime {
            runtime,
            _not_send: PhantomData,
        }
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks (local or not) meanwhile. `future` need not be `Send`.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`]: inside another `block_on` or a worker thread.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().build_local().unwrap();
    /// let cell = std::rc::Rc::new(std::cell::Cell::new(1));
    /// rt.block_on(async {
    ///     weft_runtime::yield_now().await;
    ///     cell.set(cell.get() + 1);
    /// });
    /// assert_eq!(cell.get(), 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Spawns a local task: `future` need not be `Send`, and runs only on
    /// this runtime's thread, when a `block_on` drives it.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().build_local().unwrap();
    /// let name = std::rc::Rc::new("local".to_owned());
    /// let task = rt.spawn_local(async move { name.len() });
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let meta = SpawnMeta::new(Kind::Local);
        spawn_local_on(&self.runtime.handle().shared, future, meta)
    }

    /// Spawns a `Send` task on this runtime (as [`Runtime::spawn`]).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool (as [`Runtime::spawn_blocking`]).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.runtime.spawn_blocking(f)
    }

    /// A handle to this runtime, usable from any thread to spawn `Send`
    /// tasks, dump and read metrics. A `block_on` through it on another
    /// thread polls only its own future: this runtime's tasks run only on
    /// its own thread.
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.runtime.metrics()
    }

    /// Shuts down, cancelling every task on this thread, and waits at most
    /// `timeout` for blocking closures to finish.
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.runtime.shutdown_timeout(timeout);
    }
}

impl fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRuntime")
            .field("handle", self.runtime.handle())
            .finish_non_exhaustive()
    }
}

/// Spawns a local task (its future need not be `Send`) on the
/// [`LocalRuntime`] driving this thread.
///
/// Context variables in scope are copied into the task, as for `spawn`.
///
/// # Panics
///
/// Panics unless a `LocalRuntime` drives this thread: inside its
/// `block_on` (or `run_local`, or `#[weft::main(flavor = "local")]`) or one
/// of its tasks. Anywhere else, including a plain current-thread `Runtime`
/// (it is `Send`, so its tasks must be too) and a multi-thread worker, it
/// panics with a message saying so.
///
/// ```
/// let total = weft_runtime::run_local(async {
///     let counter = std::rc::Rc::new(std::cell::Cell::new(0));
///     let tasks: Vec<_> = (1..=4)
///         .map(|n| {
///             let counter = counter.clone();
///             weft_runtime::task::spawn_local(async move { counter.set(counter.get() + n) })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     counter.get()
/// });
/// assert_eq!(total, 10);
/// ```
///
/// The `JoinHandle` is `Send` when the output is; a handle whose output is
/// not `Send` stays on the runtime's thread:
///
/// ```compile_fail
/// weft_runtime::run_local(async {
///     let handle = weft_runtime::task::spawn_local(async { std::rc::Rc::new(1) });
///     std::thread::spawn(move || drop(handle));
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_with(future, SpawnMeta::new(Kind::Local))
}

/// `spawn_local` with a name or other options (`task::Builder::spawn_local`).
#[track_caller]
pub(crate) fn spawn_local_with<F>(future: F, meta: SpawnMeta<'_>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match current_local() {
        Some(shared) => spawn_local_on(&shared, future, meta),
        None => panic!(
            "weft::task::spawn_local called where no LocalRuntime drives this thread: local (!Send) \
             tasks run only inside LocalRuntime::block_on, weft::run_local or \
             #[weft::main(flavor = \"local\")] and their tasks; a plain Runtime (even a \
             current-thread one) and a multi-thread worker may move tasks between threads, so use \
             weft::spawn with a Send future there"
        ),
    }
}

/// Spawns `future` as a local task of `shared`, copying the context
/// variables in scope (as `Handle::spawn` does).
fn spawn_local_on<F>(shared: &Arc<Shared>, future: F, meta: SpawnMeta<'_>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match task_local::capture() {
        None => shared.spawn_local(future, meta),
        Some(context) => shared.spawn_local(Scope::inherit(context, future), meta),
    }
}
