//! [`Interval`]: ticks at a fixed period, with a choice of what to do about
//! missed ticks ([`MissedTickBehavior`]).
//!
//! # Summary
//!
//! An `Interval` is a [`Sleep`] that resets itself each time it fires. The
//! first tick completes immediately (at `start`); tick `n` is due at
//! `start + n * period`. When the task polls late enough that a tick was
//! missed (the deadline passed by more than [`MISSED_TICK_TOLERANCE`]), the
//! [`MissedTickBehavior`] decides the next deadline:
//!
//! ```text
//! period 10, ticks due at 0 10 20 30 40 ..., the task is busy from 12 to 35:
//! Burst: fires at 35 (for 10), 35 (for 20), 35 (for 30), then 40, 50 ...
//! Delay: fires at 35 (for 10), then 45, 55 ...         (restart from now)
//! Skip:  fires at 35 (for 10), then 40, 50 ...         (keep the grid)
//! ```
//!
//! The value returned by a tick is the deadline it was scheduled for, not the
//! time it was observed.
//!
//! # Design
//!
//! Same semantics as tokio's `Interval`, which is what Rust users expect.
//! Owning a `Sleep` (which is `Unpin`) makes `Interval` `Unpin`, so
//! `interval.tick().await` needs no pinning.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::context::current_home_for;
use crate::handle::ShardHome;
use crate::instant::Instant;
use crate::sleep::Sleep;

/// How late a tick may be observed and still count as on time. Firing has
/// 125 us resolution plus scheduling latency; without this slack every tick on
/// a busy runtime would count as "missed" and `Delay`/`Skip` would drift.
/// The same 5 ms tokio uses.
pub const MISSED_TICK_TOLERANCE: Duration = Duration::from_millis(5);

/// What an [`Interval`] does after it missed one or more ticks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{advance, interval, Instant, MissedTickBehavior};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let start = Instant::now();
/// let mut ticks = interval(Duration::from_millis(10));
/// ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// ticks.tick().await; // at 0
/// advance(Duration::from_millis(35)).await; // busy: 10, 20, 30 are missed
/// ticks.tick().await; // the late tick for 10 fires once, at 35
/// assert_eq!(ticks.tick().await - start, Duration::from_millis(40)); // back on the grid
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up, then continue on
    /// the original schedule (the default).
    #[default]
    Burst,
    /// Fire once now, then continue one `period` after now: the schedule
    /// shifts by the delay.
    Delay,
    /// Fire once now, then continue at the next tick of the original
    /// schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The next deadline after the tick due at `missed` was observed at `now`.
    fn next_deadline(self, missed: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => missed + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = (now - missed).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, which fits a u64 of nanoseconds
                // whenever `period` does; otherwise `late < period` anyway.
                let into_period = Duration::from_nanos(u64::try_from(into_period).unwrap_or(0));
                now + (period - into_period)
            }
        }
    }
}

/// A stream of ticks at a fixed period. Created by [`interval`] and
/// [`interval_at`].
///
/// Implements [`Stream<Item = Instant>`](futures_core::Stream).
#[derive(Debug)]
pub struct Interval {
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

/// An interval whose first tick completes immediately and which then ticks
/// every `period`.
///
/// # Panics
///
/// Panics if `period` is zero, or if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{interval, Instant};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let start = Instant::now();
/// let mut every_second = interval(Duration::from_secs(1));
/// for n in 0..3 {
///     let scheduled = every_second.tick().await; // the first tick is immediate
///     assert_eq!(scheduled - start, Duration::from_secs(n));
/// }
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    let home = current_home_for("weft::time::interval");
    let start = Instant::from_std(home.shared().clock.now());
    interval_on(home, start, period)
}

/// An interval whose first tick completes at `start` and which then ticks
/// every `period`.
///
/// # Panics
///
/// Panics if `period` is zero, or if called outside a weft runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    interval_on(current_home_for("weft::time::interval_at"), start, period)
}

#[track_caller]
fn interval_on(home: Arc<ShardHome>, start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "weft::time::interval called with a zero period: the period must be positive"
    );
    Interval {
        delay: Sleep::new(home, start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; on `Ready` the interval has moved on to the
    /// following one.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.delay).poll(cx));
        let due = self.delay.deadline();
        let now = self.delay.clock_now();
        let next = if now > due + MISSED_TICK_TOLERANCE {
            self.missed_tick_behavior
                .next_deadline(due, now, self.period)
        } else {
            due + self.period
        };
        self.delay.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// A heartbeat that is postponed whenever other traffic happens:
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{advance, interval, Instant};
    ///
    /// # weft_timer::doc_support::block_on_paused(async {
    /// let start = Instant::now();
    /// let mut heartbeat = interval(Duration::from_secs(10));
    /// heartbeat.tick().await; // immediate
    /// advance(Duration::from_secs(4)).await;
    /// heartbeat.reset(); // traffic at 4 s: next heartbeat at 14 s
    /// assert_eq!(heartbeat.tick().await - start, Duration::from_secs(14));
    /// # });
    /// ```
    pub fn reset(&mut self) {
        let now = self.delay.clock_now();
        self.delay.reset(now + self.period);
    }

    /// Restarts the schedule: the next tick completes immediately.
    pub fn reset_immediately(&mut self) {
        let now = self.delay.clock_now();
        self.delay.reset(now);
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        let now = self.delay.clock_now();
        self.delay.reset(now + after);
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset(deadline);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens after missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses what happens after missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl fmt::Display for MissedTickBehavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table: (behavior, missed at, observed at, period) -> next deadline,
    /// all in ms after a common base.
    #[test]
    fn next_deadline_follows_each_missed_tick_behavior() {
        let base = Instant::from_std(std::time::Instant::now());
        let ms = Duration::from_millis;
        let cases = [
            (MissedTickBehavior::Burst, 10, 35, 10, 20),
            (MissedTickBehavior::Delay, 10, 35, 10, 45),
            (MissedTickBehavior::Skip, 10, 35, 10, 40),
            (MissedTickBehavior::Skip, 10, 40, 10, 50),
            (MissedTickBehavior::Skip, 0, 1, 1000, 1000),
        ];
        for (behavior, missed, now, period, want) in cases {
            let got = behavior.next_deadline(base + ms(missed), base + ms(now), ms(period));
            assert_eq!(
                got - base,
                ms(want),
                "{behavior} missed {missed} seen {now} period {period}"
            );
        }
    }
}
