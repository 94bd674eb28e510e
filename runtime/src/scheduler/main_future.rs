//! Summary: what both `block_on` driving loops share (the normal one in
//! `current.rs`, explore mode's in `explore.rs`): the waker of the future
//! given to `block_on` and its registration with the `Lifecycle`, and the
//! guard that returns the current-thread core.
//!
//! Role: `current::block_on` and `explore::drive` enter [`Driving`] (the
//! registered [`MainWaker`], this thread's worker context and a
//! [`CoreGuard`]) while they drive the core; a `block_on` waiting without
//! the core holds a [`MainRegistration`] alone.
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
use super::worker_context::{WorkerContext, WorkerContextGuard};
use crate::park::Unparker;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

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
    pub(super) worker_cx: Rc<WorkerContext>,
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let lent = || self.worker_cx.core.try_borrow_mut().ok()?.take();
        if let Some(core) = self.core.take().or_else(lent) {
            self.shared.lifecycle().return_core(core);
        }
    }
}

/// The main future's waker, registered with the `Lifecycle` until dropped,
/// so that a shutdown on unhandled panic wakes this `block_on` to report it.
pub(super) struct MainRegistration<'a> {
    pub(super) main: Arc<MainWaker>,
    pub(super) waker: Waker,
    shared: &'a Shared,
    key: usize,
}

impl<'a> MainRegistration<'a> {
    pub(super) fn new(shared: &'a Shared, wake: WakeTarget) -> MainRegistration<'a> {
        let main = MainWaker::new(wake);
        let waker = Waker::from(main.clone());
        let key = shared.lifecycle().add_block_on_waker(waker.clone());
        MainRegistration {
            main,
            waker,
            shared,
            key,
        }
    }
}

impl Drop for MainRegistration<'_> {
    fn drop(&mut self) {
        self.shared.lifecycle().remove_block_on_waker(self.key);
    }
}

/// A thread driving the current-thread core for `block_on`: the main
/// future's registered waker (unparking the core's parker), this thread's
/// worker context, entered, and the core in its [`CoreGuard`].
///
/// The fields drop in order: the guard first, returning the core (SCHED-1)
/// while the context is still entered, then the context, then the
/// registration.
pub(super) struct Driving<'a> {
    pub(super) guard: CoreGuard<'a>,
    _context: WorkerContextGuard,
    pub(super) registration: MainRegistration<'a>,
}

impl<'a> Driving<'a> {
    /// Takes `core` for this thread: registers the main waker, enters a
    /// worker context of `shared` and refreshes the spawn clock (time
    /// passed while the core was idle, `task::stamp`).
    pub(super) fn enter(shared: &'a Arc<Shared>, core: Box<WorkerCore>) -> Driving<'a> {
        let registration = MainRegistration::new(shared, WakeTarget::Core(core.unparker()));
        let worker_cx = Rc::new(WorkerContext {
            shared: shared.clone(),
            core: RefCell::new(None),
        });
        let context = WorkerContextGuard::enter(worker_cx.clone());
        shared.spawn_clock().refresh();
        Driving {
            guard: CoreGuard {
                shared,
                core: Some(core),
                worker_cx,
            },
            _context: context,
            registration,
        }
    }
}
