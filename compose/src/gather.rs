//! `gather` and `try_gather`: run many futures at once, collect their outputs
//! in input order.
//!
//! # Summary
//! [`gather`] is `asyncio.gather(*aws)`; with `Result` outputs it is
//! `gather(..., return_exceptions=True)`: every result comes back, errors
//! included. [`try_gather`] is the fail-fast form: the first `Err` drops
//! (cancels) the futures still running and is returned.
//!
//! # Role
//! Public entry points of `compose`; built on `children.rs`.
//!
//! # Design
//! Outputs land in a `Vec<Option<T>>` indexed like the input, so completion
//! order never leaks into the result. Both futures are `Unpin` (the children
//! are pinned inside their own box), so they can be stored and polled freely.
//!
//! # Invariants
//! - INV-1: `outputs[i]` is `Some` iff child `i` finished; when every child
//!   has finished, all are `Some`.
//!
//! # Concurrency
//! The futures run inside the task that awaits the combinator: no task is
//! spawned, so nothing here needs `Send` or `'static` unless that task does.

use super::children::Children;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future in `futures` concurrently and resolves to their outputs
/// in input order (asyncio's `gather`).
///
/// The futures run inside the calling task; dropping the returned future
/// drops every child that has not finished. Each poll only polls the children
/// that were woken, so gathering N futures costs O(N) child polls when they
/// wake one at a time, not O(N²).
///
/// With `Result` outputs this is `gather(..., return_exceptions=True)`: every
/// result, `Ok` or `Err`, is returned. Use [`try_gather`] to stop at the first
/// error instead.
///
/// # Examples
/// ```
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::future::{ready, Future};
/// use std::pin::pin;
/// use std::task::Poll;
/// let all = pin!(weft_compose::gather((1..=3).map(|n| ready(n * 10))));
/// assert_eq!(all.poll(&mut cx), Poll::Ready(vec![10, 20, 30]));
/// ```
pub fn gather<I>(futures: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children = Children::new(futures);
    let outputs = (0..children.len()).map(|_| None).collect();
    Gather {
        children,
        outputs,
        finished: false,
    }
}

/// Future returned by [`gather`]: resolves to every output in input order.
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    children: Children<F>,
    /// INV-1: one slot per child, in input order.
    outputs: Vec<Option<F::Output>>,
    finished: bool,
}

// The children are pinned in their own box and the outputs are never pinned,
// so moving a `Gather` moves nothing that is pinned.
impl<F: Future> Unpin for Gather<F> {}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = self.get_mut();
        assert!(!this.finished, "`Gather` polled after it completed");
        let outputs = &mut this.outputs;
        let done = this.children.poll_woken(cx, |index, output| {
            outputs[index] = Some(output);
            ControlFlow::Continue(())
        });
        if done.is_pending() {
            return Poll::Pending;
        }
        this.finished = true;
        Poll::Ready(take_all(&mut this.outputs))
    }
}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("len", &self.outputs.len())
            .field("finished", &self.finished)
            .finish()
    }
}

/// Runs every future in `futures` concurrently; resolves to `Ok` with every
/// value in input order, or to the first `Err`, in which case the futures
/// still running are dropped (cancelled) before it is returned.
///
/// "First" means first to complete, not first in input order.
///
/// # Examples
/// ```
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use std::future::{ready, Future};
/// use std::pin::pin;
/// use std::task::Poll;
/// let results = [Ok(1), Err("disk full"), Ok(3)].map(ready);
/// let all = pin!(weft_compose::try_gather(results));
/// assert_eq!(all.poll(&mut cx), Poll::Ready(Err("disk full")));
/// ```
pub fn try_gather<I, F, T, E>(futures: I) -> TryGather<F, T>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>>,
{
    let children = Children::new(futures);
    let outputs = (0..children.len()).map(|_| None).collect();
    TryGather {
        children,
        outputs,
        finished: false,
    }
}

/// Future returned by [`try_gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F, T> {
    children: Children<F>,
    /// INV-1: one slot per child, in input order.
    outputs: Vec<Option<T>>,
    finished: bool,
}

// As for `Gather`: nothing pinned lives inline.
impl<F, T> Unpin for TryGather<F, T> {}

impl<F, T, E> Future for TryGather<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let this = self.get_mut();
        assert!(!this.finished, "`TryGather` polled after it completed");
        let outputs = &mut this.outputs;
        let mut error = None;
        let done = this.children.poll_woken(cx, |index, output| match output {
            Ok(value) => {
                outputs[index] = Some(value);
                ControlFlow::Continue(())
            }
            Err(err) => {
                error = Some(err);
                ControlFlow::Break(())
            }
        });
        if done.is_pending() {
            return Poll::Pending;
        }
        this.finished = true;
        if let Some(err) = error {
            this.children.cancel_all();
            this.outputs.clear();
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(take_all(&mut this.outputs)))
    }
}

impl<F, T> fmt::Debug for TryGather<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("len", &self.outputs.len())
            .field("finished", &self.finished)
            .finish()
    }
}

/// Unwraps the outputs once every child has finished (INV-1).
fn take_all<T>(outputs: &mut Vec<Option<T>>) -> Vec<T> {
    std::mem::take(outputs)
        .into_iter()
        .map(|output| output.expect("every child has an output once all have finished (INV-1)"))
        .collect()
}
