//! `race`: the first future to finish wins, the others are dropped.
//!
//! # Summary
//! [`race`] is `asyncio.wait(aws, return_when=FIRST_COMPLETED)` followed by
//! cancelling the pending ones, in one call.
//!
//! # Role
//! Public entry point of `compose`; built on `children.rs`.
//!
//! # Design
//! An empty race could never finish, which in asyncio is an error
//! (`wait` raises `ValueError` on an empty set). Here it is a misuse panic at
//! construction, where the caller's line is still on the stack, rather than a
//! future that hangs forever.
//!
//! # Invariants
//! - INV-1: the winner's output is returned once; polling again panics.
//!
//! # Concurrency
//! As for `gather`: everything runs inside the awaiting task.

use super::children::Children;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future in `futures` concurrently and resolves to the output of
/// the first one to finish; the others are dropped (cancelled) at that point.
///
/// If several finish during the same poll, the one woken first wins.
///
/// # Panics
/// Panics if `futures` is empty: a race with no runner would never finish.
///
/// # Examples
/// ```
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::future::{pending, ready, Future};
/// use std::pin::{pin, Pin};
/// use std::task::Poll;
/// let never: Pin<Box<dyn Future<Output = &str>>> = Box::pin(pending());
/// let now: Pin<Box<dyn Future<Output = &str>>> = Box::pin(ready("fast"));
/// let winner = pin!(weft_compose::race([never, now]));
/// assert_eq!(winner.poll(&mut cx), Poll::Ready("fast"));
/// ```
#[track_caller]
pub fn race<I>(futures: I) -> Race<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children = Children::new(futures);
    assert!(
        children.len() > 0,
        "race needs at least one future: an empty race would never finish; check the iterator is not empty before racing"
    );
    Race {
        children,
        finished: false,
    }
}

/// Future returned by [`race`].
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F> {
    children: Children<F>,
    finished: bool,
}

impl<F: Future> Future for Race<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "`Race` polled after it completed");
        let mut winner = None;
        let _ = this.children.poll_woken(cx, |_, output| {
            winner = Some(output);
            ControlFlow::Break(())
        });
        match winner {
            Some(output) => {
                this.finished = true; // INV-1
                this.children.cancel_all();
                Poll::Ready(output)
            }
            None => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Race<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
