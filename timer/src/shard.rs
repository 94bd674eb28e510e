//! One shard of the time driver: a wheel, the park state the parker shares
//! with it, and the shutdown flag, all behind the shard's own lock.
//!
//! # Summary
//!
//! The driver (`shared.rs`) holds one [`Shard`] per worker thread. This file
//! is the shard's data and the state machine of its `park` field; the
//! protocol that uses them across shards (who locks what, and when) is
//! written out once, in `shared.rs`, as INV-2 and the P1-P3 / R1-R3 table.
//!
//! # Invariants
//!
//! The driver's INV-1 to INV-5 (`shared.rs`) govern every field here; the
//! transitions below cite them.
//!
//! # State machine of `park`
//!
//! ```text
//!          transition_to_parked (park_timeout, P1: every shard at once)
//! Awake ----------------------------------------> Parked{until}
//!   ^                                                  |
//!   +-- transition_on_deadline (due < until): unpark --+  (R2, one shard)
//!   +-- transition_to_awake (Driver::process, P3; pause/resume: unpark)
//! ```
//!
//! `Parked -> Parked` also happens: each `park_timeout` recomputes `until`.
//!
//! # Concurrency
//!
//! A `Shard` is only ever reached through its `Mutex` in the driver's
//! `shards`; [`CachePadded`] keeps two shards' locks off a shared cache line.

use std::task::Waker;

use crate::wheel::Wheel;

/// Whether the parker is (about to be) blocked towards a deadline, as this
/// shard last heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParkState {
    /// No thread is parked, or an unpark is already on its way: registrations
    /// in this shard need not unpark (the next `park_timeout` will see them).
    Awake,
    /// The parker is blocked until tick `until` (`None`: until unparked).
    Parked { until: Option<u64> },
}

/// What the caller of a [`ParkState`] transition must do next.
#[must_use = "a lost unpark leaves the parked thread asleep past a deadline"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnparkDuty {
    /// Call `unpark` (after releasing the lock, driver INV-1).
    Unpark,
    /// Nothing: no thread is parked, or it was already unparked.
    Nothing,
}

impl ParkState {
    /// P1 of the driver's INV-2: the parker is about to block until `until`.
    pub(crate) fn transition_to_parked(&mut self, until: Option<u64>) {
        *self = ParkState::Parked { until };
    }

    /// R2 of the driver's INV-2: an entry due at `tick` was added to this
    /// shard; the parker must be woken if it sleeps past `tick`.
    pub(crate) fn transition_on_deadline(&mut self, tick: u64) -> UnparkDuty {
        let sleeps_past = match *self {
            ParkState::Awake => false,
            ParkState::Parked { until: None } => true,
            ParkState::Parked { until: Some(until) } => tick < until,
        };
        if sleeps_past {
            *self = ParkState::Awake;
            UnparkDuty::Unpark
        } else {
            UnparkDuty::Nothing
        }
    }

    /// The parker is (being made) awake: wake it if it is parked.
    pub(crate) fn transition_to_awake(&mut self) -> UnparkDuty {
        match std::mem::replace(self, ParkState::Awake) {
            ParkState::Parked { .. } => UnparkDuty::Unpark,
            ParkState::Awake => UnparkDuty::Nothing,
        }
    }
}

/// A wheel and the park state that guards it against lost unparks.
pub(crate) struct Shard {
    pub(crate) wheel: Wheel<Waker>,
    pub(crate) park: ParkState,
    /// Set when the driver is dropped; timers can no longer fire.
    pub(crate) is_shutdown: bool,
}

impl Shard {
    pub(crate) fn new() -> Shard {
        Shard {
            wheel: Wheel::new(),
            park: ParkState::Awake,
            is_shutdown: false,
        }
    }
}

/// Gives a value cache lines of its own, so that two workers' shards never
/// share one: false sharing between neighbouring shards would bring back the
/// very cache-line bounce that sharding removes.
///
/// 128 bytes, not 64: x86's adjacent-line prefetcher fetches lines in pairs,
/// so two values 64 bytes apart still interfere (crossbeam's `CachePadded`
/// uses 128 on x86-64 and aarch64 for the same reason).
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Each row: (state before, new deadline, duty, state after).
    #[test]
    fn a_deadline_unparks_only_a_parker_that_would_sleep_past_it() {
        let parked = |until| ParkState::Parked { until };
        let table = [
            (ParkState::Awake, 5, UnparkDuty::Nothing, ParkState::Awake),
            (parked(None), 5, UnparkDuty::Unpark, ParkState::Awake),
            (parked(Some(10)), 5, UnparkDuty::Unpark, ParkState::Awake),
            (parked(Some(10)), 10, UnparkDuty::Nothing, parked(Some(10))),
            (parked(Some(10)), 11, UnparkDuty::Nothing, parked(Some(10))),
        ];
        for (before, tick, duty, after) in table {
            let mut state = before;
            assert_eq!(
                state.transition_on_deadline(tick),
                duty,
                "{before:?} + deadline {tick}"
            );
            assert_eq!(state, after, "{before:?} + deadline {tick}");
        }
    }

    #[test]
    fn shards_padded_apart_never_share_a_cache_line() {
        assert_eq!(std::mem::align_of::<CachePadded<u8>>(), 128);
        let pair = [CachePadded(0_u8), CachePadded(1_u8)];
        let gap = (&pair[1] as *const _ as usize) - (&pair[0] as *const _ as usize);
        assert!(gap >= 128, "neighbouring shards are {gap} bytes apart");
    }
}
