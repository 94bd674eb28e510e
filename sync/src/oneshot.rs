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
//! mutex. The same byte is the block's reference count: there are only
//! two references, one per half, so the count is one bit per half
//! (`TX_RELEASED`, `RX_CLOSED`), and the half whose bit goes in second frees
//! the block (INV-5). A oneshot is allocated per parked task in the
//! `idle_task_mem`, `ping_pong` and `wait_memory` benchmarks, so its size
//! counts: the shared block is the state byte, the value cell and the waker
//! cell, 40 bytes for `T = u64` (a 48-byte malloc chunk) and 24 for `T = ()`
//! (a 32-byte chunk). In an `Arc` it was 16 bytes more (the strong and
//! the weak count), a 64-byte chunk for `u64` and a 48-byte one for `()`;
//! the earlier `Arc<parking_lot::Mutex<Slot>>` took a 64-byte chunk even
//! for `()`. This
//! is the one `unsafe` in weft-sync outside `lock.rs`/`rwlock.rs`: two cells
//! whose exclusive access the state word proves, and the block's lifetime,
//! checked by the loom models in `tests/loom.rs` (`loom_oneshot_*`, one of
//! them with both halves dropped at once) and by a race test under
//! AddressSanitizer (`tests/oneshot.rs`).
//!
//! Rejected: the mutex-guarded slot (safe, but 16 bytes larger per channel,
//! because the mutex byte cannot share the slot's padding); an `Arc` (a
//! weak count nobody uses, 8 bytes that take the block up a size class,
//! and a second atomic step for each half when it lets go); tokio's
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
//! - INV-5 (the block's lifetime): each half owns one reference, and lets
//!   go of it by setting its bit, once: the sender `TX_RELEASED` (with
//!   `COMPLETE` in one step if it has no waker to wake, else after waking
//!   it, even if the wake panics), the receiver `RX_CLOSED`. A half touches the block only before
//!   its own bit is set, except the half whose step finds the other's bit
//!   already set: it holds the last reference, the other half is gone for
//!   good, and it frees the block (dropping what the cells still hold),
//!   once. Every such step is AcqRel, so the free comes after everything the
//!   other half did to the block.
//!
//! # State machine (the sender's and the receiver's bits)
//!
//! ```text
//!   sender:   Open --send (value in the cell) or drop: transition_to_complete--> COMPLETE
//!             (and TX_RELEASED in the same step, unless a live receiver's waker
//!             is set: then wake it, then release: TX_RELEASED)
//!   receiver: no waker --register_waker--> RX_WAKER_SET --unregister_waker--> no waker
//!             (any) --drop: transition_to_rx_closed--> RX_CLOSED
//!   either:   the step that sets TX_RELEASED or RX_CLOSED and finds the
//!             other already set frees the block (INV-5)
//! ```
//!
//! # Concurrency: register / complete
//!
//! ```text
//!   receiver (poll)                         sender (send / drop)
//!   R1. load; COMPLETE? take the value      S1. send: write the value cell (INV-1)
//!       (Ok) or Err: Ready                  S2. set COMPLETE, and TX_RELEASED unless
//!   R2. RX_WAKER_SET and the stored waker       RX_WAKER_SET without RX_CLOSED (one CAS;
//!       will_wake ours? Pending                 AcqRel: publishes S1, acquires R4)
//!   R3. RX_WAKER_SET? fetch_and it off;     S3. the old state had RX_CLOSED?
//!       COMPLETE came first? go to R1           send takes the value back: Err;
//!   R4. write the waker cell (INV-2)            either way free the block (INV-5)
//!   R5. fetch_or RX_WAKER_SET (AcqRel);     S4. the old state had RX_WAKER_SET?
//!       COMPLETE came first? go to R1,          wake_by_ref the stored waker, then
//!       else Pending                            set TX_RELEASED; RX_CLOSED there
//!                                               already? free the block (INV-5)
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

use crate::loom::{AtomicU8, UnsafeCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
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
/// The sender has let go of the block (INV-5). Set once, with COMPLETE by
/// [`State::transition_to_complete`] or after the wake by
/// [`State::release_sender`].
const TX_RELEASED: u8 = 1 << 3;
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

    fn is_tx_released(self) -> bool {
        self.0 & TX_RELEASED != 0
    }

    /// S4 is due: a live receiver's waker was set when the sender completed.
    fn must_wake(self) -> bool {
        self.is_waker_set() && !self.is_rx_closed()
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

    /// S2; returns the state before. Sets TX_RELEASED in the same step
    /// unless S4 is due (the sender still reads the waker, then calls
    /// [`State::release_sender`]). AcqRel: Release publishes the value (S1)
    /// and, for INV-5, everything the sender did; Acquire sees the waker
    /// written in R4, and everything a receiver that closed first did.
    fn transition_to_complete(&self) -> Snapshot {
        let mut current = self.0.load(Acquire);
        loop {
            let before = Snapshot(current);
            debug_assert!(!before.is_complete(), "a oneshot completes once (INV-3)");
            let release = if before.must_wake() { 0 } else { TX_RELEASED };
            match self.0.compare_exchange_weak(
                current,
                current | COMPLETE | release,
                AcqRel,
                Acquire,
            ) {
                Ok(_) => return before,
                Err(actual) => current = actual,
            }
        }
    }

    /// The sender lets go after S4 (INV-5); returns the state before. AcqRel:
    /// Release orders its read of the waker before a receiver's free,
    /// Acquire orders a closed receiver's last steps before ours.
    fn release_sender(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(TX_RELEASED, AcqRel))
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
    /// value sent before is visible to its drop (and, for INV-5, all the
    /// sender did before it released), Release so S3 happens after.
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
    /// Under loom, fails the model if a block is never freed (INV-5).
    #[cfg(loom)]
    _leak: loom::alloc::Track<()>,
}

// SAFETY: the cells are only accessed as INV-1 and INV-2 allow, so a `T` is
// moved from the sending thread to the receiving one (hence `T: Send`) and
// never shared; the waker is `Send + Sync`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as for `Send`: `&Inner` never hands out `&T`, only moves a `T` out.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// A new block, leaked to the two halves (INV-5: each owns a reference).
    fn allocate() -> NonNull<Inner<T>> {
        let inner = Box::new(Inner {
            state: State::new(),
            value: UnsafeCell::new(None),
            waker: UnsafeCell::new(None),
            #[cfg(loom)]
            _leak: loom::alloc::Track::new(()),
        });
        NonNull::from(Box::leak(inner))
    }

    /// Frees the block, dropping what its cells still hold.
    ///
    /// # Safety
    /// INV-5: the caller's step found the other half's bit already set, so
    /// it holds the last reference; `inner` came from [`Inner::allocate`] and
    /// is not used again.
    unsafe fn free(inner: NonNull<Inner<T>>) {
        // SAFETY: as the function's contract: the block is a leaked `Box`
        // that nobody else can reach any more (INV-5).
        drop(unsafe { Box::from_raw(inner.as_ptr()) });
    }

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
    let inner = Inner::allocate();
    (
        Sender {
            inner: Some(inner),
            _owns: PhantomData,
        },
        Receiver {
            inner,
            _owns: PhantomData,
        },
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
    /// The shared block, on which this half owns a reference (INV-5).
    /// `None` only inside `send`, after completing, so `Drop` does not
    /// complete a second time (INV-3).
    inner: Option<NonNull<Inner<T>>>,
    /// The block, and so perhaps a `T`, is dropped through this half.
    _owns: PhantomData<Inner<T>>,
}

/// A future resolving to the sent value, or to [`RecvError`] if the sender
/// was dropped without sending.
#[must_use = "futures do nothing unless polled"]
pub struct Receiver<T> {
    /// The shared block, on which this half owns a reference (INV-5).
    inner: NonNull<Inner<T>>,
    /// The block, and so perhaps a `T`, is dropped through this half.
    _owns: PhantomData<Inner<T>>,
}

// SAFETY: each half reaches the block only through its own reference
// (INV-5), and the block is `Send + Sync` when `T: Send` (see `Inner`): a
// half is then as shareable as the `Arc<Inner<T>>` it used to be.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: as for `Send`: `&Sender` only reads the state word.
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: as for `Send`: `&Receiver` reaches nothing (polling takes `&mut`).
unsafe impl<T: Send> Sync for Receiver<T> {}

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
        let block = self
            .inner
            .take()
            .expect("a sender holds its channel until send or drop");
        // SAFETY: INV-5: the sender has not released its reference yet.
        let inner = unsafe { block.as_ref() };
        // SAFETY: INV-1: COMPLETE is not set yet (only this sender sets it,
        // INV-3), so the sender alone may write the value cell (S1).
        inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
        let before = inner.state.transition_to_complete();
        if before.is_rx_closed() {
            // S3. SAFETY: INV-1: the receiver closed before S2, so it never
            // touches the value cell again.
            let value = inner.value.with_mut(|cell| unsafe { (*cell).take() });
            // SAFETY: INV-5: our step found RX_CLOSED set: the last reference.
            unsafe { Inner::free(block) };
            return Err(value.expect("the value written in S1 is still there"));
        }
        // SAFETY: INV-5: `before` is the state our S2 replaced, and the
        // block is not used after.
        unsafe { wake_and_release(block, before) };
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
        self.inner.map_or(true, |block| {
            // SAFETY: INV-5: a sender holding its block has not released it.
            unsafe { block.as_ref() }.state.load().is_rx_closed()
        })
    }
}

impl<T> Drop for Sender<T> {
    /// Completes without a value, so the receiver returns [`RecvError`].
    fn drop(&mut self) {
        if let Some(block) = self.inner.take() {
            // SAFETY: INV-5: the sender has not released its reference yet.
            let before = unsafe { block.as_ref() }.state.transition_to_complete();
            // SAFETY: INV-5: `before` is the state our S2 replaced, and the
            // block is not used after.
            unsafe { wake_and_release(block, before) };
        }
    }
}

/// After S2: S4 if it is due, then the sender's release; frees the block if
/// the sender turns out to hold the last reference (INV-5).
///
/// # Safety
/// `before` is the state that this sender's `transition_to_complete`
/// replaced, and the caller does not touch `block` afterwards.
unsafe fn wake_and_release<T>(block: NonNull<Inner<T>>, before: Snapshot) {
    let released_in_s2 = !before.must_wake();
    if released_in_s2 {
        if before.is_rx_closed() {
            // SAFETY: INV-5: S2 set TX_RELEASED and found RX_CLOSED already
            // set: ours is the last reference.
            unsafe { Inner::free(block) };
        }
        // Otherwise S2 released the block to the receiver: hands off.
        return;
    }
    // Lets go after the wake, and also if the waker panics (else the
    // block would never be freed).
    let release = ReleaseSender(block);
    // SAFETY: INV-5: S2 did not set TX_RELEASED (S4 was due), so the block
    // is still ours to read.
    let inner = unsafe { block.as_ref() };
    inner.waker.with(|waker| {
        // SAFETY: INV-2: RX_WAKER_SET was set when COMPLETE was set, so
        // the receiver will not write the cell again; we only read it.
        if let Some(waker) = unsafe { &*waker } {
            waker.wake_by_ref();
        }
    });
    drop(release);
}

/// The sender's release after S4 (INV-5), run by its drop.
struct ReleaseSender<T>(NonNull<Inner<T>>);

impl<T> Drop for ReleaseSender<T> {
    fn drop(&mut self) {
        // SAFETY: INV-5: made only by `wake_and_release` after an S2 that
        // left TX_RELEASED clear, so the sender still holds its reference.
        let inner = unsafe { self.0.as_ref() };
        if inner.state.release_sender().is_rx_closed() {
            // SAFETY: INV-5: our release found RX_CLOSED set: the last
            // reference, and the block is not used after.
            unsafe { Inner::free(self.0) };
        }
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
        let inner = self.inner();
        if inner.state.load().is_complete() {
            inner.take_value().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The shared block.
    fn inner(&self) -> &Inner<T> {
        // SAFETY: INV-5: the receiver releases its reference only in its
        // drop, so while it is alive the block is.
        unsafe { self.inner.as_ref() }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// R1–R5 of the module doc. Only taking the value spends the
    /// cooperative budget: a poll that waits returns `Pending` anyway, so it
    /// never asks for a unit that it would have to give back.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner();
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
    /// value already sent is dropped with the shared block (now, if the
    /// sender has let go of it too).
    fn drop(&mut self) {
        if self
            .inner()
            .state
            .transition_to_rx_closed()
            .is_tx_released()
        {
            // SAFETY: INV-5: our step found TX_RELEASED set: the last
            // reference; the receiver is gone after this.
            unsafe { Inner::free(self.inner) };
        }
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
    fn shared_block_stays_small() {
        // The whole allocation (no `Arc` counts around it, INV-5): glibc
        // serves 24 bytes from a 32-byte chunk and 40 from a 48-byte one
        // (see the module doc). Growing it costs every parked receiver.
        assert_eq!(std::mem::size_of::<Inner<()>>(), 24);
        assert_eq!(std::mem::size_of::<Inner<u64>>(), 40);
        // A half is one pointer, as the `Arc` was.
        assert_eq!(std::mem::size_of::<Receiver<u64>>(), 8);
        assert_eq!(std::mem::size_of::<Sender<u64>>(), 8);
    }
}
