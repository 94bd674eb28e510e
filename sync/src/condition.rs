//! Summary: `Condition` (asyncio.Condition) — wait for a notification while
//! temporarily giving up a [`Lock`].
//!
//! Role: a [`WaitList`] of waiting tasks under its own mutex. `wait` takes
//! a [`LockGuard`], queues, releases the lock, waits for a notification and
//! re-acquires the same lock.
//!
//! # Design
//!
//! Like `std::sync::Condvar`, a `Condition` is not bound to one lock: it
//! works with the guard of any `Lock<T>` (asyncio binds one lock per
//! condition; see the deviations table in `lib.rs`). The waiter is queued
//! *before* the lock is released, so a `notify` issued by the next lock
//! holder can never slip in between and be lost. A notification is a grant
//! in the waiter's node, so `notify(n)` wakes exactly `n` queued waiters, and
//! a notify with nobody queued is not remembered (INV-1).
//!
//! # Invariants
//!
//! - INV-1: a notification exists only as a Granted waiter node; `notify`
//!   never stores a count.
//! - INV-2: a waiter dropped after it was notified but before it observed
//!   the notification passes it to the next queued waiter (CPython's rule).
//!
//! # Concurrency
//!
//! The waitlist protocol of `waitlist.rs`; "resource" = a notification.

use crate::lock::{Lock, LockGuard};
use crate::loom::Mutex;
use crate::waitlist::{Grant, WaitList, WaiterKey, WakeList};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets tasks wait, with a lock released, until another task notifies them
/// (asyncio.Condition).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_sync::{Condition, Lock};
/// smol::block_on(async {
///     let state = Arc::new((Lock::new(false), Condition::new()));
///     let other = state.clone();
///     let waiter = smol::spawn(async move {
///         let (lock, cond) = &*other;
///         let guard = cond.wait_for(lock.lock().await, |ready| *ready).await;
///         assert!(*guard);
///     });
///     let (lock, cond) = &*state;
///     *lock.lock().await = true;
///     cond.notify_all();
///     waiter.await;
/// });
/// ```
pub struct Condition {
    waiters: Mutex<WaitList<()>>,
}

impl Condition {
    /// A condition with nobody waiting.
    pub fn new() -> Self {
        Condition {
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Releases the lock held by `guard`, waits for a notification, then
    /// re-acquires the same lock and returns its new guard.
    ///
    /// As with every condition variable, re-check the awaited state after
    /// waking (or use [`wait_for`](Condition::wait_for)): another task may
    /// have changed it before the lock was re-acquired.
    ///
    /// Cancel-safe: if dropped after being notified, the notification goes
    /// to another waiter (INV-2); the lock is not held once it is dropped.
    pub async fn wait<'a, T: ?Sized>(&self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        let lock: &'a Lock<T> = LockGuard::source(&guard);
        let mut notified = Notified {
            condition: self,
            key: None,
        };
        // Queue while still holding the lock, so no notify can be missed.
        poll_fn(|cx| {
            notified.key = Some(self.waiters.lock().push_back((), cx.waker()));
            Poll::Ready(())
        })
        .await;
        drop(guard);
        notified.await;
        // INV-2 also covers the re-acquire: dropped before it has the lock,
        // this waiter has consumed a notification it never acted on.
        let mut pass_on = PassOnIfDropped {
            condition: self,
            is_armed: true,
        };
        let guard = lock.lock().await;
        pass_on.is_armed = false;
        guard
    }

    /// Waits until `predicate` returns true for the locked value; checks it
    /// first, and again after each notification, always under the lock.
    pub async fn wait_for<'a, T: ?Sized, P>(
        &self,
        mut guard: LockGuard<'a, T>,
        mut predicate: P,
    ) -> LockGuard<'a, T>
    where
        P: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiters, oldest first. Not remembered if nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_sync::{Condition, Lock};
    /// # smol::block_on(async {
    /// let state = Arc::new((Lock::new(0), Condition::new()));
    /// let (lock, cond) = &*state;
    /// cond.notify(3); // nobody waits: nothing happens, nothing is remembered
    /// let waiter = smol::spawn({
    ///     let state = state.clone();
    ///     async move {
    ///         let (lock, cond) = &*state;
    ///         *cond.wait_for(lock.lock().await, |n| *n > 0).await
    ///     }
    /// });
    /// *lock.lock().await = 1;
    /// cond.notify(1);
    /// assert_eq!(waiter.await, 1);
    /// # });
    /// ```
    pub fn notify(&self, n: usize) {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        for _ in 0..n {
            if waiters.grant_front(&mut wakes).is_none() {
                break;
            }
        }
        drop(waiters);
        wakes.wake_all();
    }

    /// Wakes the oldest waiter, if any.
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every current waiter.
    pub fn notify_all(&self) {
        let mut wakes = WakeList::new();
        self.waiters.lock().grant_all(&mut wakes);
        wakes.wake_all();
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.lock().waiting())
            .finish()
    }
}

/// Armed while [`Condition::wait`] re-acquires the lock after it was
/// notified; if the wait is dropped then, another waiter is notified instead
/// (CPython's `Condition.wait` does the same; the extra wakeup may be
/// spurious, which condition variables allow).
struct PassOnIfDropped<'a> {
    condition: &'a Condition,
    is_armed: bool,
}

impl Drop for PassOnIfDropped<'_> {
    fn drop(&mut self) {
        if self.is_armed {
            self.condition.notify(1);
        }
    }
}

/// The "wait for a notification" step of [`Condition::wait`].
struct Notified<'a> {
    condition: &'a Condition,
    key: Option<WaiterKey>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::budget::budgeted(cx, |cx| {
            let key = self.key.expect("Notified is queued before it is polled");
            let mut waiters = self.condition.waiters.lock();
            match waiters.poll(key, cx.waker()) {
                Grant::Waiting => Poll::Pending,
                Grant::Granted | Grant::Closed => {
                    waiters.remove(key);
                    drop(waiters);
                    self.key = None;
                    Poll::Ready(())
                }
            }
        })
    }
}

impl Drop for Notified<'_> {
    /// INV-2: a notification this waiter never observed goes to the next.
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut waiters = self.condition.waiters.lock();
        if let (Grant::Granted, ()) = waiters.remove(key) {
            waiters.grant_front(&mut wakes);
        }
        drop(waiters);
        wakes.wake_all();
    }
}
