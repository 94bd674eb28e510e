//! Summary: what both `block_on` driving loops share (the normal one in
//! `current.rs`, explore mode's in `explore.rs`): the waker of the future
//! given to `block_on`, and the guard that returns the current-thread core.
//!
//! Role: `current::block_on` and `explore::drive` build a [`MainWaker`]
//! and hold a [`CoreGuard`] while they drive the core.
//!
//! Design: a file of its own below both loops; rejected, keeping these in
//! `current.rs`, which made `current <-> explore` a circle (`current`
//! chooses the explore loop, `explore` borrowed these back).
//!
//! Invariants: SCHED-1: the core is owned by exactly one `block_on`; the
//! [`CoreGuard`] returns it to the `Lifecycle` even if the main future
//! panics, so a later `block_on` can drive the runtime again.
//!
//! Concurrency: the main waker may fire from any thread; it sets an atomic
//! flag (Release, read with Acquire by the driving loop so the waker's
//! writes are visible) and unparks the driving thread.

use super::shared::{Shared, WorkerCore};
use super::worker_context::WorkerContext;
use crate::park::Unparker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;

/// The waker of the future passed to `block_on`.
pub(super) struct MainWaker {
    pub(super) woken: AtomicBool,
    wake: WakeTarget,
}

/// How the main waker reaches the thread in `block_on`.
pub(super) enum WakeTarget {
    /// The thread drives the current-thread core: unpark its parker.
    Core(Unparker),
    /// The thread just waits: `std::thread::unpark`.
    Thread(std::thread::Thread),
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        match &self.wake {
            WakeTarget::Core(unparker) => unparker.unpark(),
            WakeTarget::Thread(thread) => thread.unpark(),
        }
    }
}

impl MainWaker {
    pub(super) fn new(wake: WakeTarget) -> Arc<MainWaker> {
        // Starts woken: the future must be polled once to begin.
        Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            wake,
        })
    }

    pub(super) fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

/// Returns the current-thread core on drop (SCHED-1), waking one waiter.
/// On an unwind the core may be lent to the worker context (a poll or a
/// park was under way): it is taken back from there.
pub(super) struct CoreGuard<'a> {
    pub(super) shared: &'a Shared,
    pub(super) core: Option<Box<WorkerCore>>,
    pub(super) worker_cx: &'a WorkerContext,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let lent = || self.worker_cx.core.try_borrow_mut().ok()?.take();
        if let Some(core) = self.core.take().or_else(lent) {
            self.shared.lifecycle().return_core(core);
        }
    }
}

/// Runs `f` on drop.
pub(super) fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}
