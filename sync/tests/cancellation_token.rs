//! `CancellationToken`: cancel before and after waiting, wake-ups in
//! arrival order, the parent/child rule, drop guards, cancel-safety of
//! `cancelled()`, and a racing stress test on several threads.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_with, run_on_threads, BoxFuture, CountingWaker};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use weft_sync::CancellationToken;

/// A token cancelled before `cancelled()` is awaited: ready at once.
#[test]
fn cancel_before_waiting_is_seen_at_once() {
    let token = CancellationToken::new();
    token.cancel();
    assert!(token.is_cancelled());
    assert!(common::poll_once(pin!(token.cancelled())).is_ready());
    token.cancel(); // idempotent
    assert!(token.is_cancelled());
}

/// A waiter queued before `cancel` is woken and completes.
#[test]
fn cancel_after_waiting_wakes_the_waiter() {
    let token = CancellationToken::new();
    let (wakes, waker) = CountingWaker::new();
    let mut wait = pin!(token.cancelled());
    assert!(poll_with(wait.as_mut(), &waker).is_pending());
    token.cancel();
    assert_eq!(wakes.count(), 1);
    assert!(poll_with(wait.as_mut(), &waker).is_ready());
}

/// Records the order in which waiters were woken.
struct OrderWaker {
    index: usize,
    order: Arc<Mutex<Vec<usize>>>,
}

impl Wake for OrderWaker {
    fn wake(self: Arc<Self>) {
        self.order.lock().unwrap().push(self.index);
    }
}

/// 10,000 waiters are all woken by one cancel, oldest first, and all
/// complete.
#[test]
fn ten_thousand_waiters_are_all_woken_in_arrival_order() {
    const WAITERS: usize = 10_000;
    let token = CancellationToken::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let wakers: Vec<Waker> = (0..WAITERS)
        .map(|index| {
            Waker::from(Arc::new(OrderWaker {
                index,
                order: order.clone(),
            }))
        })
        .collect();
    let mut waits: Vec<_> = (0..WAITERS).map(|_| Box::pin(token.cancelled())).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert!(poll_with(wait.as_mut(), waker).is_pending());
    }
    token.cancel();
    assert_eq!(*order.lock().unwrap(), (0..WAITERS).collect::<Vec<_>>());
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert!(poll_with(wait.as_mut(), waker).is_ready());
    }
}

/// Cancelling a parent cancels its children and grandchildren and wakes
/// their waiters; cancelling a child leaves its parent and siblings alone.
#[test]
fn a_child_is_cancelled_by_its_parent_but_not_the_reverse() {
    let parent = CancellationToken::new();
    let child = parent.child_token();
    let sibling = parent.child_token();
    let grandchild = sibling.child_token();
    child.cancel();
    assert!(child.is_cancelled());
    assert!(!parent.is_cancelled() && !sibling.is_cancelled() && !grandchild.is_cancelled());

    let (wakes, waker) = CountingWaker::new();
    let mut wait = pin!(grandchild.cancelled());
    assert!(poll_with(wait.as_mut(), &waker).is_pending());
    parent.cancel();
    assert!(sibling.is_cancelled() && grandchild.is_cancelled());
    assert_eq!(wakes.count(), 1, "the grandchild's waiter was woken");
    assert!(poll_with(wait.as_mut(), &waker).is_ready());
    assert!(
        parent.child_token().is_cancelled(),
        "a child of a cancelled token is born cancelled"
    );
}

/// A child whose intermediate parent token was dropped is still cancelled
/// through it.
#[test]
fn cancellation_reaches_a_grandchild_through_a_dropped_parent_token() {
    let root = CancellationToken::new();
    let grandchild = {
        let child = root.child_token();
        child.child_token()
    };
    root.cancel();
    assert!(grandchild.is_cancelled());
}

/// A drop guard cancels when dropped; a disarmed one gives the token back
/// uncancelled.
#[test]
fn drop_guard_cancels_unless_disarmed() {
    let token = CancellationToken::new();
    let guard = token.clone().drop_guard();
    let child = token.child_token();
    drop(guard);
    assert!(token.is_cancelled() && child.is_cancelled());

    let token = CancellationToken::new();
    let returned = token.clone().drop_guard().disarm();
    assert!(!token.is_cancelled() && !returned.is_cancelled());
    returned.cancel();
    assert!(token.is_cancelled(), "disarm returns the same token");
}

/// Counts live clones of its waker: a registered waiter holds one.
struct HeldWaker;
impl Wake for HeldWaker {
    fn wake(self: Arc<Self>) {}
}

/// The cancel-safety test every primitive has: a `cancelled()` future
/// dropped while waiting leaves nothing registered (its waker is released
/// at once and the cancel wakes nobody), and the cancellation is still
/// seen by every later waiter.
#[test]
fn a_dropped_cancelled_future_leaves_nothing_registered() {
    let token = CancellationToken::new();
    let held = Arc::new(HeldWaker);
    let waker = Waker::from(held.clone());
    {
        let mut wait = pin!(token.cancelled());
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
        assert_eq!(
            Arc::strong_count(&held),
            3,
            "the queued waiter holds a waker"
        );
    }
    assert_eq!(
        Arc::strong_count(&held),
        2,
        "the dropped waiter's waker was kept"
    );
    let (wakes, counting) = CountingWaker::new();
    let mut dropped_later = Box::pin(token.cancelled());
    assert!(poll_with(dropped_later.as_mut(), &counting).is_pending());
    drop(dropped_later);
    token.cancel();
    assert_eq!(wakes.count(), 0, "a dropped waiter was woken");
    assert!(common::poll_once(pin!(token.cancelled())).is_ready());
}

/// The token works under a plain `block_on` with the cancel from another
/// thread.
#[test]
fn cancel_from_another_thread_wakes_a_blocked_waiter() {
    let token = CancellationToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || token.cancel())
    };
    block_on(token.cancelled());
    canceller.join().unwrap();
}

/// Stress: on 4 threads, 200 tasks each make a child token of a shared
/// root, wait on it (some give up midway, dropping the future), while other
/// tasks cancel random children and finally the root. Every task that
/// waits to the end is released; no waiter is lost.
#[test]
fn stress() {
    const WAITERS: usize = 200;
    const THREADS: usize = 4;
    let root = CancellationToken::new();
    let released = Arc::new(AtomicUsize::new(0));
    let children: Arc<Mutex<Vec<CancellationToken>>> = Arc::new(Mutex::new(Vec::new()));
    let mut work: Vec<BoxFuture> = (0..WAITERS)
        .map(|i| {
            let (root, released, children) = (root.clone(), released.clone(), children.clone());
            Box::pin(async move {
                let child = root.child_token();
                children.lock().unwrap().push(child.clone());
                if i % 5 == 0 {
                    // Give up after one poll: the future is dropped queued.
                    let mut wait = pin!(child.cancelled());
                    let _ = std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
                }
                child.cancelled().await;
                // Relaxed: a count read after every thread is joined.
                released.fetch_add(1, Ordering::Relaxed);
            }) as BoxFuture
        })
        .collect();
    work.push({
        let (root, children) = (root.clone(), children.clone());
        Box::pin(async move {
            for round in 0..WAITERS {
                if let Some(child) = children.lock().unwrap().get(round * 7 % WAITERS) {
                    child.cancel();
                }
                common::yield_now().await;
            }
            root.cancel();
        })
    });
    run_on_threads(THREADS, work);
    assert_eq!(released.load(Ordering::Relaxed), WAITERS);
    assert!(children
        .lock()
        .unwrap()
        .iter()
        .all(CancellationToken::is_cancelled));
}

/// Every public type is Send + Sync (the token is shared across tasks).
#[test]
fn tokens_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CancellationToken>();
    send_sync::<weft_sync::DropGuard>();
    send_sync::<weft_sync::Cancelled<'static>>();
}
