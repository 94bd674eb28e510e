//! Summary: the thread-local "current runtime" that lets `spawn`,
//! `Handle::current` and, through the timer's and reactor's own contexts
//! (entered together with ours), `sleep` and sockets find their runtime, and the "this thread drives a runtime" flag that
//! turns a nested `block_on` into a clear panic instead of a deadlock.
//!
//! Role: worker threads, blocking-pool threads and `block_on` enter the
//! context ([`enter`]); `Handle::current` reads it ([`current`]).
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
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

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

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn enter(handle: &Handle) -> EnterGuard<'_> {
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
