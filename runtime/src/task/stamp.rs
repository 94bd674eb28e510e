//! Summary: the spawn stamp behind `TaskInfo::age`, taken from a coarse
//! clock so that a spawn on a worker reads no clock at all.
//!
//! Role: `raw.rs` stores [`stamp`] in every task header; `Handle::dump`
//! turns it into an age with [`age_since`]. The schedulers call
//! [`refresh`] on their threads (`scheduler::worker`, `scheduler::current`)
//! and mark those threads with [`WorkerThreadGuard`].
//!
//! Design: `Instant::now()` at every spawn was 4-5 % of `spawn_inside` on
//! two workers (perf, `__vdso_clock_gettime`; clock reads are slow in a
//! VM), and the 16-byte `Instant` was the largest field of the header, all
//! for a figure only a dump reads. Instead one process-wide reading, in
//! microseconds since a process epoch, is refreshed by every worker when it
//! starts, after every park and every `EVENT_INTERVAL` ticks; a spawn on a
//! worker thread copies it (an atomic load). A spawn from any other thread
//! copies it too while some worker of the multi-thread runtime is awake
//! (the worker a spawn wakes has the reading refreshed as it is woken), and
//! reads the real clock otherwise: a runtime idle for an hour must not
//! stamp the next outside spawn an hour old. The price: a stamp taken on a worker is as old as that
//! worker's last refresh, at most its last 61 polls or one long poll, so an
//! age can read long by that much. Dumps are for finding tasks stuck for
//! seconds; a task header is 8 bytes smaller.
//!
//! Invariants: STAMP-1: every stamp is a reading of the process clock that
//! was current at or before the spawn, so an age is never negative (it
//! saturates at zero all the same).
//!
//! Concurrency: the reading is a relaxed `AtomicU64`: stores and loads of
//! whole words, no ordering needed (any recent value is a valid stamp).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The process epoch every stamp counts from.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The last reading a worker stored, in microseconds since [`EPOCH`].
static COARSE_MICROS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// True on a thread that refreshes the coarse reading (a worker, or a
    /// thread inside the current-thread `block_on`).
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Microseconds since the process epoch, from the real clock.
fn now_micros() -> u64 {
    let elapsed = EPOCH.get_or_init(Instant::now).elapsed();
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// Stores a fresh reading (on worker threads, at the points listed in the
/// module doc).
pub(crate) fn refresh() {
    COARSE_MICROS.store(now_micros(), Ordering::Relaxed);
}

/// The spawn stamp for a task spawned on this thread now (STAMP-1).
/// `kept_fresh` says that the caller knows some worker is awake and so
/// refreshing the reading, even if this thread is not a worker.
pub(crate) fn stamp(kept_fresh: bool) -> u64 {
    // `try_with`: a spawn from a thread-local destructor must not panic here.
    if kept_fresh || ON_WORKER.try_with(Cell::get).unwrap_or(false) {
        COARSE_MICROS.load(Ordering::Relaxed)
    } else {
        now_micros()
    }
}

/// How long ago `stamp` was taken.
pub(crate) fn age_since(stamp: u64) -> Duration {
    Duration::from_micros(now_micros().saturating_sub(stamp))
}

/// Marks this thread as one that refreshes the reading, until dropped, and
/// refreshes it now.
pub(crate) struct WorkerThreadGuard {
    previous: bool,
}

impl WorkerThreadGuard {
    pub(crate) fn enter() -> WorkerThreadGuard {
        refresh();
        WorkerThreadGuard {
            previous: ON_WORKER.with(|on| on.replace(true)),
        }
    }
}

impl Drop for WorkerThreadGuard {
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = ON_WORKER.try_with(|on| on.set(previous));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Off a worker a stamp is the real clock (between two readings taken
    /// around it); inside a `WorkerThreadGuard` it is the coarse reading,
    /// never later than the real clock (STAMP-1); the guard restores the
    /// thread's flag. (Other tests' workers refresh the same global reading
    /// concurrently, so no exact value of it is asserted.)
    #[test]
    fn stamps_are_real_off_workers_and_coarse_on_them() {
        let is_worker = || ON_WORKER.with(Cell::get);
        let before = now_micros();
        let real = stamp(false);
        assert!(
            before <= real && real <= now_micros(),
            "off a worker: the real clock"
        );
        assert!(!is_worker());
        let guard = WorkerThreadGuard::enter();
        assert!(is_worker());
        assert!(stamp(false) <= now_micros(), "STAMP-1 on a worker");
        let nested = WorkerThreadGuard::enter();
        drop(nested);
        assert!(is_worker(), "a nested guard restores the outer one's flag");
        drop(guard);
        assert!(!is_worker());
        let before = now_micros();
        assert!(stamp(false) >= before, "off a worker again: the real clock");
        assert!(
            stamp(true) <= now_micros(),
            "kept fresh: the coarse reading, STAMP-1"
        );
        assert_eq!(
            age_since(u64::MAX),
            Duration::ZERO,
            "an age saturates at zero"
        );
    }
}
