//! Summary: making a task: `new_task_at` (a `Send` future),
//! `new_local_task` (a future that stays on its thread) and the spawn's
//! description, `SpawnMeta`.
//!
//! Role: the runtime's spawn paths (`scheduler::Shared`, the blocking
//! pool, the local runtime, `task::Builder`) call these, then bind the
//! returned `Task` in their owned list and queue the `Notified`.
//!
//! Design: the three handles come back together because the state word
//! starts with exactly their three references (`state.rs`); the block is
//! allocated by `harness::new_raw`, which builds the vtable for the
//! concrete future and scheduler. A plain task (unnamed, unobserved, no
//! `tracing`) takes a one-word site; everything else goes through the
//! out-of-line [`observed_site`], so the common spawn stays small.
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
    new_task_at(future, scheduler, id, SpawnMeta::new(trace::Kind::Task))
}

/// Allocates a task for `future`, returning its three initial handles
/// (the state word starts with exactly these three references), and calls
/// the spawn hook (HOOK-1 of `hooks.rs`) before anything can poll it.
/// The task carries `Details` (`meta.rs`) only when something needs them:
/// a name, a scheduler that stamps wakes, or the `tracing` feature.
pub(crate) fn new_task_at<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    meta: SpawnMeta<'_>,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    allocate(future, scheduler, id, meta)
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
    id: Id,
    meta: SpawnMeta<'_>,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    allocate(future, scheduler, id, meta)
}

/// The body of [`new_task_at`] and [`new_local_task`], which state the
/// `Send` requirements (INV-10).
fn allocate<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    meta: SpawnMeta<'_>,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    // One test for the common case: an unnamed task on a runtime that
    // neither hooks nor times its tasks gets the one-word plain site.
    let site = if meta.name.is_none() && !trace::ENABLED && !scheduler.observes_tasks() {
        Site::plain(meta.spawned_at)
    } else {
        observed_site(&scheduler, id, meta)
    };
    let raw = harness::new_raw(future, scheduler, id, site);
    let task = Task::from_raw(raw);
    let notified = Notified::from_raw_task(raw);
    // INV-7: the output type of this JoinHandle is F::Output.
    let join = JoinHandle::new(JoinRaw::new(raw));
    (task, notified, join)
}

/// The spawn of a task that is named, hooked, timed or traced: calls the
/// spawn hook (HOOK-1) and builds the site, with `Details` when anything
/// needs them. Out of line and generic only over the scheduler, so the
/// spawn path of a plain task (every `F`) stays as small as it was.
#[inline(never)]
fn observed_site<S: Schedule>(scheduler: &S, id: Id, meta: SpawnMeta<'_>) -> Site {
    if let Some(hooks) = scheduler.hooks() {
        hooks.spawn(&TaskMeta::new(id, meta.name, meta.spawned_at));
    }
    if meta.name.is_none() && !trace::ENABLED && !scheduler.stamps_wakes() {
        return Site::plain(meta.spawned_at);
    }
    Site::detailed(Details {
        spawned_at: meta.spawned_at,
        name: meta.name.map(Arc::from),
        woken_at: AtomicU64::new(0),
        span: trace::TaskSpan::new(meta.kind, id, meta.name, meta.spawned_at),
    })
}
