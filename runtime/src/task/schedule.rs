//! Summary: the `Schedule` trait (how a task reaches its scheduler) and
//! the two handles a scheduler holds: `Task` (the owned list's) and
//! `Notified` (a run queue's).
//!
//! Role: the runtime's shared state, the blocking pool, the local runtime
//! and the loom mock implement `Schedule`; `harness.rs` calls it to requeue,
//! release and report a task; `list.rs` keeps `Task`s; the scheduler's
//! queues carry `Notified`s and call [`Notified::run`].
//!
//! Design: both handles are a `RawTask` plus one reference (INV-4 of
//! `state.rs`, INV-6 of `raw.rs`), typed by the scheduler so a queue cannot
//! hand a task to the wrong one. They are safe wrappers: the typed code
//! they reach is behind the vtable (`harness.rs`), so this file needs
//! nothing of the harness and the harness builds on it (every arrow
//! between the task files points one way: `state`, `id`, `error` at the
//! bottom, then `meta`, `raw`, `schedule`, `join`, `harness`, `list`,
//! `spawn`).
//!
//! Invariants: relies on INV-4 and INV-6; a `Notified` exists only while
//! NOTIFIED is set on an idle task (INV-5), which the transitions that
//! make one (`state.rs`) ensure.
//!
//! Concurrency: handles are `Send` (their `RawTask` is); each owns one
//! reference, dropped by `Drop` or handed on by `run`/`shutdown`.

use super::meta::TaskMeta;
use super::raw::{Header, RawTask};
use crate::hooks::TaskHooks;
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

/// How a task reaches its scheduler. Implemented by the runtime's shared
/// state (and by a mock in the loom model).
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a woken task.
    ///
    /// `self` may be the handle stored in `task`'s own block (a waker woken
    /// by value, or a poll that woke its own task, hands the task's
    /// reference to the queue): once `task` is queued another thread may
    /// run it to completion and free the block, so an implementation must
    /// not read `self` after it has queued `task` (SCHED-4 in
    /// `scheduler/mod.rs`). The same holds for [`yield_now`](Self::yield_now).
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that was woken while it ran (it yielded): it should go
    /// behind the work already waiting, and behind a turn of the drivers,
    /// never into a LIFO slot.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The task has finished (output, panic, abort or shutdown): calls the
    /// terminate hook if the scheduler has one (HOOK-1 of `hooks.rs`), then
    /// removes the task from the owned list, returning the list's reference
    /// if it held one. Called before the output is visible to the
    /// `JoinHandle`. One call for both, so that a runtime without hooks
    /// tests for them where it has its own state in hand already.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// The spawn stamp of a task spawned now on this thread (`stamp.rs`);
    /// 0 for a scheduler that keeps no spawn clock (its tasks are never
    /// dumped).
    fn spawn_stamp(&self) -> u64 {
        0
    }

    /// A task's `poll` panicked with `payload` (called before the payload
    /// moves into the `JoinError`).
    fn unhandled_panic(&self, task: TaskMeta<'_>, payload: &(dyn Any + Send)) {
        let _ = (task, payload);
    }
}

/// The owned-list handle to a task (one reference).
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

/// A task that is due to be polled (one reference, held by a queue).
pub(crate) struct Notified<S: 'static>(Task<S>);

impl<S: 'static> Task<S> {
    /// Wraps a reference the caller owns.
    pub(super) fn from_raw(raw: RawTask) -> Task<S> {
        Task {
            raw,
            _scheduler: PhantomData,
        }
    }

    /// The task's header (id, spawn site, state word) for lists and dumps.
    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Cancels the task at shutdown: drops its future now unless it is
    /// being polled (then the runner drops it when the poll returns).
    pub(crate) fn shutdown(self) {
        let raw = self.raw;
        std::mem::forget(self);
        raw.shutdown();
    }

    /// True if both handles point to the same task.
    pub(crate) fn is_same(&self, other: &Header) -> bool {
        std::ptr::eq(self.header(), other)
    }
}

impl<S: 'static> Notified<S> {
    /// Wraps a reference the caller owns and that INV-5 lets it queue (a
    /// new task's, a wake's that set NOTIFIED, or a runner's requeue).
    pub(super) fn from_raw_task(raw: RawTask) -> Notified<S> {
        Notified(Task::from_raw(raw))
    }

    /// Polls the task once (or drops its future if it was aborted),
    /// consuming this handle.
    pub(crate) fn run(self) {
        let raw = self.0.raw;
        std::mem::forget(self);
        raw.poll();
    }

    /// As [`run`](Notified::run), with the poll hooks around the run
    /// (`hooks.rs`, HOOK-1). What they are told is copied first: the run
    /// may free the task.
    pub(crate) fn run_with_hooks(self, hooks: &TaskHooks) {
        let header = self.header();
        let name = header.site.shared_name();
        let meta = TaskMeta::new(header.id, name.as_deref(), header.site.spawned_at());
        hooks.before_poll(&meta);
        self.run();
        hooks.after_poll(&meta);
    }

    /// The task's header.
    pub(crate) fn header(&self) -> &Header {
        self.0.header()
    }

    /// Cancels a queued task that will never be run (its queue is being
    /// torn down), consuming this handle.
    pub(crate) fn shutdown(self) {
        let raw = self.0.raw;
        std::mem::forget(self);
        raw.shutdown();
    }

    /// Gives the reference up as a pointer, for a queue that keeps it in an
    /// atomic (the scheduler's stealable LIFO slot). [`Notified::from_raw`]
    /// takes it back; until then the pointer owns the reference (INV-6).
    pub(crate) fn into_raw(self) -> std::ptr::NonNull<Header> {
        let ptr = std::ptr::NonNull::from(self.header());
        std::mem::forget(self);
        ptr
    }

    /// Takes back a reference given up by [`Notified::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` on a `Notified<S>` of this same `S`, and
    /// this is the only `from_raw` for that `into_raw` (the reference is
    /// owned once, INV-6).
    pub(crate) unsafe fn from_raw(ptr: std::ptr::NonNull<Header>) -> Notified<S> {
        Notified(Task::from_raw(RawTask::from_header(ptr)))
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({})", self.header().id)
    }
}

impl<S: 'static> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Notified({})", self.header().id)
    }
}
