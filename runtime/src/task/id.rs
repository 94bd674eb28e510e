//! Summary: a task's identity ([`Id`]) and the id of the task this thread
//! is polling ([`id`], [`try_id`]).
//!
//! Role: `spawn.rs` numbers each new task with [`Id::next`] and the task
//! header carries it (`raw.rs`); `harness.rs` sets the current id around
//! each poll with [`CurrentTaskGuard`]; the owned-tasks list picks a
//! task's shard from it; `JoinHandle::id`, `task::id()`, dumps, slow-poll
//! reports and the trace shim name tasks by it.
//!
//! Design: a file of its own at the bottom of the task module, so the
//! files that only name a task (`debug.rs`, `trace/`) do not depend on the
//! task's mechanism. Ids come from one process-wide counter, so they are unique
//! across runtimes (a `JoinError` or a dump names a task unambiguously);
//! explore mode numbers its own per runtime with [`Id::from_u64`]. The
//! current id is a thread-local `Cell`, set and restored by a guard so a
//! task polled inside another's poll (`block_on` in a task) restores it.
//!
//! Invariants: ID-1: [`Id::next`] never returns the same id twice in one
//! process.
//!
//! Concurrency: the counter is one relaxed atomic (uniqueness needs no
//! ordering); the current id is per thread.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's identity, unique among the tasks of this process; in explore
/// mode (`weft::explore`), unique within its runtime and numbered 1, 2, 3,
/// ... in spawn order, so a replayed schedule shows the same ids.
///
/// ```
/// let rt = weft_runtime::Builder::new_current_thread().build().unwrap();
/// let handle = rt.spawn(async { weft_runtime::task::id() });
/// let id = handle.id();
/// assert_eq!(rt.block_on(handle).unwrap(), id);
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Id(u64);

impl Id {
    /// The next id. Relaxed: ids only need to be unique, which the atomic
    /// increment gives without ordering anything else.
    pub(crate) fn next() -> Id {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Id(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// The id `value` (explore mode numbers its tasks per runtime).
    pub(crate) fn from_u64(value: u64) -> Id {
        Id(value)
    }

    /// The number behind the id.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
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
    #[inline]
    pub(crate) fn enter(id: Id) -> CurrentTaskGuard {
        CurrentTaskGuard {
            previous: CURRENT_TASK.with(|current| current.replace(Some(id))),
        }
    }
}

impl Drop for CurrentTaskGuard {
    #[inline]
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
