//! Summary: the thread-local that tells `schedule` which core, if any, this
//! thread drives right now, so a wake on a worker lands on its own queues
//! without a lock (SCHED-1).
//!
//! Role: the worker loop and the current-thread `block_on` install a
//! [`WorkerContext`] ([`WorkerContextGuard::enter`]) and lend it their core
//! ([`WorkerContext::lend`]) while they poll a task, while `block_on`
//! polls its own future, or while they sit in the drivers
//! (`worker::in_context`);
//! `Shared::schedule` and `Shared::spawn` read it through
//! [`current_context`] and [`with_context_core`].
//!
//! Design: one `RefCell<Option<Box<WorkerCore>>>` per thread: a poll that wakes a
//! task borrows it for the push, and a wake that finds it absent or already
//! borrowed (a wake from inside a wake) goes through the injector instead.
//! Rejected: a `Mutex` per core (a lock on every wake on the hot path).
//!
//! Invariants: SCHED-1 (`scheduler/mod.rs`); CTX-1's stack discipline for
//! the guard (`context.rs`): each guard restores what it replaced.
//!
//! Concurrency: thread-local only.

use super::shared::{Shared, WorkerCore};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// What a worker thread (or the current-thread `block_on`) exposes to
/// `schedule` on its own thread (SCHED-1).
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) core: RefCell<Option<Box<WorkerCore>>>,
}

impl WorkerContext {
    /// Runs `f` with `core` lent to this context, so the wakes and spawns
    /// made during it reach the core without a lock (SCHED-1): a task's
    /// poll, the current-thread `block_on`'s poll of its own future, a park
    /// in or poll of the drivers (`worker::in_context`). On unwind the core
    /// stays here, where the `CoreGuard` of `block_on` (`main_future.rs`)
    /// takes it back.
    #[inline(always)]
    pub(crate) fn lend<R>(
        &self,
        core: Box<WorkerCore>,
        f: impl FnOnce() -> R,
    ) -> (Box<WorkerCore>, R) {
        *self.core.borrow_mut() = Some(core);
        let result = f();
        let core = self
            .core
            .borrow_mut()
            .take()
            .expect("the core stays in the worker context while it is lent (SCHED-1)");
        (core, result)
    }
}

thread_local! {
    /// The worker context of this thread, if it drives a core.
    static WORKER: RefCell<Option<Rc<WorkerContext>>> = const { RefCell::new(None) };
}

/// Installs a worker context for the current thread; removed on drop.
pub(crate) struct WorkerContextGuard {
    previous: Option<Rc<WorkerContext>>,
}

impl WorkerContextGuard {
    pub(crate) fn enter(cx: Rc<WorkerContext>) -> WorkerContextGuard {
        WorkerContextGuard {
            previous: WORKER.with(|worker| worker.replace(Some(cx))),
        }
    }
}

impl Drop for WorkerContextGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = WORKER.try_with(|worker| worker.replace(previous));
    }
}

/// This thread's worker context, if it drives one of `shared`'s cores (a
/// worker, or inside the current-thread `block_on`), whether or not it
/// lends the core now. A clone of the `Rc`, so the thread-local is not
/// borrowed while the caller uses it (a wake from inside a wake, a
/// `block_on` entered by a spawn hook).
#[inline(always)]
pub(crate) fn current_context(shared: &Arc<Shared>) -> Option<Rc<WorkerContext>> {
    WORKER
        .try_with(|worker| {
            worker
                .borrow()
                .as_ref()
                .filter(|cx| Arc::ptr_eq(&cx.shared, shared))
                .cloned()
        })
        .ok()
        .flatten()
}

/// Calls `f` with the core of `cx` (this thread's worker context, as
/// [`current_context`] found it) if there is one and this thread is not
/// using it right now (SCHED-1). Always inlined: it runs on every spawn
/// and wake, and is a borrow and a branch around `f`.
#[inline(always)]
pub(crate) fn with_context_core<R>(
    cx: Option<&WorkerContext>,
    f: impl FnOnce(Option<&mut WorkerCore>) -> R,
) -> R {
    let Some(cx) = cx else { return f(None) };
    let result = match cx.core.try_borrow_mut() {
        Ok(mut core) if core.is_some() => f(core.as_deref_mut()),
        _ => f(None),
    };
    result
}

/// The `LocalRuntime` this thread drives right now, if any: a core is in
/// this thread's context and its runtime's owner thread is this one
/// (LIFE-3). `spawn_local` finds its runtime here.
pub(crate) fn current_local() -> Option<Arc<Shared>> {
    WORKER
        .try_with(|worker| {
            worker
                .borrow()
                .as_ref()
                .filter(|cx| cx.shared.lifecycle().is_local_owner())
                .map(|cx| cx.shared.clone())
        })
        .ok()
        .flatten()
}
