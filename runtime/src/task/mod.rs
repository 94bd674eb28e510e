//! Tasks: the unit of work the scheduler runs, and the handles to it.
//!
//! # Summary
//!
//! A task is a spawned future plus everything needed to run it, wake it,
//! cancel it and hand its output back, in **one heap allocation**:
//!
//! ```text
//!  +------------------- Cell<F, S> (repr C) --------------------+
//!  | Header (48 B): state word | vtable | id | site (meta.rs) |  |
//!  |      spawned (u64 stamp) | owned key (u32) | polls (u32)   |
//!  | scheduler: S (an Arc to the runtime's shared state)       |
//!  | stage: Running(F) | Finished(Result<F::Output>) | Consumed|
//!  | join waker: Option<Waker>                                 |
//!  +-----------------------------------------------------------+
//! ```
//!
//! # Role
//!
//! The scheduler (`crate::scheduler`) creates tasks with `new_task`, keeps
//! every live one in an `OwnedTasks` list so shutdown can find it, pushes
//! `Notified` handles through its queues and calls `Notified::run`. Users
//! see [`JoinHandle`], [`AbortHandle`], [`JoinError`] and [`Id`].
//!
//! # Design
//!
//! The handles are reference-counted pointers to the one block; the count
//! lives in the state word (`state.rs`) so that every lifecycle change and
//! its reference change are a single atomic step. The `Waker` handed to the
//! future *is* the task pointer, so waking never allocates. Which handle may
//! touch the future, the output or the join waker at any moment is decided
//! by the state word alone: read `state.rs` first (its diagram and INV-1..5),
//! then `raw.rs` (layout, INV-6..8), then `harness.rs` (the paths).
//!
//! Alternatives rejected: `Arc<Mutex<Option<F>>>` per task (three
//! allocations, a lock per poll, and no way to tell "woken while running"
//! from "idle"); async-task's separate crate (we want the state machine in
//! the reader's hands). Tokio's layout is followed, trimmed of its LIFO and
//! "waker being written" bits.
//!
//! The handles and who holds them:
//!
//! | handle          | owner                     | reference | may touch                     |
//! |-----------------|---------------------------|-----------|-------------------------------|
//! | `Task<S>`       | the owned-tasks list      | one       | header (dump), shutdown       |
//! | `Notified<S>`   | a run queue               | one       | the future, once `run`        |
//! | `JoinHandle<T>` | the spawner               | one       | output after COMPLETE, join waker |
//! | `AbortHandle`   | anyone                    | one       | the state word                |
//! | `Waker`         | whatever the future gave it to | one  | the state word, then a queue  |
//!
//! # Invariants
//!
//! INV-1..5 are in `state.rs`, INV-6..8 in `raw.rs`. Only `raw.rs` and
//! `harness.rs` contain `unsafe`; everything here is safe code on top.
//!
//! # Concurrency
//!
//! Every handle is `Send` (a `JoinHandle<T>` when `T` is; a local task's
//! future is only ever touched on its owner thread, INV-10); any thread
//! may wake, abort or drop a handle at any time. Only one thread polls a task at a time (INV-1), and a task
//! woken while it runs is requeued by its runner, never polled twice
//! (INV-5).
//!
//! # References
//!
//! tokio `runtime/task/mod.rs` (the handle table), async-task (one
//! allocation, vtable, waker as task pointer).

mod builder;
mod error;
mod harness;
mod id;
mod join;
mod list;
mod meta;
mod raw;
pub(crate) mod stamp;
mod state;
pub(crate) mod task_local;
mod yield_now;

#[cfg(all(test, loom))]
mod tests;

pub use crate::local::spawn_local;
pub use builder::Builder;
pub(crate) use error::panic_message;
pub use error::JoinError;
pub use id::Id;
pub use join::{AbortHandle, JoinHandle};
pub(crate) use list::OwnedTasks;
pub use meta::TaskMeta;
pub(crate) use raw::Header;
pub use task_local::{LocalKey, Scope};
pub use weft_coop::{consume_budget, unconstrained, Unconstrained};
pub use yield_now::yield_now;

/// The cooperative budget, for futures written outside weft.
///
/// Every poll of a weft task starts with
/// [`BUDGET_PER_POLL`](crate::task::coop::BUDGET_PER_POLL) units; every
/// weft leaf future (socket reads, writes and accepts, sleeps and timeouts,
/// `JoinHandle`, oneshot, every weft-sync primitive) spends one when it
/// completes, and once they are spent it wakes its task and returns
/// `Pending` instead, so a task looping over always-ready operations yields
/// every `BUDGET_PER_POLL` of them. A future of your own can take part
/// with [`poll_proceed`](crate::task::coop::poll_proceed):
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
///
/// /// A counter that is always ready, yet lets the other tasks run.
/// struct Next<'a>(&'a mut u64);
///
/// impl Future for Next<'_> {
///     type Output = u64;
///     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
///         let coop = ready!(weft_runtime::task::coop::poll_proceed(cx));
///         *self.0 += 1;
///         coop.made_progress();
///         Poll::Ready(*self.0)
///     }
/// }
///
/// weft_runtime::run(async {
///     let mut count = 0;
///     while Next(&mut count).await < 1_000 {}
///     assert_eq!(count, 1_000);
/// });
/// ```
pub mod coop {
    pub use weft_coop::{has_budget_remaining, poll_proceed, RestoreOnPending, BUDGET_PER_POLL};
}

use crate::hooks::TaskHooks;
use crate::trace;
use meta::{Details, Site};
use raw::{JoinRaw, RawTask};
use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// How a task reaches its scheduler. Implemented by the runtime's shared
/// state (and by a mock in the loom model).
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a woken task.
    fn schedule(&self, task: Notified<Self>);

    /// Queues a task that was woken while it ran (it yielded): it should go
    /// behind the work already waiting, and behind a turn of the drivers,
    /// never into a LIFO slot.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// Removes a completed task from the owned list, returning the list's
    /// reference if it held one.
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

    /// The task hooks to call (`hooks.rs`), or `None`: then nothing is
    /// called and the check costs one branch per spawn, poll and completion.
    fn hooks(&self) -> Option<&TaskHooks> {
        None
    }

    /// True if this scheduler stamps the time of each wake into its tasks
    /// (the schedule-latency histogram): tasks then carry `Details`.
    fn stamps_wakes(&self) -> bool {
        false
    }

    /// True if `hooks` is `Some` or `stamps_wakes` is true: the one flag
    /// the spawn path tests.
    fn observes_tasks(&self) -> bool {
        false
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
    fn from_raw(raw: RawTask) -> Task<S> {
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
    let raw = RawTask::new(future, scheduler, id, site);
    let task = Task::from_raw(raw);
    let notified = Notified(Task::from_raw(raw));
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

thread_local! {
    /// The id of the task this thread is polling, if any.
    static CURRENT_TASK: Cell<Option<Id>> = const { Cell::new(None) };
}

/// Sets [`CURRENT_TASK`] for one poll and restores the previous value.
pub(crate) struct CurrentTaskGuard {
    previous: Option<Id>,
}

impl CurrentTaskGuard {
    pub(crate) fn enter(id: Id) -> CurrentTaskGuard {
        CurrentTaskGuard {
            previous: CURRENT_TASK.with(|current| current.replace(Some(id))),
        }
    }
}

impl Drop for CurrentTaskGuard {
    fn drop(&mut self) {
        CURRENT_TASK.with(|current| current.set(self.previous));
    }
}

/// The id of the task being polled on this thread.
///
/// # Panics
///
/// Panics outside a spawned task (including directly inside `block_on`);
/// use [`try_id`] there.
///
/// ```
/// weft_runtime::run(async {
///     let id = weft_runtime::spawn(async { weft_runtime::task::id() }).await.unwrap();
///     println!("the task was {id}");
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    try_id().expect(
        "task::id() called outside a spawned task; use task::try_id() where there may be none",
    )
}

/// The id of the task being polled on this thread, or `None` outside a task.
///
/// ```
/// assert_eq!(weft_runtime::task::try_id(), None);
/// ```
pub fn try_id() -> Option<Id> {
    CURRENT_TASK.with(|current| current.get())
}
