//! A fixed set of child futures, pinned in one allocation, polled only when woken.
//!
//! # Summary
//! [`Children`] is the engine under `gather`, `try_gather` and `race`: it owns
//! N futures in one `Pin<Box<[Option<F>]>>` and, on each poll, polls only the
//! children the [ready list](super::ready) says were woken.
//!
//! # Role
//! Called in by: `gather.rs` and `race.rs`, which decide what to do with each
//! output. Calls out to: the child futures and `ready.rs`.
//!
//! # Design
//! One boxed slice instead of one `Box::pin` per child: N futures cost one
//! allocation (plus one small waker for each child that pends), and they sit
//! next to each other in memory. A finished child is replaced by `None` in place, so its resources
//! are released as soon as it completes, not when the whole set is.
//!
//! Projecting `Pin<&mut [Option<F>]>` to one element has no safe API in
//! `std`, so [`pinned_slot`] holds the one `unsafe` block of this module
//! (a design note, as STYLE §4.2 asks for `unsafe` outside the listed
//! modules). The alternatives were one heap allocation per child, or an
//! `F: Unpin` bound that would rule out `async fn` futures.
//!
//! # Invariants
//! - INV-1 (pinning): the elements of `futures` never move. The boxed slice is
//!   never reallocated, reordered, swapped or moved out of; an element is only
//!   replaced through `Pin::set`, which drops it in place; and the whole slice
//!   is only ever dropped (by [`Children::cancel_all`] or by `Drop`), never
//!   moved out of its box.
//! - INV-2: `remaining` is the number of `Some` elements.
//!
//! # Concurrency
//! `Children` is owned by one task and polled from it alone; only its child
//! wakers cross threads (see `ready.rs`).

use super::ready::{ReadyList, Step};
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// N futures pinned in one allocation with a ready list over them.
pub(crate) struct Children<F> {
    /// The children; `None` once finished or cancelled.
    ///
    /// # Invariant
    /// INV-1: elements are never moved; see the module doc.
    futures: Pin<Box<[Option<F>]>>,
    ready: ReadyList,
    /// INV-2: number of children still running.
    remaining: usize,
}

impl<F: Future> Children<F> {
    /// Takes every future from `futures`; all of them are polled on the first
    /// poll.
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Children<F> {
        let futures: Box<[Option<F>]> = futures.into_iter().map(Some).collect();
        let ready = ReadyList::with_slots(futures.len());
        Children {
            remaining: futures.len(),
            futures: Box::into_pin(futures),
            ready,
        }
    }

    /// How many children there were at construction.
    pub(crate) fn len(&self) -> usize {
        self.futures.len()
    }

    /// Drops every child still running.
    pub(crate) fn cancel_all(&mut self) {
        // Dropping the pinned box drops the futures in place (INV-1).
        self.futures = Box::into_pin(Box::new([]));
        self.remaining = 0;
    }

    /// Polls every child that was woken since the last call, handing each
    /// output to `on_output(index, output)`.
    ///
    /// Returns `Ready` once every child has finished, or as soon as
    /// `on_output` returns `Break` (the caller then usually calls
    /// [`Children::cancel_all`]); `Pending` otherwise, with the parent's
    /// waker registered with every child that is still running.
    pub(crate) fn poll_woken(
        &mut self,
        cx: &mut Context<'_>,
        mut on_output: impl FnMut(usize, F::Output) -> ControlFlow<()>,
    ) -> Poll<()> {
        if self.remaining == 0 {
            return Poll::Ready(());
        }
        let futures = &mut self.futures;
        let remaining = &mut self.remaining;
        let stopped = self.ready.poll_woken(cx, |index, waker| {
            let mut slot = pinned_slot(futures, index);
            // A child that finished may still be woken by a stale waker.
            let Some(future) = slot.as_mut().as_pin_mut() else {
                return Step::Finished;
            };
            match future.poll(&mut Context::from_waker(waker)) {
                Poll::Pending => Step::Pending,
                Poll::Ready(output) => {
                    slot.set(None);
                    *remaining -= 1;
                    match on_output(index, output) {
                        ControlFlow::Continue(()) => Step::Finished,
                        ControlFlow::Break(()) => Step::Stop(()),
                    }
                }
            }
        });
        if stopped.is_some() || self.remaining == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Child slot `index` of `futures`, pinned.
fn pinned_slot<F>(futures: &mut Pin<Box<[Option<F>]>>, index: usize) -> Pin<&mut Option<F>> {
    // SAFETY: INV-1: the element is never moved once in the box; the returned
    // `Pin` only lets callers poll it or replace it in place with `Pin::set`,
    // which drops the old value where it lies.
    unsafe { futures.as_mut().map_unchecked_mut(|all| &mut all[index]) }
}
