//! Summary: a one-shot channel: one value, from one `Sender` to one `Receiver`
//! (the Rust form of awaiting an asyncio `Future` that another task resolves).
//!
//! Role: [`channel`] creates both halves around one shared slot; the
//! `Receiver` is itself the future.
//!
//! # Design
//!
//! One waiter at most, so the slot holds a single waker cell instead of a
//! `WaitList`, and one value cell. Who may touch which cell is decided by a
//! one-byte state word (`State`) updated with single atomic operations: no
//! mutex. A oneshot is allocated per parked task in the `idle_task_mem` and
//! `ping_pong` benchmarks, so its size counts: with `T = ()` the shared
//! allocation is 40 bytes (`Arc` counts 16, waker 16, value and state 2, with
//! padding), which the allocator serves from a 48-byte chunk; the earlier
//! `Arc<parking_lot::Mutex<Slot>>` was 48 bytes and took a 64-byte chunk
//! (16 bytes more per idle task). This is the one `unsafe` in weft-sync
//! outside `lock.rs`/`rwlock.rs`: two cells whose exclusive
//! access the state word proves, checked by the loom models in
//! `tests/loom.rs` (`loom_oneshot_*`).
//!
//! Rejected: the mutex-guarded slot (safe, but 16 bytes larger per channel,
//! because the mutex byte cannot share the slot's padding); tokio's
//! separate sender waker (for `Sender::closed().await`, which weft's API does
//! not have).
//!
//! # Invariants
//!
//! - INV-1 (value cell): the sender alone may touch it until it sets
//!   `COMPLETE`; from then on the receiver alone, except that a sender
//!   that finds `RX_CLOSED` already set when it completes takes its value
//!   back (the receiver is gone and never touches the cell again).
//! - INV-2 (waker cell): while `RX_WAKER_SET` is clear the receiver alone
//!   may write it. While it is set the receiver and the sender may only read
//!   it (`will_wake`, `wake_by_ref`); the receiver clears the bit before
//!   writing again, and a sender that completed while the bit was set reads
//!   it once, so the receiver never writes once `COMPLETE` is set.
//! - INV-3: `COMPLETE` is set exactly once (by `send` or by dropping the
//!   sender), and `RX_CLOSED` exactly once (by dropping the receiver);
//!   neither is ever cleared. Whether a value was sent is the value cell's
//!   `Option`: after COMPLETE, `None` means the sender was dropped (or the
//!   receiver already took the value).
//! - INV-4: the receiver's latest waker is woken when the sender completes,
//!   unless the receiver is already gone.
//!
//! # State machine (the sender's and the receiver's bits)
//!
//! ```text
//!   sender:   Open --send (value in the cell) or drop: transition_to_complete--> COMPLETE
//!   receiver: no waker --register_waker--> RX_WAKER_SET --unregister_waker--> no waker
//!             (any) --drop: transition_to_rx_closed--> RX_CLOSED
//! ```
//!
//! # Concurrency: register / complete
//!
//! ```text
//!   receiver (poll)                         sender (send / drop)
//!   R1. load; COMPLETE? take the value      S1. send: write the value cell (INV-1)
//!       (Ok) or Err: Ready                  S2. fetch_or COMPLETE
//!   R2. RX_WAKER_SET and the stored waker       (AcqRel: publishes S1, acquires R4)
//!       will_wake ours? Pending             S3. the old state had RX_CLOSED?
//!   R3. RX_WAKER_SET? fetch_and it off;         send takes the value back: Err
//!       COMPLETE came first? go to R1       S4. the old state had RX_WAKER_SET?
//!   R4. write the waker cell (INV-2)            wake_by_ref the stored waker
//!   R5. fetch_or RX_WAKER_SET (AcqRel);
//!       COMPLETE came first? go to R1,
//!       else Pending
//! ```
//!
//! Taking the value in R1 spends one unit of the cooperative budget first
//! (`budget.rs`); with none left, the receiver wakes its task and returns
//! `Pending` without taking it, and the next poll comes back to R1. A poll
//! that waits spends nothing.
//!
//! Why no wakeup is lost: S2 and R5 are read-modify-writes of one word, so
//! one is ordered first. If S2 came first, R5 sees COMPLETE and the receiver
//! finishes at once; if R5 came first, S2 sees RX_WAKER_SET and S4 wakes the
//! waker written in R4. R3 racing S2 is the same argument with R3 in place of
//! R5: if S2 came first R3 sees COMPLETE and never writes the cell, which S4
//! may be reading.
//!
//! # References
//!
//! tokio `sync/oneshot.rs` (the same state-word protocol, with a second
//! waker for the sender).

use crate::loom::{Arc, AtomicU8, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

/// The sender is done: it sent a value or was dropped. Set once, by
/// [`State::transition_to_complete`] (INV-3).
const COMPLETE: u8 = 1 << 0;
/// The waker cell holds the receiver's waker (INV-2). Set by
/// [`State::register_waker`], cleared by [`State::unregister_waker`].
const RX_WAKER_SET: u8 = 1 << 1;
/// The receiver was dropped. Set once, by [`State::transition_to_rx_closed`]
/// (INV-3).
const RX_CLOSED: u8 = 1 << 2;
/// A new channel: no bit set (both halves alive, nothing sent, no waker).
const INITIAL: u8 = 0;

/// One observed value of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot(u8);

impl Snapshot {
    fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    fn is_waker_set(self) -> bool {
        self.0 & RX_WAKER_SET != 0
    }

    fn is_rx_closed(self) -> bool {
        self.0 & RX_CLOSED != 0
    }
}

/// The state word; its methods are the only writers (see the module doc).
#[derive(Debug)]
struct State(AtomicU8);

impl State {
    fn new() -> Self {
        State(AtomicU8::new(INITIAL))
    }

    /// Acquire: pairs with the Release half of S2, so a COMPLETE seen here
    /// makes the value written in S1 visible.
    fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// S2; returns the state before. AcqRel: Release publishes the value
    /// (S1), Acquire sees the waker written in R4.
    fn transition_to_complete(&self) -> Snapshot {
        let before = Snapshot(self.0.fetch_or(COMPLETE, AcqRel));
        debug_assert!(!before.is_complete(), "a oneshot completes once (INV-3)");
        before
    }

    /// R5; returns the state before. AcqRel: Release publishes the waker
    /// (R4) to S4, Acquire sees the value if COMPLETE came first.
    fn register_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(RX_WAKER_SET, AcqRel))
    }

    /// R3; returns the state before. AcqRel: as `register_waker`.
    fn unregister_waker(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!RX_WAKER_SET, AcqRel))
    }

    /// The receiver's drop; returns the state before. AcqRel: Acquire so a
    /// value sent before is visible to its drop, Release so S3 happens after.
    fn transition_to_rx_closed(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(RX_CLOSED, AcqRel))
    }
}

/// The allocation both halves share.
struct Inner<T> {
    state: State,
    /// # Invariant
    /// INV-1: who may access it is decided by [`COMPLETE`] and [`RX_CLOSED`].
    value: UnsafeCell<Option<T>>,
    /// # Invariant
    /// INV-2: who may access it is decided by [`RX_WAKER_SET`] and [`COMPLETE`].
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are only accessed as INV-1 and INV-2 allow, so a `T` is
// moved from the sending thread to the receiving one (hence `T: Send`) and
// never shared; the waker is `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`: `&Inner` never hands out `&T`, only moves a `T` out.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// R1: the receiver's side once COMPLETE is seen.
    fn take_value(&self) -> Result<T, RecvError> {
        // SAFETY: INV-1: COMPLETE is set and the receiver (our caller) is
        // alive, so the sender no longer touches the value cell.
        let value = self.value.with_mut(|value| unsafe { (*value).take() });
        value.ok_or(RecvError)
    }

    /// R2: true if the stored waker would wake the same task as `waker`.
    fn stored_waker_will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: INV-2: RX_WAKER_SET is set (checked by the caller), so the
        // cell is only read, by us and perhaps by S4.
        self.waker
            .with(|stored| unsafe { &*stored })
            .as_ref()
            .is_some_and(|stored| stored.will_wake(waker))
    }
}
/// Creates a connected [`Sender`] and [`Receiver`].
///
/// # Examples
///
/// ```
/// use weft_sync::oneshot;
/// smol::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     tx.send(7).unwrap();
///     assert_eq!(rx.await, Ok(7));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: State::new(),
        value: UnsafeCell::new(None),
        waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// Sends the one value; dropping it without sending makes the receiver
/// return [`RecvError`].
///
/// The halves are `Send` and `Sync` only when `T` is `Send`, since the value
/// moves between threads:
///
/// ```compile_fail
/// fn assert_send<S: Send>(_: &S) {}
/// let (tx, _rx) = weft_sync::oneshot::channel::<std::rc::Rc<u8>>();
/// assert_send(&tx);
/// ```
///
/// ```compile_fail
/// fn assert_sync<S: Sync>(_: &S) {}
/// let (_tx, rx) = weft_sync::oneshot::channel::<std::rc::Rc<u8>>();
/// assert_sync(&rx);
/// ```
pub struct Sender<T> {
    /// `None` only inside `send`, after completing, so `Drop` does not
    /// complete a second time (INV-3).
    inner: Option<Arc<Inner<T>>>,
}

/// A future resolving to the sent value, or to [`RecvError`] if the sender
/// was dropped without sending.
#[must_use = "futures do nothing unless polled"]
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// The sender was dropped without sending a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending a value")
    }
}

impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// Sends `value` (S1–S4).
    ///
    /// # Errors
    ///
    /// Gives `value` back if the receiver was already dropped.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self
            .inner
            .take()
            .expect("a sender holds its channel until send or drop");
        // SAFETY: INV-1: COMPLETE is not set yet (only this sender sets it,
        // INV-3), so the sender alone may write the value cell (S1).
        inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
        let before = inner.state.transition_to_complete();
        if before.is_rx_closed() {
            // S3. SAFETY: INV-1: the receiver closed before S2, so it never
            // touches the value cell again.
            let value = inner.value.with_mut(|cell| unsafe { (*cell).take() });
            return Err(value.expect("the value written in S1 is still there"));
        }
        wake_if_registered(&inner, before);
        Ok(())
    }

    /// True once the receiver was dropped: a `send` would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_sync::oneshot::channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .map_or(true, |inner| inner.state.load().is_rx_closed())
    }
}

impl<T> Drop for Sender<T> {
    /// Completes without a value, so the receiver returns [`RecvError`].
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let before = inner.state.transition_to_complete();
            wake_if_registered(&inner, before);
        }
    }
}

/// S4: wakes the receiver if it registered a waker before the sender
/// completed and is still there (INV-4).
fn wake_if_registered<T>(inner: &Inner<T>, before: Snapshot) {
    if before.is_waker_set() && !before.is_rx_closed() {
        inner.waker.with(|waker| {
            // SAFETY: INV-2: RX_WAKER_SET was set when COMPLETE was set, so
            // the receiver will not write the cell again; we only read it.
            if let Some(waker) = unsafe { &*waker } {
                waker.wake_by_ref();
            }
        });
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived, without waiting.
    ///
    /// # Errors
    ///
    /// `Ok(None)` while the value has not arrived; `Err(RecvError)` if the
    /// sender is gone without sending.
    pub fn try_recv(&mut self) -> Result<Option<T>, RecvError> {
        if self.inner.state.load().is_complete() {
            self.inner.take_value().map(Some)
        } else {
            Ok(None)
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// R1–R5 of the module doc. Only taking the value spends the
    /// cooperative budget: a poll that waits returns `Pending` anyway, so it
    /// never asks for a unit that it would have to give back.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &*self.inner;
        let mut state = inner.state.load();
        if state.is_complete() {
            return crate::budget::spend_then(cx, || inner.take_value());
        }
        if state.is_waker_set() {
            if inner.stored_waker_will_wake(cx.waker()) {
                return Poll::Pending;
            }
            state = inner.state.unregister_waker();
            if state.is_complete() {
                return crate::budget::spend_then(cx, || inner.take_value());
            }
        }
        // SAFETY: INV-2: RX_WAKER_SET is clear (it was, or R3 cleared it) and
        // only the receiver sets it, so no one else touches the cell (R4).
        inner
            .waker
            .with_mut(|cell| unsafe { *cell = Some(cx.waker().clone()) });
        if inner.state.register_waker().is_complete() {
            return crate::budget::spend_then(cx, || inner.take_value());
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    /// Marks the receiver gone, so a later `send` gets its value back. A
    /// value already sent is dropped with the shared allocation (now, if the
    /// sender is gone too).
    fn drop(&mut self) {
        self.inner.state.transition_to_rx_closed();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn shared_allocation_of_a_unit_channel_stays_small() {
        // With `Arc`'s two counts this is 40 bytes: a 48-byte malloc chunk
        // (see the module doc). Growing it costs every idle task.
        assert_eq!(std::mem::size_of::<Inner<()>>(), 24);
    }
}
