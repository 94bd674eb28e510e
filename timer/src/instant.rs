//! weft's `Instant`: a `std::time::Instant` that follows the runtime's clock.
//!
//! # Summary
//!
//! [`Instant::now`] asks the current runtime's clock (see `clock.rs`; the
//! lookup of the current runtime is `context.rs`'s, where `now` and
//! `elapsed` are written), so with the clock paused it returns the test
//! time; outside any runtime it is `std::time::Instant::now()`. Arithmetic saturates instead of panicking:
//! `Instant + Duration::MAX` is a far-future instant, and `a - b` with `b`
//! later than `a` is `Duration::ZERO`.
//!
//! # Design
//!
//! A newtype over `std::time::Instant` rather than a tick count, so it converts
//! to and from std for free and keeps nanosecond precision; the driver rounds
//! to its 125 us ticks only when a deadline enters the wheel (always upwards, so
//! a timer never fires early).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the runtime's monotonic clock; follows the test clock
/// when it is paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::Instant;
///
/// let start = Instant::now();
/// let later = start + Duration::from_millis(5);
/// assert_eq!(later - start, Duration::from_millis(5));
/// assert_eq!(start - later, Duration::ZERO); // saturates
/// assert!(start.checked_add(Duration::MAX).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// Time from `earlier` to `self`; zero if `earlier` is later (saturating).
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// Same as [`Instant::duration_since`].
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }

    /// `self + duration`, or `None` if the platform cannot represent it.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, or `None` if the platform cannot represent it.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }

    /// The `std::time::Instant` this wraps.
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Wraps a `std::time::Instant`.
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

/// `base + duration`, or the latest instant the platform can represent if
/// that overflows (never panics).
pub(crate) fn saturating_add(base: std::time::Instant, duration: Duration) -> std::time::Instant {
    if let Some(at) = base.checked_add(duration) {
        return at;
    }
    // Greedy halving: after trying step `s` the gap to the limit is below `s`,
    // so each smaller step is added at most once and the loop ends at the
    // exact limit after about 2 * 64 iterations.
    let mut at = base;
    let mut step = duration / 2;
    while !step.is_zero() {
        match at.checked_add(step) {
            Some(next) => at = next,
            None => step /= 2,
        }
    }
    at
}

/// `base - duration`, or the earliest representable instant (never panics).
fn saturating_sub(base: std::time::Instant, duration: Duration) -> std::time::Instant {
    if let Some(at) = base.checked_sub(duration) {
        return at;
    }
    let mut at = base;
    let mut step = duration / 2;
    while !step.is_zero() {
        match at.checked_sub(step) {
            Some(next) => at = next,
            None => step /= 2,
        }
    }
    at
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at a far-future instant instead of panicking.
    fn add(self, rhs: Duration) -> Instant {
        Instant(saturating_add(self.0, rhs))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the earliest representable instant instead of panicking.
    fn sub(self, rhs: Duration) -> Instant {
        Instant(saturating_sub(self.0, rhs))
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturating: zero if `rhs` is later than `self`.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturating_add_of_duration_max_reaches_far_but_never_panics() {
        let base = std::time::Instant::now();
        let far = saturating_add(base, Duration::MAX);
        assert!(
            far > base + Duration::from_secs(100 * 365 * 86_400),
            "{far:?}"
        );
        assert!(far.checked_add(Duration::MAX).is_none());
        assert_eq!(
            saturating_add(far, Duration::MAX),
            far,
            "already at the limit"
        );
    }

    #[test]
    fn saturating_add_is_exact_when_it_fits() {
        let base = std::time::Instant::now();
        for ms in [0u64, 1, 999, 86_400_000] {
            let d = Duration::from_millis(ms);
            assert_eq!(saturating_add(base, d), base + d, "{ms} ms");
        }
    }

    #[test]
    fn subtraction_saturates_at_zero_and_at_the_earliest_instant() {
        let a = Instant::now();
        let b = a + Duration::from_secs(1);
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(b - a, Duration::from_secs(1));
        let early = a - Duration::MAX;
        assert!(early <= a);
        assert_eq!(a.checked_duration_since(b), None);
    }
}
