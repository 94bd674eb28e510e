//! [`Timeout`]: run a future with a deadline; [`timeout`], [`timeout_at`] and
//! the [`Elapsed`] error.
//!
//! # Summary
//!
//! `Timeout<F>` polls its future first and its [`Sleep`] second, so a future
//! that is ready on its first poll completes without ever registering a timer,
//! and one that is pending once costs one wheel insert plus one cancel (when
//! the `Timeout` is dropped).
//!
//! The equivalent of Python's `asyncio.wait_for` / `asyncio.timeout`, with one
//! difference: when the deadline passes, the inner future is *dropped*, which
//! is Rust's cancellation. A `JoinHandle` dropped this way detaches its task
//! rather than cancelling it.
//!
//! # Design
//!
//! The inner future must stay pinned while `Timeout` is pinned, which needs a
//! pin projection. The projection is written by hand (one `unsafe` block with
//! its proof) instead of adding the `pin-project-lite` dependency; this is the
//! design note every `unsafe` outside the task and lock modules carries.
//! `Sleep` is `Unpin`, so only `value` is structurally pinned.
//!
//! # Invariants
//!
//! - INV-1 (structural pinning of `value`): `value` is never moved out of a
//!   pinned `Timeout` (no method takes it by value except `into_inner`, which
//!   takes `self` unpinned); `Timeout` has no `Drop` impl; and `Timeout<F>`
//!   is `Unpin` only when `F` is (auto trait, since `Sleep: Unpin`).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context::current_home_for;
use crate::instant::{saturating_add, Instant};
use crate::sleep::Sleep;

/// The error a [`Timeout`] returns when its deadline passes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    /// An `io::Error` of kind `TimedOut`.
    fn from(elapsed: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, elapsed)
    }
}

/// A future with a deadline. Created by [`timeout`] and [`timeout_at`].
///
/// Resolves to `Ok(output)` if the inner future finishes first, and to
/// `Err(Elapsed)` (dropping the inner future) if the deadline passes first.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    /// Structurally pinned (INV-1).
    value: F,
    delay: Sleep,
}

/// Runs `future` for at most `duration` (`Duration::MAX` means no limit in
/// practice; it never panics).
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{sleep, timeout};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let fetch = async {
///     sleep(Duration::from_secs(3)).await; // a slow server
///     "body"
/// };
/// match timeout(Duration::from_secs(1), fetch).await {
///     Ok(body) => println!("{body}"),
///     Err(elapsed) => println!("gave up: {elapsed}"), // this one
/// }
/// # });
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let home = current_home_for("weft::time::timeout");
    let now = home.shared().clock.now();
    let deadline = Instant::from_std(saturating_add(now, duration));
    Timeout::new(Sleep::new(home, deadline), future)
}

/// Runs `future` until `deadline` at the latest.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// One deadline shared by several steps:
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{sleep, timeout_at, Instant};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let deadline = Instant::now() + Duration::from_secs(2);
/// assert!(timeout_at(deadline, sleep(Duration::from_secs(1))).await.is_ok());
/// assert!(timeout_at(deadline, sleep(Duration::from_secs(1))).await.is_ok());
/// assert!(timeout_at(deadline, sleep(Duration::from_secs(1))).await.is_err());
/// # });
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    let home = current_home_for("weft::time::timeout_at");
    Timeout::new(Sleep::new(home, deadline), future)
}

impl<F> Timeout<F> {
    fn new(delay: Sleep, value: F) -> Timeout<F> {
        Timeout { value, delay }
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably (only reachable while not pinned).
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Gives the inner future back, cancelling the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::timeout;
    ///
    /// # weft_timer::doc_support::block_on_paused(async {
    /// let limited = timeout(Duration::from_secs(1), async { 5 });
    /// let unlimited = limited.into_inner(); // no deadline any more
    /// assert_eq!(unlimited.await, 5);
    /// # });
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }

    /// The deadline's [`Sleep`], e.g. to read or move the deadline.
    pub fn sleep(&self) -> &Sleep {
        &self.delay
    }

    /// Pin projection: the pinned inner future and the (`Unpin`) sleep.
    fn project(self: Pin<&mut Self>) -> (Pin<&mut F>, &mut Sleep) {
        // SAFETY: INV-1. The `&mut Self` is used only to form the two field
        // references below and never to move `value`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: INV-1: `value` is structurally pinned, so since `self` was
        // pinned, `value` stays at this address until it is dropped in place.
        let value = unsafe { Pin::new_unchecked(&mut this.value) };
        (value, &mut this.delay)
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    /// Spends one unit of the cooperative budget when it completes (the
    /// inner future spends its own); with the budget spent, wakes the task
    /// and yields instead.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(weft_coop::poll_proceed(cx));
        let (value, delay) = self.project();
        let poll = match value.poll(cx) {
            Poll::Ready(output) => Poll::Ready(Ok(output)),
            // The deadline is checked with no budget: if the inner future
            // spent the last unit (and yielded), a future that always
            // exhausts the budget could otherwise never time out.
            Poll::Pending => Pin::new(&mut weft_coop::unconstrained(Pin::new(delay)))
                .poll(cx)
                .map(|()| Err(Elapsed(()))),
        };
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", &self.value)
            .field("delay", &self.delay)
            .finish()
    }
}
