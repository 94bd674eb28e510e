//! Summary: `Event` (asyncio.Event) — a flag that tasks can wait to be set.
//!
//! Role: a `bool` and a [`WaitList`] under one mutex. `set` grants every
//! queued waiter; `wait` returns at once if the flag is set.
//!
//! # Design
//!
//! `set` marks each queued waiter Granted before it returns, so a waiter
//! present when `set` ran is released even if `clear` follows before the
//! waiter is polled: the grant lives in the waiter node, not in the flag
//! (asyncio does the same by resolving each waiter's future in `set`).
//!
//! # Invariants
//!
//! - INV-1: while the flag is set, no waiter is queued (`set` grants them
//!   all, and `wait` never queues while it is set).
//! - INV-2: a grant is never handed on: an event wakes everyone, so a
//!   dropped granted waiter owes nothing to the others.
//!
//! # Concurrency
//!
//! The waitlist protocol of `waitlist.rs`, with "resource" = the flag.

use crate::loom::Mutex;
use crate::waitlist::{WaitList, WaiterKey, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A flag tasks can wait on (asyncio.Event).
///
/// # Examples
///
/// ```
/// use weft_sync::Event;
/// smol::block_on(async {
///     let ready = Event::new();
///     assert!(!ready.is_set());
///     ready.set();
///     ready.wait().await; // returns at once: the flag is set
///     ready.clear();
///     assert!(!ready.is_set());
/// });
/// ```
pub struct Event {
    state: Mutex<EventState>,
}

struct EventState {
    is_set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// A new event, not set.
    pub fn new() -> Self {
        Event {
            state: Mutex::new(EventState {
                is_set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Sets the flag and releases every current waiter (INV-1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # smol::block_on(async {
    /// let go = Arc::new(weft_sync::Event::new());
    /// let worker = smol::spawn({
    ///     let go = go.clone();
    ///     async move { go.wait().await; "ran" }
    /// });
    /// go.set();
    /// assert_eq!(worker.await, "ran");
    /// # });
    /// ```
    pub fn set(&self) {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        state.is_set = true;
        state.waiters.grant_all(&mut wakes);
        drop(state);
        wakes.wake_all();
    }

    /// Clears the flag; later `wait` calls block until the next `set`.
    /// Waiters already released by `set` stay released.
    pub fn clear(&self) {
        self.state.lock().is_set = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.lock().is_set
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// Cancel-safe: dropping the future affects no other waiter.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

/// Future of [`Event::wait`].
///
/// 12 bytes on a 64-bit target, aligned to 4: the `&Event` and a 4-byte
/// key with no padding, so that an `async` block holding an `Arc<Event>`
/// and this future is 24 bytes, not 32 (its state tag fits beside the
/// `Arc`, before the future), and every parked waiter carries one.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
#[repr(C, packed(4))]
pub struct EventWait<'a> {
    event: &'a Event,
    /// Set while queued (R3).
    key: Option<WaiterKey>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut state = this.event.state.lock();
            let is_set = state.is_set;
            state
                .waiters
                .poll_broadcast(&mut this.key, is_set, cx.waker())
        })
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // INV-2: nothing to hand on, whatever the state.
            self.event.state.lock().waiters.remove(key);
        }
    }
}

impl fmt::Debug for EventState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventState")
            .field("is_set", &self.is_set)
            .finish_non_exhaustive()
    }
}
