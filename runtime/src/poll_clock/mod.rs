//! Summary: [`PollClock`], the clock that times polls and stamps wakes for
//! the poll-time and schedule-latency histograms and slow-poll reports:
//! the CPU's time-stamp counter where it can be trusted, `Instant`
//! elsewhere.
//!
//! Role: `Builder::build` makes one per runtime (calibrated only when the
//! runtime times its polls); `Shared::poll_task` reads it at each poll
//! boundary and `Shared::schedule_task` when it stamps a wake; readings
//! are ticks, which [`PollClock::nanos`] turns into nanoseconds for the
//! histograms (`histogram.rs`).
//!
//! Design: a poll of a small task takes 40-60 ns; `Instant::now` took
//! 26-60 ns on the machine weft is measured on (a vDSO call that reads the
//! counter and scales it), so timing every poll with it cost ping_pong
//! three times its time. Reading the counter directly (`RDTSC`) costs
//! what the vDSO spends on the read alone, about 10-25 ns there, and its
//! ticks are turned into nanoseconds only when a duration is recorded: one
//! 64x64-bit multiplication by a fixed-point factor measured against
//! `Instant` once per process. The counter is used only where `tsc.rs`
//! finds it invariant and used by the OS for its own clock (which rules
//! out hypervisors that do not keep it stable); everywhere else, and on
//! every other architecture (`no_tsc.rs`), a tick is a nanosecond of
//! `Instant` since the clock was made. The calibration (half a
//! millisecond of spinning) is made once and kept in a process-wide
//! `OnceLock`: the counter's rate is a property of the machine, not of a
//! runtime, and a program that builds runtimes in a loop must not pay it
//! each time. Rejected: `CLOCK_MONOTONIC_COARSE` (cheap, but ticks of
//! 1-4 ms cannot fill buckets of 1 µs); a clock thread publishing a
//! reading (a core spinning for it); sampling one poll in N (a single slow
//! poll, the thing the histogram is for, could go uncounted); the kernel's
//! published TSC rate (not exposed to user space on Linux).
//!
//! Invariants: CLOCK-1: `now` never returns 0 (0 marks "no reading" in a
//! task's wake stamp and a worker's poll boundary), and on one thread its
//! readings never decrease.
//!
//! Concurrency: a `PollClock` is `Copy` and read-only; the calibration is
//! made once under the `OnceLock`. Readings from different CPUs come from
//! counters the OS keeps in step; a reading taken on one thread and
//! subtracted on another saturates at zero if it is a few ticks ahead.

#[cfg(target_arch = "x86_64")]
mod tsc;
#[cfg(target_arch = "x86_64")]
use tsc::Tsc;

#[cfg(not(target_arch = "x86_64"))]
mod no_tsc;
#[cfg(not(target_arch = "x86_64"))]
use no_tsc::Tsc;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the calibration watches both clocks: long enough that the
/// error of one `Instant` reading at each end (tens of nanoseconds) is
/// below 0.01 %, short enough to go unnoticed in `Builder::build`.
const CALIBRATION_WINDOW: Duration = Duration::from_micros(500);

/// Paired readings taken at each end of the window; the tightest pair is
/// kept, so a preemption between two reads of one pair does not skew it.
const CALIBRATION_PAIRS: usize = 5;

/// The fractional bits of the nanoseconds-per-tick factor.
const FRACTION_BITS: u32 = 32;

/// Tick rates outside 10 MHz..100 GHz mean the calibration went wrong (a
/// counter that stopped, a clock that jumped): `Instant` is used instead.
const PLAUSIBLE_NANOS_PER_TICK: std::ops::Range<f64> = 0.01..100.0;

/// The clock of poll timing and wake stamps (see the module doc).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollClock {
    source: Source,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    /// Ticks of the time-stamp counter.
    Counter {
        tsc: Tsc,
        /// Nanoseconds per tick, with [`FRACTION_BITS`] fractional bits.
        nanos_per_tick: u64,
    },
    /// Nanoseconds since `epoch`.
    Instant { epoch: Instant },
}

impl PollClock {
    /// A clock for a runtime that times its polls if `timed` (the counter,
    /// calibrated, where it can be trusted); otherwise `Instant`, with no
    /// calibration, for a runtime that reads it at most for a rare report.
    pub(crate) fn new(timed: bool) -> PollClock {
        static COUNTER: OnceLock<Option<(Tsc, u64)>> = OnceLock::new();
        let counter = match timed {
            true => *COUNTER.get_or_init(|| Tsc::detect().and_then(calibrate)),
            false => None,
        };
        let source = match counter {
            Some((tsc, nanos_per_tick)) => Source::Counter {
                tsc,
                nanos_per_tick,
            },
            None => Source::Instant {
                epoch: Instant::now(),
            },
        };
        PollClock { source }
    }

    /// A reading, in ticks (CLOCK-1: never 0).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        count_clock_read();
        let ticks = match self.source {
            Source::Counter { tsc, .. } => tsc.read(),
            Source::Instant { epoch } => {
                u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
        };
        ticks.max(1)
    }

    /// `ticks` (a difference of two readings) in nanoseconds.
    #[inline]
    pub(crate) fn nanos(&self, ticks: u64) -> u64 {
        match self.source {
            Source::Counter { nanos_per_tick, .. } => {
                let nanos = (u128::from(ticks) * u128::from(nanos_per_tick)) >> FRACTION_BITS;
                u64::try_from(nanos).unwrap_or(u64::MAX)
            }
            Source::Instant { .. } => ticks,
        }
    }

    /// True if this clock reads the time-stamp counter.
    #[cfg(all(test, not(loom)))]
    fn is_counter(&self) -> bool {
        matches!(self.source, Source::Counter { .. })
    }
}

/// The counter's nanoseconds per tick (with [`FRACTION_BITS`]), measured
/// against `Instant` over [`CALIBRATION_WINDOW`]; `None` if implausible.
fn calibrate(tsc: Tsc) -> Option<(Tsc, u64)> {
    let (start, start_ticks) = paired_reading(tsc);
    while start.elapsed() < CALIBRATION_WINDOW {
        std::hint::spin_loop();
    }
    let (end, end_ticks) = paired_reading(tsc);
    let nanos = (end - start).as_nanos();
    let ticks = u128::from(end_ticks.checked_sub(start_ticks)?);
    let ratio = nanos as f64 / ticks as f64;
    if !PLAUSIBLE_NANOS_PER_TICK.contains(&ratio) {
        return None;
    }
    let nanos_per_tick = u64::try_from((nanos << FRACTION_BITS) / ticks).ok()?;
    Some((tsc, nanos_per_tick))
}

/// An `Instant` and the counter's value at the same moment: the middle of
/// the two counter reads around the `Instant` read, from the pair whose
/// reads were closest together.
fn paired_reading(tsc: Tsc) -> (Instant, u64) {
    (0..CALIBRATION_PAIRS)
        .map(|_| {
            let before = tsc.read();
            let at = Instant::now();
            let after = tsc.read();
            let width = after.wrapping_sub(before);
            (width, at, before.wrapping_add(width / 2))
        })
        .min_by_key(|&(width, _, _)| width)
        .map(|(_, at, ticks)| (at, ticks))
        .expect("CALIBRATION_PAIRS is not zero")
}

#[cfg(test)]
thread_local! {
    /// Clock reads on this thread, so a test can check that a runtime
    /// with the histograms off reads none.
    pub(crate) static CLOCK_READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn count_clock_read() {
    CLOCK_READS.with(|reads| reads.set(reads.get() + 1));
}

#[cfg(not(test))]
#[inline(always)]
fn count_clock_read() {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::PollClock;
    use std::time::{Duration, Instant};

    /// A timed clock measures an interval as `Instant` does (within 2 %,
    /// far finer than the histograms' factor-of-two buckets), whichever
    /// source it uses; an untimed one is `Instant`. Each `Instant` is
    /// bracketed by two readings, so a preemption widens the bracket
    /// instead of failing the test.
    #[test]
    fn ticks_convert_to_the_nanoseconds_instant_measures() {
        for timed in [true, false] {
            let clock = PollClock::new(timed);
            let bracket = || (clock.now(), Instant::now(), clock.now());
            let (first_low, first, first_high) = bracket();
            while first.elapsed() < Duration::from_millis(20) {
                std::hint::spin_loop();
            }
            let (last_low, last, last_high) = bracket();
            let expected = (last - first).as_nanos() as f64;
            let shortest = clock.nanos(last_low - first_high) as f64;
            let longest = clock.nanos(last_high - first_low) as f64;
            assert!(
                shortest <= expected * 1.02 && expected <= longest * 1.02,
                "timed {timed} (counter: {}): Instant's {expected} ns outside {shortest}..{longest}",
                clock.is_counter()
            );
            if !timed {
                assert!(!clock.is_counter(), "an untimed clock is Instant");
            }
        }
    }

    /// Readings are never 0 and never decrease on one thread (CLOCK-1).
    #[test]
    fn readings_are_nonzero_and_monotone() {
        let clock = PollClock::new(true);
        let mut previous = clock.now();
        for _ in 0..10_000 {
            let now = clock.now();
            assert!(now != 0 && now >= previous, "{previous} then {now}");
            previous = now;
        }
    }
}
