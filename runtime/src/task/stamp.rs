//! Summary: `SpawnClock`, the runtime's coarse clock behind `TaskInfo::age`:
//! a spawn on a busy runtime copies a reading instead of reading a clock.
//!
//! Role: each runtime owns one (`scheduler::Shared`); its `Schedule::
//! spawn_stamp` calls [`SpawnClock::stamp`], which `raw.rs` stores in the
//! task header; `Handle::dump` turns the stamp into an age with
//! [`SpawnClock::age_since`]. The scheduler calls [`SpawnClock::refresh`]
//! when a worker starts, after each park, every `EVENT_INTERVAL` ticks of
//! a busy worker (not in a yield's non-blocking turn, which takes no time)
//! and when it wakes a sleeper.
//!
//! Design: the reading is microseconds since the runtime was built, kept
//! in the runtime (STYLE: nothing is process-wide but the thread-local
//! current runtime). Reading the real clock at every spawn cost a few per
//! cent of a spawn-heavy workload, for a figure only a dump reads
//! (`docs/performance.md` has the measurement); so a spawn copies the
//! reading when a worker of this runtime is awake to keep it fresh (or the
//! spawn runs on the thread driving a core), and reads the real clock
//! otherwise: a runtime idle for an hour must not stamp the next outside
//! spawn an hour old. The price: an age can read long by as much as one
//! worker's time since its last refresh. Dumps are for finding tasks stuck
//! for seconds.
//!
//! Invariants: STAMP-1: every stamp is a reading of this runtime's clock
//! that was current at or before the spawn, so an age is never negative (it
//! saturates at zero all the same).
//!
//! Concurrency: the reading is a relaxed `AtomicU64`: stores and loads of
//! whole words, no ordering needed (any recent value is a valid stamp).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A runtime's coarse spawn clock (see the module doc).
pub(crate) struct SpawnClock {
    epoch: Instant,
    /// The last reading a worker stored, in microseconds since `epoch`.
    coarse_micros: AtomicU64,
}

impl SpawnClock {
    pub(crate) fn new() -> SpawnClock {
        SpawnClock {
            epoch: Instant::now(),
            coarse_micros: AtomicU64::new(0),
        }
    }

    /// Microseconds since the epoch, from the real clock.
    fn now_micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Stores a fresh reading.
    pub(crate) fn refresh(&self) {
        self.coarse_micros
            .store(self.now_micros(), Ordering::Relaxed);
    }

    /// The stamp of a task spawned now (STAMP-1): the coarse reading if
    /// `kept_fresh` (a worker is awake, or this thread drives a core), else
    /// the real clock. Always inlined: a load and a branch, on every spawn;
    /// as a call it also kept `Shared::spawn_with` from being inlined into
    /// `spawn` (`docs/performance.md`, "Session 9: three calls fewer per
    /// spawn").
    #[inline(always)]
    pub(crate) fn stamp(&self, kept_fresh: bool) -> u64 {
        if kept_fresh {
            self.coarse_micros.load(Ordering::Relaxed)
        } else {
            self.now_micros()
        }
    }

    /// How long ago `stamp` was taken.
    pub(crate) fn age_since(&self, stamp: u64) -> Duration {
        Duration::from_micros(self.now_micros().saturating_sub(stamp))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A fresh stamp is the real clock (between two readings around it); a
    /// kept-fresh stamp is the last refresh, never later than the real
    /// clock (STAMP-1); an age saturates at zero.
    #[test]
    fn stamps_are_real_unless_kept_fresh() {
        let clock = SpawnClock::new();
        let before = clock.now_micros();
        let real = clock.stamp(false);
        assert!(before <= real && real <= clock.now_micros());
        assert_eq!(clock.stamp(true), 0, "no refresh yet: the epoch");
        std::thread::sleep(Duration::from_millis(2));
        clock.refresh();
        let coarse = clock.stamp(true);
        assert!(coarse >= 2_000 && coarse <= clock.now_micros(), "STAMP-1");
        assert!(clock.age_since(coarse) < Duration::from_secs(60));
        assert_eq!(clock.age_since(u64::MAX), Duration::ZERO);
    }
}
