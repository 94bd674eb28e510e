//! The runtime's clock: real time, or a paused test clock that moves only when
//! told to; and the conversions between instants and wheel ticks.
//!
//! # Summary
//!
//! One `Clock` per driver. In *running* mode it reads the system's monotonic
//! clock (plus any offset left by an earlier pause); in *paused* mode it
//! returns a frozen instant that moves only through `advance` or the
//! driver's auto-advance (which jumps it to the next deadline when the runtime
//! is idle). The public test-clock API ([`pause`](crate::pause),
//! [`resume`](crate::resume), [`advance`](crate::advance)) finds the current
//! runtime's clock in `context.rs` and calls the methods here.
//!
//! Ticks are whole eighths of a millisecond (125 us) since `origin` (the
//! driver's creation). A deadline maps to the first tick at or after it
//! (rounding *up*, so a timer never fires early); "now" maps to the last tick
//! at or before it. `pause` snaps the frozen time up to a tick boundary
//! (moving it forward by less than 125 us), so with a paused clock sleeps of
//! whole milliseconds end exactly on their deadline and `start.elapsed()`
//! reads the exact sleep length.
//!
//! Why 125 us and not 1 ms: a deadline rounded up to a whole millisecond
//! wakes its task up to 1 ms late (a 1 ms sleep woke 1.10 ms late at the
//! median), while the park itself can be precise to tens of microseconds.
//! An eighth of a millisecond bounds the rounding at 125 us while keeping
//! the wheel: at most eight timer wake-ups per millisecond however many
//! deadlines fall in it, no scan of a slot, and a reach of about 99 days
//! before deadlines overflow to the wheel's far list. Rejected: exact
//! deadlines with the park aimed at the earliest one in the due slot (the
//! parker would scan that slot on every park, and wake once per distinct
//! deadline); a finer tick (more wake-ups per millisecond for lateness the
//! kernel's 50 us timer slack already dominates).
//!
//! # Design
//!
//! An enum (`Mode`), not a trait object: there are exactly two clocks and the
//! paused one needs to be switched on and off at run time anyway. Reading the
//! mode takes a lock, so until the clock is first paused an atomic flag lets
//! [`Clock::now`] skip the lock and read the system clock directly.
//!
//! # Invariants
//!
//! - INV-1: while `shifted` is false the mode is `Running` with
//!   `clock_base == real_base`, i.e. the clock reads the system clock.
//! - INV-2: the clock never goes backwards: pausing freezes the current
//!   reading (rounded up), resuming continues from the frozen reading, and a
//!   paused clock only moves forward.
//!
//! # Concurrency
//!
//! `mode` is behind its own lock; lock order is the driver's shard locks
//! first, then `mode` (auto-advance holds them all so the wheels and the
//! clock jump together; driver INV-5).

use std::time::Duration;

use crate::instant::saturating_add;
use crate::loom::{AtomicBool, Mutex, Ordering};

/// Nanoseconds per wheel tick: the wheel's resolution is 125 us.
const TICK_NANOS: u128 = 125_000;

/// Ticks per second (`TICK_NANOS` divides a second exactly).
const TICKS_PER_SEC: u64 = 8_000;

/// Deadlines at or beyond this tick (2^62 ticks, about 18 million years after
/// the driver started) are treated as "never": such a `Sleep` stays pending
/// without entering the wheel. Without this cut-off, `sleep(Duration::MAX)`
/// would be clamped to the last representable tick, which lies *before* its
/// deadline, and a paused clock's auto-advance would jump there and fire it
/// early.
pub(crate) const NEVER_TICK: u64 = 1 << 62;

enum Mode {
    /// The clock reads `clock_base + (system now - real_base)`.
    Running {
        real_base: std::time::Instant,
        clock_base: std::time::Instant,
    },
    /// The clock reads `now`.
    Paused { now: std::time::Instant },
}

/// A runtime's source of "now", real or paused.
pub(crate) struct Clock {
    /// Tick 0 of the driver's wheel.
    origin: std::time::Instant,
    /// Set (once, forever) by the first pause; see INV-1.
    shifted: AtomicBool,
    mode: Mutex<Mode>,
}

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let origin = std::time::Instant::now();
        let mode = if start_paused {
            Mode::Paused { now: origin }
        } else {
            Mode::Running {
                real_base: origin,
                clock_base: origin,
            }
        };
        Clock {
            origin,
            shifted: AtomicBool::new(start_paused),
            mode: Mutex::new(mode),
        }
    }

    /// The clock's current reading.
    pub(crate) fn now(&self) -> std::time::Instant {
        // Acquire pairs with the Release store in `pause`: seeing `true`
        // means the mode written before it is visible through the lock anyway;
        // seeing `false` means INV-1 holds and the system clock is the answer.
        if !self.shifted.load(Ordering::Acquire) {
            return std::time::Instant::now();
        }
        Self::read(&self.mode.lock())
    }

    fn read(mode: &Mode) -> std::time::Instant {
        match *mode {
            Mode::Running {
                real_base,
                clock_base,
            } => saturating_add(clock_base, real_base.elapsed()),
            Mode::Paused { now } => now,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        matches!(*self.mode.lock(), Mode::Paused { .. })
    }

    /// Freezes the clock at its current reading, rounded up to a tick
    /// boundary. Does nothing if already paused.
    pub(crate) fn pause(&self) {
        let mut mode = self.mode.lock();
        if let Mode::Running { .. } = *mode {
            let now = Self::read(&mode);
            let tick = self.tick_at_or_after(now);
            *mode = Mode::Paused {
                now: self.instant_of(tick).max(now),
            };
        }
        // Release pairs with the Acquire load in `now`.
        self.shifted.store(true, Ordering::Release);
    }

    /// Lets a paused clock run again from its frozen reading (INV-2). Does
    /// nothing if it is running.
    pub(crate) fn resume(&self) {
        let mut mode = self.mode.lock();
        if let Mode::Paused { now } = *mode {
            *mode = Mode::Running {
                real_base: std::time::Instant::now(),
                clock_base: now,
            };
        }
    }

    /// Moves a paused clock forward by `duration` (saturating). Returns false,
    /// changing nothing, if the clock is running.
    pub(crate) fn advance(&self, duration: Duration) -> bool {
        match &mut *self.mode.lock() {
            Mode::Paused { now } => {
                *now = saturating_add(*now, duration);
                true
            }
            Mode::Running { .. } => false,
        }
    }

    /// If paused, asks `target` where to jump and moves the clock there (never
    /// backwards, INV-2), all under the mode lock so no resume can slip in
    /// between. Returns false if running or if `target` returns `None`.
    pub(crate) fn jump_if_paused(
        &self,
        target: impl FnOnce() -> Option<std::time::Instant>,
    ) -> bool {
        match &mut *self.mode.lock() {
            Mode::Paused { now } => match target() {
                Some(at) => {
                    *now = at.max(*now);
                    true
                }
                None => false,
            },
            Mode::Running { .. } => false,
        }
    }

    /// The first tick at or after `instant` (rounds up: never early).
    pub(crate) fn tick_at_or_after(&self, instant: std::time::Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(TICK_NANOS)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before `instant`.
    pub(crate) fn tick_at_or_before(&self, instant: std::time::Instant) -> u64 {
        let nanos = instant.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos / TICK_NANOS).unwrap_or(u64::MAX)
    }

    /// The instant at which `tick` begins (saturating).
    pub(crate) fn instant_of(&self, tick: u64) -> std::time::Instant {
        let subsec_nanos = (tick % TICKS_PER_SEC) as u128 * TICK_NANOS;
        let since_origin = Duration::new(
            tick / TICKS_PER_SEC,
            u32::try_from(subsec_nanos).expect("below a second"),
        );
        saturating_add(self.origin, since_origin)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_now_rounds_down() {
        let clock = Clock::new(true);
        let origin = clock.origin;
        let cases: &[(u64, u64, u64)] = &[
            // (nanos after origin, tick at or after, tick at or before)
            (0, 0, 0),
            (1, 1, 0),
            (124_999, 1, 0),
            (125_000, 1, 1),
            (187_500, 2, 1),
            (1_000_000, 8, 8),
            (1_000_001, 9, 8),
        ];
        for &(nanos, up, down) in cases {
            let at = origin + Duration::from_nanos(nanos);
            assert_eq!(clock.tick_at_or_after(at), up, "{nanos} ns");
            assert_eq!(clock.tick_at_or_before(at), down, "{nanos} ns");
        }
        assert_eq!(
            clock.tick_at_or_after(saturating_add(origin, Duration::MAX)),
            u64::MAX
        );
    }

    #[test]
    fn a_tick_begins_where_its_deadlines_round_up_to() {
        let clock = Clock::new(true);
        for tick in [0, 1, 7, 8, 7_999, 8_000, 8_001, 123_456_789] {
            let at = clock.instant_of(tick);
            assert_eq!(clock.tick_at_or_after(at), tick, "tick {tick}");
            assert_eq!(clock.tick_at_or_before(at), tick, "tick {tick}");
        }
        assert_eq!(clock.instant_of(8) - clock.origin, Duration::from_millis(1));
        // Saturates instead of overflowing.
        assert!(clock.instant_of(u64::MAX) > clock.instant_of(NEVER_TICK));
    }

    #[test]
    fn a_paused_clock_moves_only_forward_and_only_when_told() {
        let clock = Clock::new(true);
        let start = clock.now();
        assert_eq!(clock.now(), start);
        assert!(clock.advance(Duration::from_millis(7)));
        assert_eq!(clock.now() - start, Duration::from_millis(7));
        assert!(
            clock.jump_if_paused(|| Some(start)),
            "a jump backwards is clamped"
        );
        assert_eq!(clock.now() - start, Duration::from_millis(7));
        clock.resume();
        assert!(
            !clock.advance(Duration::from_millis(1)),
            "running clocks cannot be advanced"
        );
        assert!(clock.now() >= start + Duration::from_millis(7));
    }

    #[test]
    fn pause_snaps_forward_to_a_tick_boundary() {
        let clock = Clock::new(false);
        let before = clock.now();
        clock.pause();
        let frozen = clock.now();
        assert!(frozen >= before && frozen - before < Duration::from_millis(2));
        let offset = frozen - clock.origin;
        assert_eq!(offset.as_nanos() % TICK_NANOS, 0, "{offset:?}");
    }
}
