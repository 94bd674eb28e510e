//! `Lock` behaviour, after CPython's `test_locks.py` `LockTests`, plus FIFO
//! order, no barging and cancel hand-off.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker};
use std::pin::pin;
use std::sync::Arc;
use weft_sync::Lock;

/// A fresh lock is unlocked; locking and dropping the guard round-trips.
#[test]
fn lock_then_drop_guard_unlocks() {
    let lock = Lock::new(5);
    assert!(!lock.is_locked());
    block_on(async {
        let mut guard = lock.lock().await;
        assert!(lock.is_locked());
        *guard += 1;
    });
    assert!(!lock.is_locked());
    assert_eq!(lock.into_inner(), 6);
}

/// Waiters get the lock in the order they asked for it (test_acquire).
#[test]
fn waiters_acquire_in_fifo_order() {
    let lock = Lock::new(Vec::new());
    let guard = lock.try_lock().unwrap();
    let mut first = pin!(async { lock.lock().await.push(1) });
    let mut second = pin!(async { lock.lock().await.push(2) });
    let mut third = pin!(async { lock.lock().await.push(3) });
    assert!(poll_once(third.as_mut()).is_pending());
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    drop(guard);
    // Polling out of order must not matter: the queue order was 3, 1, 2.
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(third.as_mut()).is_ready());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(first.as_mut()).is_ready());
    assert!(poll_once(second.as_mut()).is_ready());
    assert_eq!(*lock.try_lock().unwrap(), [3, 1, 2]);
}

/// `try_lock` does not barge past queued waiters, even right after a release.
#[test]
fn try_lock_fails_while_waiters_are_queued() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    let mut waiter = pin!(lock.lock());
    assert!(poll_once(waiter.as_mut()).is_pending());
    drop(guard);
    assert!(
        lock.try_lock().is_none(),
        "the lock belongs to the queued waiter"
    );
    assert!(poll_once(waiter.as_mut()).is_ready());
}

/// A waiter cancelled before the lock is released never gets it
/// (test_acquire_cancel); the lock stays usable.
#[test]
fn cancelled_waiter_does_not_take_the_lock() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    {
        let mut waiter = pin!(lock.lock());
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    drop(guard);
    assert!(!lock.is_locked());
    assert!(lock.try_lock().is_some());
}

/// A waiter handed the lock and cancelled before it ran passes the lock to
/// the next waiter (test_cancel_race, test_cancel_release_race).
#[test]
fn waiter_cancelled_after_its_wake_passes_the_lock_on() {
    let lock = Lock::new(());
    let guard = lock.try_lock().unwrap();
    let (a_wakes, a_waker) = CountingWaker::new();
    let (b_wakes, b_waker) = CountingWaker::new();
    let mut a = Box::pin(lock.lock());
    let mut b = pin!(lock.lock());
    assert!(poll_with(a.as_mut(), &a_waker).is_pending());
    assert!(poll_with(b.as_mut(), &b_waker).is_pending());
    drop(guard);
    assert_eq!((a_wakes.count(), b_wakes.count()), (1, 0));
    drop(a);
    assert_eq!(b_wakes.count(), 1, "the hand-off must wake the next waiter");
    assert!(poll_with(b.as_mut(), &b_waker).is_ready());
}

/// A cancelled waiter in the middle of the queue is skipped (test_fifo_cancel).
#[test]
fn cancelled_waiter_in_the_middle_is_skipped() {
    let lock = Lock::new(0);
    let guard = lock.try_lock().unwrap();
    let mut a = pin!(async { *lock.lock().await += 1 });
    let mut b = Box::pin(async { *lock.lock().await += 10 });
    let mut c = pin!(async { *lock.lock().await += 100 });
    for poll in [
        poll_once(a.as_mut()),
        poll_once(b.as_mut()),
        poll_once(c.as_mut()),
    ] {
        assert!(poll.is_pending());
    }
    drop(b);
    drop(guard);
    assert!(poll_once(c.as_mut()).is_pending());
    assert!(poll_once(a.as_mut()).is_ready());
    assert!(poll_once(c.as_mut()).is_ready());
    assert_eq!(*lock.try_lock().unwrap(), 101);
}

/// `lock_owned` gives a `'static` guard that keeps the lock alive.
#[test]
fn owned_guard_outlives_the_borrow_and_unlocks_on_drop() {
    let lock = Arc::new(Lock::new(String::from("a")));
    let mut guard = block_on(lock.clone().lock_owned());
    guard.push('b');
    assert!(lock.is_locked());
    let handle = std::thread::spawn(move || drop(guard));
    handle.join().unwrap();
    assert_eq!(&*block_on(lock.lock()), "ab");
}

/// `get_mut` and `into_inner` need no locking.
#[test]
fn get_mut_and_into_inner_bypass_the_lock() {
    let mut lock = Lock::new(vec![1]);
    lock.get_mut().push(2);
    assert_eq!(lock.into_inner(), [1, 2]);
}

/// `Debug` shows the value, or that the lock is held (test_repr).
#[test]
fn debug_shows_value_or_locked() {
    let lock = Lock::new(7);
    assert_eq!(format!("{lock:?}"), "Lock { value: 7 }");
    let _guard = lock.try_lock().unwrap();
    assert_eq!(format!("{lock:?}"), "Lock { value: <locked> }");
}
