//! Summary: [`Id`], a task's id: unique in the process, or numbered per
//! runtime in explore mode.
//!
//! Role: the task header carries one (`raw.rs`); `JoinHandle::id`,
//! `task::id()`, dumps, slow-poll reports and the trace shim name tasks by
//! it.
//!
//! Design: a file of its own at the bottom of the task module, so the
//! files that only name a task (`debug.rs`, `trace/`) do not depend on the
//! task's mechanism in `mod.rs`.
//!
//! Invariants: none beyond uniqueness (below).
//!
//! Concurrency: the process-wide counter is one atomic.

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
