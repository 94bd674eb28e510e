//! Async iteration (`async for`): the [`Stream`] trait and a small [`StreamExt`].
//!
//! # Summary
//! A [`Stream`] is an async iterator: `poll_next` yields `Some(item)` until it
//! yields `None`. Python's
//! ```text
//! async for page in fetch_pages():
//!     print(page)
//! ```
//! is, in weft,
//! ```text
//! while let Some(page) = pages.next().await {
//!     println!("{page:?}");
//! }
//! ```
//! [`StreamExt`] adds [`next`](StreamExt::next), [`map`](StreamExt::map),
//! [`filter`](StreamExt::filter) (with a plain `FnMut(&Item) -> bool`
//! predicate), [`take`](StreamExt::take) and [`collect`](StreamExt::collect).
//! Two constructors: [`iter`] (an iterator as a stream) and [`unfold`] (an
//! async step function as a stream: the async generator).
//!
//! # Role
//! Public API of weft-compose, re-exported as `weft_runtime::stream` and by
//! the facade as `weft::stream::{Stream, StreamExt}`. Queue
//! streams, `Interval` and `lines()` implement [`Stream`] elsewhere; this
//! module only consumes it.
//!
//! # Design
//! [`Stream`] is `futures_core::Stream`, re-exported rather than redefined,
//! so `futures-util`'s far larger `StreamExt` works on the same values (import
//! only one of the two extension traits in a scope, or the method names
//! clash). This module stays small on purpose: only what the examples and
//! the asyncio patterns need.
//!
//! The adapters need `S: Unpin`, as `futures-util`'s `next` does. That keeps
//! this module free of `unsafe` pin projection. A stream that is not `Unpin`
//! (for example one holding an `async` block) is pinned first:
//! `let mut s = std::pin::pin!(s);` and then `s.next()`, `s.as_mut().map(..)`;
//! `Pin<&mut S>` is itself an `Unpin` stream.
//!
//! # Invariants
//! - INV-1: [`Take`] never polls its inner stream once it has yielded its
//!   `n` items, so `take(n)` on an endless stream finishes.
//!
//! # Concurrency
//! The adapters are plain values, polled by whichever task owns them.

pub use futures_core::Stream;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Extension methods for every [`Stream`]: the `async for` toolkit.
///
/// # Examples
/// ```
/// # use std::future::Future;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// use weft_compose::stream::{iter, StreamExt};
/// let squares_of_odds = async {
///     iter(1..)
///         .filter(|n| n % 2 == 1)
///         .map(|n| n * n)
///         .take(3)
///         .collect::<Vec<u64>>()
///         .await
/// };
/// let result = std::pin::pin!(squares_of_odds).poll(&mut cx);
/// assert_eq!(result, std::task::Poll::Ready(vec![1, 9, 25]));
/// ```
pub trait StreamExt: Stream {
    /// Resolves to the next item, or `None` when the stream has ended.
    fn next(&mut self) -> Next<'_, Self>
    where
        Self: Unpin,
    {
        Next { stream: self }
    }

    /// A stream of `f(item)` for every item.
    fn map<T, F>(self, f: F) -> Map<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> T,
    {
        Map { stream: self, f }
    }

    /// A stream of the items for which `predicate(&item)` is true.
    fn filter<P>(self, predicate: P) -> Filter<Self, P>
    where
        Self: Sized,
        P: FnMut(&Self::Item) -> bool,
    {
        Filter {
            stream: self,
            predicate,
        }
    }

    /// A stream of at most the first `n` items.
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        Take {
            stream: self,
            remaining: n,
        }
    }

    /// Resolves to a collection (`Vec`, `String`, `HashMap`, ...) of every
    /// item once the stream ends.
    fn collect<C>(self) -> Collect<Self, C>
    where
        Self: Sized,
        C: Default + Extend<Self::Item>,
    {
        Collect {
            stream: self,
            collection: C::default(),
        }
    }
}

impl<S: Stream + ?Sized> StreamExt for S {}

/// A stream that yields the items of an iterator, ready at once.
///
/// Handy in tests and examples, and as the `async for` counterpart of a
/// plain `for` loop.
///
/// ```
/// use weft_compose::stream::{iter, StreamExt};
/// smol::block_on(async {
///     let mut words = iter(["async", "for"]);
///     assert_eq!(words.next().await, Some("async"));
///     assert_eq!(words.next().await, Some("for"));
///     assert_eq!(words.next().await, None);
/// });
/// ```
pub fn iter<I: IntoIterator>(items: I) -> Iter<I::IntoIter> {
    Iter {
        items: items.into_iter(),
    }
}

/// Stream returned by [`iter`].
#[derive(Debug, Clone)]
#[must_use = "streams do nothing unless polled"]
pub struct Iter<I> {
    items: I,
}

impl<I: Iterator + Unpin> Stream for Iter<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.items.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// A stream built from an async step function: the closest thing to an
/// async generator (`async def` with `yield`).
///
/// `step(state)` returns a future resolving to `Some((item, next_state))`
/// to yield `item`, or `None` to end the stream. Each step's future is
/// boxed, so [`Unfold`] is `Unpin` whatever the step is; that is one
/// allocation per item, small next to the I/O a generator usually awaits.
///
/// ```
/// use weft_compose::stream::{unfold, StreamExt};
/// smol::block_on(async {
///     // async def countdown(n): while n: yield n; n -= 1
///     let countdown = unfold(3, |n| async move { (n > 0).then(|| (n, n - 1)) });
///     assert_eq!(countdown.collect::<Vec<u32>>().await, [3, 2, 1]);
/// });
/// ```
pub fn unfold<St, F, Fut, T>(state: St, step: F) -> Unfold<St, F, Fut>
where
    F: FnMut(St) -> Fut,
    Fut: Future<Output = Option<(T, St)>>,
{
    Unfold {
        state: Some(state),
        step,
        in_flight: None,
    }
}

/// Stream returned by [`unfold`].
#[must_use = "streams do nothing unless polled"]
pub struct Unfold<St, F, Fut> {
    /// The state for the next step; `None` while a step runs or once ended.
    state: Option<St>,
    step: F,
    /// The running step, if any.
    in_flight: Option<Pin<Box<Fut>>>,
}

impl<St, F, Fut, T> Stream for Unfold<St, F, Fut>
where
    St: Unpin,
    F: FnMut(St) -> Fut + Unpin,
    Fut: Future<Output = Option<(T, St)>>,
{
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if this.in_flight.is_none() {
            let Some(state) = this.state.take() else {
                return Poll::Ready(None); // ended
            };
            this.in_flight = Some(Box::pin((this.step)(state)));
        }
        let step = this.in_flight.as_mut().expect("a step is in flight");
        let yielded = std::task::ready!(step.as_mut().poll(cx));
        this.in_flight = None;
        Poll::Ready(yielded.map(|(item, next)| {
            this.state = Some(next);
            item
        }))
    }
}

impl<St: fmt::Debug, F, Fut> fmt::Debug for Unfold<St, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unfold")
            .field("state", &self.state)
            .field("is_stepping", &self.in_flight.is_some())
            .finish()
    }
}

/// Future returned by [`StreamExt::next`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}

/// Stream returned by [`StreamExt::map`].
#[must_use = "streams do nothing unless polled"]
pub struct Map<S, F> {
    stream: S,
    f: F,
}

impl<S, F, T> Stream for Map<S, F>
where
    S: Stream + Unpin,
    F: FnMut(S::Item) -> T + Unpin,
{
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_next(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some((this.f)(item))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S: fmt::Debug, F> fmt::Debug for Map<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map").field("stream", &self.stream).finish()
    }
}

/// Stream returned by [`StreamExt::filter`].
#[must_use = "streams do nothing unless polled"]
pub struct Filter<S, P> {
    stream: S,
    predicate: P,
}

impl<S, P> Stream for Filter<S, P>
where
    S: Stream + Unpin,
    P: FnMut(&S::Item) -> bool + Unpin,
{
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        // Skipping rejected items that are already available is bounded by
        // the inner stream: it returns Pending when it has nothing ready.
        loop {
            match Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Ready(Some(item)) if (this.predicate)(&item) => {
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(Some(_rejected)) => continue,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.stream.size_hint().1)
    }
}

impl<S: fmt::Debug, P> fmt::Debug for Filter<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("stream", &self.stream)
            .finish()
    }
}

/// Stream returned by [`StreamExt::take`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Take<S> {
    stream: S,
    /// Items still to yield; INV-1: zero means the inner stream is not polled.
    remaining: usize,
}

impl<S: Stream + Unpin> Stream for Take<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None); // INV-1
        }
        let item = std::task::ready!(Pin::new(&mut self.stream).poll_next(cx));
        match item {
            Some(item) => {
                self.remaining -= 1;
                Poll::Ready(Some(item))
            }
            None => {
                self.remaining = 0;
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.stream.size_hint();
        let high = high.map_or(self.remaining, |high| high.min(self.remaining));
        (low.min(self.remaining), Some(high))
    }
}

/// Future returned by [`StreamExt::collect`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Collect<S, C> {
    stream: S,
    collection: C,
}

impl<S, C> Future for Collect<S, C>
where
    S: Stream + Unpin,
    C: Default + Extend<S::Item> + Unpin,
{
    type Output = C;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        let this = &mut *self;
        loop {
            match std::task::ready!(Pin::new(&mut this.stream).poll_next(cx)) {
                Some(item) => this.collection.extend(Some(item)),
                None => return Poll::Ready(std::mem::take(&mut this.collection)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, YieldTimes};

    /// A stream that returns Pending (after waking itself) before each item.
    struct Trickle {
        items: std::iter::Copied<std::slice::Iter<'static, u32>>,
        ready: bool,
    }

    impl Stream for Trickle {
        type Item = u32;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
            if !self.ready {
                self.ready = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.ready = false;
            Poll::Ready(self.items.next())
        }
    }

    fn trickle(items: &'static [u32]) -> Trickle {
        Trickle {
            items: items.iter().copied(),
            ready: false,
        }
    }

    /// Adapters are `Send`/`Sync`/`Unpin` when their parts are.
    #[test]
    fn adapters_have_the_expected_auto_traits() {
        fn send_sync_unpin<T: Send + Sync + Unpin>() {}
        type Numbers = Iter<std::ops::Range<u32>>;
        send_sync_unpin::<Numbers>();
        send_sync_unpin::<Map<Numbers, fn(u32) -> u64>>();
        send_sync_unpin::<Filter<Numbers, fn(&u32) -> bool>>();
        send_sync_unpin::<Take<Numbers>>();
        send_sync_unpin::<Collect<Numbers, Vec<u32>>>();
        send_sync_unpin::<Next<'static, Numbers>>();
    }

    #[test]
    fn next_yields_every_item_then_none() {
        let mut stream = trickle(&[1, 2]);
        let seen = block_on(async {
            let mut seen = Vec::new();
            while let Some(item) = stream.next().await {
                seen.push(item);
            }
            seen
        });
        assert_eq!(seen, vec![1, 2]);
        assert_eq!(block_on(stream.next()), None);
    }

    #[test]
    fn map_filter_take_collect_compose_over_a_pending_stream() {
        let out: Vec<String> = block_on(
            trickle(&[1, 2, 3, 4, 5, 6, 7])
                .filter(|n| n % 2 == 1)
                .map(|n| format!("#{n}"))
                .take(3)
                .collect(),
        );
        assert_eq!(out, vec!["#1", "#3", "#5"]);
    }

    #[test]
    fn take_stops_polling_an_endless_stream() {
        let first: Vec<u64> = block_on(iter(0..).take(4).collect());
        assert_eq!(first, vec![0, 1, 2, 3]);
    }

    #[test]
    fn unfold_yields_each_step_then_ends_and_stays_ended() {
        let mut pages = unfold(1u32, |page| async move {
            YieldTimes(1).await;
            (page <= 3).then(|| (format!("page {page}"), page + 1))
        });
        let seen: Vec<String> = block_on(async {
            let mut seen = Vec::new();
            while let Some(page) = pages.next().await {
                seen.push(page);
            }
            seen
        });
        assert_eq!(seen, ["page 1", "page 2", "page 3"]);
        assert_eq!(block_on(pages.next()), None, "an ended unfold stays ended");
    }

    #[test]
    fn take_of_zero_yields_nothing() {
        let none: Vec<u8> = block_on(iter([1, 2]).take(0).collect());
        assert!(none.is_empty());
    }

    #[test]
    fn collect_into_a_string_extends_it() {
        let word: String = block_on(iter(['w', 'e', 'f', 't']).collect());
        assert_eq!(word, "weft");
    }
}
