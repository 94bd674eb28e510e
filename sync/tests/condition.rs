//! `Condition`, after CPython's `test_locks.py` `ConditionTests`.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker};
use std::pin::pin;
use std::task::Poll;
use weft_sync::{Condition, Lock};

/// `wait` releases the lock while waiting and holds it again on return (test_wait).
#[test]
fn wait_releases_and_reacquires_the_lock() {
    let lock = Lock::new(0);
    let cond = Condition::new();
    let mut waiter = pin!(async {
        let guard = lock.lock().await;
        let mut guard = cond.wait(guard).await;
        *guard += 1;
    });
    assert!(poll_once(waiter.as_mut()).is_pending());
    assert!(!lock.is_locked(), "waiting must release the lock");
    let guard = lock.try_lock().unwrap();
    cond.notify_one();
    assert!(
        poll_once(waiter.as_mut()).is_pending(),
        "notified, but the lock is still held"
    );
    drop(guard);
    assert!(poll_once(waiter.as_mut()).is_ready());
    assert_eq!(*lock.try_lock().unwrap(), 1);
}

/// `notify(n)` wakes exactly `n` waiters, oldest first (test_notify).
#[test]
fn notify_n_wakes_the_n_oldest_waiters() {
    let lock = Lock::new(Vec::new());
    let cond = Condition::new();
    let mut waiters: Vec<_> = (0..3)
        .map(|i| {
            let (lock, cond) = (&lock, &cond);
            Box::pin(async move {
                let guard = lock.lock().await;
                cond.wait(guard).await.push(i);
            })
        })
        .collect();
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    cond.notify(2);
    let done: Vec<bool> = waiters
        .iter_mut()
        .map(|waiter| poll_once(waiter.as_mut()).is_ready())
        .collect();
    assert_eq!(
        done,
        [true, true, false],
        "the two oldest waiters were notified"
    );
    cond.notify_all();
    assert!(poll_once(waiters[2].as_mut()).is_ready());
    assert_eq!(*lock.try_lock().unwrap(), [0, 1, 2]);
}

/// A notify with nobody waiting is not remembered.
#[test]
fn notify_without_waiters_is_not_remembered() {
    let lock = Lock::new(());
    let cond = Condition::new();
    cond.notify_all();
    cond.notify(5);
    let mut waiter = pin!(async { drop(cond.wait(lock.lock().await).await) });
    assert!(poll_once(waiter.as_mut()).is_pending());
    assert!(poll_once(waiter.as_mut()).is_pending());
}

/// A notification meant for a waiter that is cancelled before it runs goes
/// to another waiter (test_cancelled_error_wakeup).
#[test]
fn notification_for_a_cancelled_waiter_goes_to_another() {
    let lock = Lock::new(());
    let cond = Condition::new();
    let (b_wakes, waker_b) = CountingWaker::new();
    let mut a = Box::pin(async { drop(cond.wait(lock.lock().await).await) });
    let mut b = pin!(async { drop(cond.wait(lock.lock().await).await) });
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_with(b.as_mut(), &waker_b).is_pending());
    cond.notify_one();
    drop(a);
    assert_eq!(b_wakes.count(), 1);
    assert!(poll_with(b.as_mut(), &waker_b).is_ready());
}

/// A cancelled wait does not hold the lock afterwards (test_wait_cancel).
#[test]
fn cancelled_wait_leaves_the_lock_free() {
    let lock = Lock::new(());
    let cond = Condition::new();
    {
        let mut waiter = pin!(async { drop(cond.wait(lock.lock().await).await) });
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    assert!(!lock.is_locked());
    cond.notify_all();
    assert!(lock.try_lock().is_some());
}

/// `wait_for` returns once the predicate holds, checking it under the lock
/// (test_wait_for).
#[test]
fn wait_for_returns_once_the_predicate_holds() {
    let lock = Lock::new(0);
    let cond = Condition::new();
    let mut checks = 0;
    let mut waiter = Box::pin(async {
        let guard = lock.lock().await;
        let guard = cond
            .wait_for(guard, |value| {
                checks += 1;
                *value == 2
            })
            .await;
        *guard
    });
    assert!(poll_once(waiter.as_mut()).is_pending());
    for value in 1..=2 {
        *lock.try_lock().unwrap() = value;
        cond.notify_all();
        let poll = poll_once(waiter.as_mut());
        if value == 1 {
            assert!(poll.is_pending());
        } else {
            assert_eq!(poll, Poll::Ready(2));
        }
    }
    drop(waiter);
    assert_eq!(checks, 3);
}

/// `wait_for` with a predicate already true does not wait.
#[test]
fn wait_for_with_true_predicate_returns_at_once() {
    let lock = Lock::new(true);
    let cond = Condition::default();
    let guard = block_on(async { cond.wait_for(lock.lock().await, |ready| *ready).await });
    assert!(*guard);
}

/// A waiter dropped after it was notified, while re-acquiring the lock,
/// passes the notification on (CPython's `Condition.wait` notifies another
/// waiter on any error after being notified).
#[test]
fn waiter_dropped_while_reacquiring_passes_the_notification_on() {
    let lock = Lock::new(());
    let cond = Condition::new();
    let (b_wakes, waker_b) = CountingWaker::new();
    let mut a = Box::pin(async { drop(cond.wait(lock.lock().await).await) });
    let mut b = pin!(async { drop(cond.wait(lock.lock().await).await) });
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_with(b.as_mut(), &waker_b).is_pending());
    let held = lock.try_lock().unwrap();
    cond.notify_one();
    assert!(
        poll_once(a.as_mut()).is_pending(),
        "a is notified but the lock is held"
    );
    assert_eq!(b_wakes.count(), 0);
    drop(a);
    assert_eq!(b_wakes.count(), 1, "a's notification must go to b");
    drop(held);
    assert!(poll_with(b.as_mut(), &waker_b).is_ready());
}
