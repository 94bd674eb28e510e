//! Summary: making a task: `new_task_at` (a `Send` future),
//! `new_local_task` (a future that stays on its thread), the spawn's
//! description, `SpawnMeta`, and the task's site built from it.
//!
//! Role: the runtime's spawn paths (`scheduler::Shared`, the blocking
//! pool, the local runtime, `task::Builder`) call these with a function
//! that gives the task's id and site (made with [`SpawnMeta::site`], which
//! calls the spawn hook), then bind the returned `Task` in their owned list
//! and queue the `Notified`.
//!
//! Design: the three handles come back together because the state word
//! starts with exactly their three references (`state.rs`); the block is
//! allocated by `harness::new_raw`, which builds the vtable for the
//! concrete future and scheduler. A plain task (unnamed, unobserved, no
//! `tracing`) takes a one-word site; everything else goes through the
//! out-of-line, non-generic [`observed_site`]. The caller decides which
//! (the runtime folds "is anything observing spawns" into the one test its
//! spawn makes anyway, for explore mode's task ids), but the decision runs
//! here, right after the scheduler's spawn stamp and before the block is
//! written: the observed branch is a call that may unwind, and made by the
//! caller, before the future moves, it cost every spawn a copy of the
//! future for its unwind path (`docs/performance.md`).
//!
//! Invariants: INV-7 (`raw.rs`): the `JoinHandle` made here is typed by
//! the future's output; INV-10: only `new_local_task` (unsafe, with its
//! contract) accepts a future that is not `Send`.
//!
//! Concurrency: none of its own; the new task is published to other
//! threads only by the caller's queue push.

use super::harness;
use super::id::Id;
use super::join::JoinHandle;
use super::meta::{Details, Site, TaskMeta};
use super::raw::JoinRaw;
use super::schedule::{Notified, Schedule, Task};
use crate::hooks::TaskHooks;
use crate::trace;
use std::future::Future;
use std::panic::Location;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What a spawn call tells about its task besides the future: its name,
/// its kind and where it was spawned.
#[derive(Copy, Clone, Debug)]
pub(crate) struct SpawnMeta<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) kind: trace::Kind,
    pub(crate) spawned_at: &'static Location<'static>,
}

/// What a runtime does at each spawn besides allocating the task: the
/// spawn hook it calls and whether its tasks carry a wake stamp.
#[derive(Copy, Clone, Default)]
pub(crate) struct Observer<'a> {
    /// The task hooks (`hooks.rs`), if any is set.
    pub(crate) hooks: Option<&'a TaskHooks>,
    /// True if the runtime stamps each wake into its tasks (the
    /// schedule-latency histogram): they then carry `Details`.
    pub(crate) stamps_wakes: bool,
}

impl SpawnMeta<'_> {
    /// An unnamed task of `kind`, spawned at the caller's caller.
    #[track_caller]
    #[inline]
    pub(crate) fn new(kind: trace::Kind) -> SpawnMeta<'static> {
        SpawnMeta {
            name: None,
            kind,
            spawned_at: Location::caller(),
        }
    }

    /// The site of task `id`, spawned with this description on a runtime
    /// that `observer` describes; calls the spawn hook (HOOK-1 of
    /// `hooks.rs`). The task carries `Details` (`meta.rs`) only when
    /// something needs them: a name, wake stamps, or the `tracing` feature.
    #[inline]
    pub(crate) fn site(self, id: Id, observer: Observer<'_>) -> Site {
        if self.name.is_none()
            && !trace::ENABLED
            && observer.hooks.is_none()
            && !observer.stamps_wakes
        {
            return Site::plain(self.spawned_at);
        }
        observed_site(id, self, observer)
    }
}

/// Allocates an unnamed async task for `future` spawned at the caller;
/// see [`new_task_at`]. For the tests of the task machinery.
#[cfg(test)]
#[track_caller]
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    id: Id,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let site = SpawnMeta::new(trace::Kind::Task).site(id, Observer::default());
    let spawned = scheduler.spawn_stamp();
    new_task_at(future, scheduler, spawned, || (id, site))
}

/// Allocates a task for `future`, returning its three initial handles
/// (the state word starts with exactly these three references).
/// `spawned` is the spawn stamp (`stamp.rs`), taken by the caller (the
/// runtime's spawn finds out once whether this thread drives one of its
/// cores, which both the stamp and the queueing need; others ask
/// [`Schedule::spawn_stamp`]). `identify` gives the task's id and site,
/// calling the spawn hook (HOOK-1 of `hooks.rs`) through
/// [`SpawnMeta::site`]; it runs once, before the task exists, so before
/// anything can poll it.
pub(crate) fn new_task_at<F, S>(
    future: F,
    scheduler: S,
    spawned: u64,
    identify: impl FnOnce() -> (Id, Site),
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    allocate(future, scheduler, spawned, identify)
}

/// Allocates a local task: one whose future and output need not be
/// `Send` (INV-10). Otherwise as [`new_task_at`].
///
/// # Safety
///
/// `scheduler` must run the task (poll it, and cancel it at abort or
/// shutdown) only on the calling thread, and the returned `Task` and
/// `Notified` may only be handed to that scheduler: a `LocalRuntime` on
/// its owner thread (INV-10).
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    scheduler: S,
    spawned: u64,
    identify: impl FnOnce() -> (Id, Site),
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    allocate(future, scheduler, spawned, identify)
}

/// The body of [`new_task_at`] and [`new_local_task`], which state the
/// `Send` requirements (INV-10).
/// `identify` runs after the spawn stamp was taken, on the same unwind path
/// (see the module doc).
fn allocate<F, S>(
    future: F,
    scheduler: S,
    spawned: u64,
    identify: impl FnOnce() -> (Id, Site),
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let (id, site) = identify();
    let raw = harness::new_raw(future, scheduler, id, site, spawned);
    let task = Task::from_raw(raw);
    let notified = Notified::from_raw_task(raw);
    // INV-7: the output type of this JoinHandle is F::Output.
    let join = JoinHandle::new(JoinRaw::new(raw));
    (task, notified, join)
}

/// The site of a task that is named, hooked, timed or traced: calls the
/// spawn hook (HOOK-1) and builds the site, with `Details` when anything
/// needs them. Out of line and not generic, so no spawn path carries it.
#[inline(never)]
fn observed_site(id: Id, meta: SpawnMeta<'_>, observer: Observer<'_>) -> Site {
    if let Some(hooks) = observer.hooks {
        hooks.spawn(&TaskMeta::new(id, meta.name, meta.spawned_at));
    }
    if meta.name.is_none() && !trace::ENABLED && !observer.stamps_wakes {
        return Site::plain(meta.spawned_at);
    }
    Site::detailed(Details {
        spawned_at: meta.spawned_at,
        name: meta.name.map(Arc::from),
        woken_at: AtomicU64::new(0),
        span: trace::TaskSpan::new(meta.kind, id, meta.name, meta.spawned_at),
    })
}
