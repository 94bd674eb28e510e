//! Summary: a one-shot channel: one value, from one `Sender` to one `Receiver`
//! (the Rust form of awaiting an asyncio `Future` that another task resolves).
//!
//! Role: [`channel`] creates both halves around one shared slot; the
//! `Receiver` is itself the future.
//!
//! # Design
//!
//! One waiter at most, so the slot holds a single `Option<Waker>` instead of
//! a `WaitList`. The slot is a small state under a mutex rather than an
//! atomic state word: a oneshot handles one value, so a single uncontended
//! lock per operation is cheap, and the whole protocol stays safe code.
//!
//! # Invariants
//!
//! - INV-1: `value` is set at most once, by `send`, and only while the
//!   receiver is alive; it is taken at most once, by the receiver.
//! - INV-2: the receiver's waker is woken when the value arrives or the
//!   sender is dropped, whichever happens first.
//!
//! # Concurrency
//!
//! ```text
//!   receiver (poll)                        sender (send / drop)
//!   R1. lock the slot                      S1. lock the slot
//!   R2. value there? take it, Ready(Ok)    S2. receiver gone? return the value
//!   R3. sender gone? Ready(Err)            S3. store the value (or mark gone)
//!   R4. store waker, unlock, Pending       S4. take the waker, unlock, wake it
//! ```

use crate::loom::{Arc, Mutex};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

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
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        is_sender_alive: true,
        is_receiver_alive: true,
    }));
    (Sender { slot: slot.clone() }, Receiver { slot })
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    is_sender_alive: bool,
    is_receiver_alive: bool,
}

/// Sends the one value; dropping it without sending makes the receiver
/// return [`RecvError`].
pub struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// A future resolving to the sent value, or to [`RecvError`] if the sender
/// was dropped without sending.
#[must_use = "futures do nothing unless polled"]
pub struct Receiver<T> {
    slot: Arc<Mutex<Slot<T>>>,
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
    pub fn send(self, value: T) -> Result<(), T> {
        let mut slot = self.slot.lock();
        if !slot.is_receiver_alive {
            return Err(value);
        }
        slot.value = Some(value);
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
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
        !self.slot.lock().is_receiver_alive
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut slot = self.slot.lock();
        slot.is_sender_alive = false;
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
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
        let mut slot = self.slot.lock();
        match slot.value.take() {
            Some(value) => Ok(Some(value)),
            None if slot.is_sender_alive => Ok(None),
            None => Err(RecvError),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if !slot.is_sender_alive {
            return Poll::Ready(Err(RecvError));
        }
        match &slot.waker {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut slot = self.slot.lock();
        slot.is_receiver_alive = false;
        // Drop an unreceived value after unlocking, so its destructor never
        // runs under the slot's lock.
        let value = slot.value.take();
        drop(slot);
        drop(value);
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
