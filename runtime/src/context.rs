//! Summary: the thread-local "current runtime" that lets `spawn`,
//! `Handle::current` and, through the timer's and reactor's own contexts
//! (entered together with ours), `sleep` and sockets find their runtime, and the "this thread drives a runtime" flag that
//! turns a nested `block_on` into a clear panic instead of a deadlock.
//!
//! Role: worker threads, blocking-pool threads and `block_on` enter the
//! context ([`enter`]); `Handle::current` reads it ([`current`]). This is
//! the crate's one thread-local layer on top: the `Handle` methods that
//! read or set the current runtime (`current`, `try_current`, `enter`,
//! `block_on`) are defined here, so `handle.rs`, the blocking pool (given
//! an "enter" hook by the builder) and the scheduler below depend on no
//! thread-local of this file.
//!
//! Design: a thread-local stack discipline (each guard restores what it
//! replaced), so runtimes nest correctly when one runtime's blocking
//! thread enters another. There is no process-wide runtime: a program may
//! run two, and every test gets a fresh one.
//!
//! Invariants:
//!
//! - CTX-1: guards are dropped in reverse order of creation on a thread
//!   (they are `!Send` and held in scopes), so restoring the previous value
//!   restores the right one.
//!
//! Concurrency: thread-local only.

use crate::handle::Handle;
use crate::scheduler::current as scheduler_current;
use crate::scheduler::Shared;
use crate::task::task_local;
use crate::task::Scope;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Restores the previous current runtime when dropped (CTX-1).
///
/// Returned by [`Handle::enter`]; not `Send`, as it belongs to the thread
/// that entered.
#[must_use = "the runtime is only current while the guard is alive"]
pub struct EnterGuard<'a> {
    previous: Option<Handle>,
    _timer: weft_timer::EnterGuard,
    _io: weft_io::EnterGuard,
    _handle: PhantomData<&'a Handle>,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// As [`enter`], for a thread that keeps no `Handle` of its own (a
/// blocking-pool thread): the guard keeps the runtime current, and alive,
/// until it drops.
pub(crate) fn enter_owned(handle: Handle) -> EnterGuard<'static> {
    enter(&handle)
}

/// Makes `handle` the current runtime of this thread until the guard drops.
/// The guard holds its own clone of `handle` in the thread-local, so it
/// borrows nothing (the lifetime of the public `EnterGuard<'_>` is only a
/// marker).
pub(crate) fn enter(handle: &Handle) -> EnterGuard<'static> {
    let driver = handle.shared.driver();
    let (_timer, _io) = (driver.timer_handle().enter(), driver.io_handle().enter());
    let previous = CURRENT.with(|current| current.replace(Some(handle.clone())));
    EnterGuard {
        previous,
        _timer,
        _io,
        _handle: PhantomData,
        _not_send: PhantomData,
    }
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// The scheduler of this thread's current runtime, if any: what `spawn`
/// needs, without cloning the rest of the `Handle`.
#[inline]
pub(crate) fn current_scheduler() -> Option<Arc<Shared>> {
    CURRENT
        .try_with(|current| {
            current
                .borrow()
                .as_ref()
                .map(|handle| handle.shared.clone())
        })
        .ok()
        .flatten()
}

/// The current runtime of this thread, if any.
pub(crate) fn current() -> Option<Handle> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Marks this thread as driving a runtime until dropped.
pub(crate) struct DrivingGuard {
    _not_send: PhantomData<*const ()>,
}

/// Marks this thread as driving a runtime (a worker, or inside `block_on`).
///
/// # Panics
///
/// Panics if it already is: blocking this thread would stall the tasks it runs.
#[track_caller]
pub(crate) fn enter_driving() -> DrivingGuard {
    if DRIVING.with(|driving| driving.replace(true)) {
        panic!(
            "cannot block_on from a thread that is already driving a runtime (a worker thread or inside another block_on): \
             blocking it would stall the tasks it runs; .await the future instead, or call block_on from spawn_blocking or a plain thread"
        );
    }
    DrivingGuard {
        _not_send: PhantomData,
    }
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|driving| driving.set(false));
    }
}

/// The methods of [`Handle`] that read or set this thread's current
/// runtime: here, so that `handle.rs` below depends on no thread-local.
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
        current()
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
        let _driving = enter_driving();
        let _enter = self.enter();
        // The caller's context variables belong to `future` alone: the tasks
        // this thread may run meanwhile have their own.
        let (context, _restore) = task_local::take_current();
        match context {
            None => scheduler_current::block_on(&self.shared, &self.blocking, future),
            Some(context) => scheduler_current::block_on(
                &self.shared,
                &self.blocking,
                Scope::inherit(context, future),
            ),
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
        enter(self)
    }
}
