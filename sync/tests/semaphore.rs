//! `Semaphore` and `BoundedSemaphore`, after CPython's `test_locks.py`
//! `SemaphoreTests` and `BoundedSemaphoreTests`.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker, Tracked};
use std::pin::pin;
use std::sync::Arc;
use weft_sync::{BoundedSemaphore, Semaphore};

/// Permits are counted down by holders and back up when guards drop.
#[test]
fn permits_count_down_and_back_up() {
    let sem = Semaphore::new(3);
    let a = sem.try_acquire().unwrap();
    let b = block_on(sem.acquire_many(2));
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(b.num_permits(), 2);
    assert!(sem.try_acquire().is_none());
    drop(a);
    drop(b);
    assert_eq!(sem.available_permits(), 3);
}

/// A semaphore created with 0 permits blocks until `add_permits`
/// (test_initial_value_zero).
#[test]
fn zero_permits_block_until_added() {
    let sem = Semaphore::new(0);
    let mut waiter = pin!(sem.acquire());
    assert!(poll_once(waiter.as_mut()).is_pending());
    sem.add_permits(1);
    assert!(poll_once(waiter.as_mut()).is_ready());
}

/// Waiters are served in arrival order (test_acquire_fifo_order).
#[test]
fn waiters_are_served_in_fifo_order() {
    let sem = Semaphore::new(1);
    let order = std::sync::Mutex::new(Vec::new());
    let guard = sem.try_acquire().unwrap();
    let mut tasks: Vec<_> = (0..4)
        .map(|i| {
            let (sem, order) = (&sem, &order);
            Tracked::new(async move {
                let _permit = sem.acquire().await;
                order.lock().unwrap().push(i);
            })
        })
        .collect();
    for task in &mut tasks {
        assert!(!task.poll());
    }
    drop(guard);
    // Poll in reverse: only the head can proceed each time.
    for _ in 0..4 {
        for task in tasks.iter_mut().rev() {
            task.poll();
        }
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
}

/// A large request at the head is not overtaken by small ones behind it.
#[test]
fn large_request_at_head_is_not_overtaken() {
    let sem = Semaphore::new(1);
    let mut big = pin!(sem.acquire_many(3));
    let mut small = pin!(sem.acquire());
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    assert!(sem.try_acquire().is_none(), "try_acquire must not barge");
    sem.add_permits(2);
    assert!(poll_once(small.as_mut()).is_pending());
    let permit = match poll_once(big.as_mut()) {
        std::task::Poll::Ready(permit) => permit,
        std::task::Poll::Pending => panic!("the head request of 3 permits should be granted"),
    };
    drop(permit);
    assert!(poll_once(small.as_mut()).is_ready());
}

/// A waiter cancelled after the permit was reserved for it returns it and
/// wakes the next (test_acquire_cancel_after_awoken, test_acquire_hang).
#[test]
fn cancelled_after_grant_returns_the_permit_and_wakes_the_next() {
    let sem = Semaphore::new(0);
    let (_, waker_a) = CountingWaker::new();
    let (b_wakes, waker_b) = CountingWaker::new();
    let mut a = Box::pin(sem.acquire());
    let mut b = pin!(sem.acquire());
    assert!(poll_with(a.as_mut(), &waker_a).is_pending());
    assert!(poll_with(b.as_mut(), &waker_b).is_pending());
    sem.add_permits(1);
    drop(a);
    assert_eq!(b_wakes.count(), 1);
    assert!(poll_with(b.as_mut(), &waker_b).is_ready());
    assert_eq!(
        sem.available_permits(),
        1,
        "b's permit was dropped with its output"
    );
}

/// A waiter cancelled before any release leaves no trace (test_acquire_cancel).
#[test]
fn cancelled_before_grant_leaves_permits_alone() {
    let sem = Semaphore::new(0);
    {
        let mut waiter = pin!(sem.acquire());
        assert!(poll_once(waiter.as_mut()).is_pending());
    }
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_some());
}

/// `forget` keeps a permit out of circulation.
#[test]
fn forgotten_permit_is_not_returned() {
    let sem = Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
}

/// Owned permits move into threads and release on drop.
#[test]
fn owned_permit_releases_from_another_thread() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = block_on(sem.clone().acquire_owned());
    assert_eq!(sem.available_permits(), 0);
    std::thread::spawn(move || drop(permit)).join().unwrap();
    assert_eq!(sem.available_permits(), 1);
    let many = block_on(sem.clone().acquire_many_owned(1));
    many.forget();
    assert_eq!(sem.available_permits(), 0);
}

/// Releasing a bounded semaphore past its initial count is an error
/// (test_release_not_acquired); releasing a forgotten permit is fine.
#[test]
fn bounded_release_only_restores_forgotten_permits() {
    let sem = BoundedSemaphore::new(2);
    assert!(sem.release().is_err());
    let permit = sem.try_acquire().unwrap();
    assert!(
        sem.release().is_err(),
        "a held permit comes back by dropping it"
    );
    permit.forget();
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.available_permits(), 2);
    let error = sem.release().unwrap_err();
    assert!(error.to_string().contains("initial count of 2"), "{error}");
}

/// A bounded `release` wakes a queued waiter.
#[test]
fn bounded_release_wakes_a_waiter() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    let mut waiter = pin!(sem.acquire());
    assert!(poll_once(waiter.as_mut()).is_pending());
    sem.release().unwrap();
    assert!(poll_once(waiter.as_mut()).is_ready());
}

/// Asking a bounded semaphore for more permits than it can ever have panics.
#[test]
#[should_panic(expected = "can never complete")]
fn bounded_acquire_many_above_bound_panics() {
    let sem = BoundedSemaphore::new(2);
    let _ = block_on(sem.acquire_many(3));
}

/// Adding permits past `usize::MAX` panics with the counts.
#[test]
#[should_panic(expected = "overflows usize")]
fn add_permits_overflow_panics() {
    let sem = Semaphore::new(usize::MAX);
    sem.add_permits(1);
}

/// A parked acquirer carries its future, so each wait's future is the
/// semaphore (or lock) reference and the waiter's state, nothing more: 16
/// bytes on a 64-bit target, 12 (packed) for `lock()` and `acquire()`,
/// where an `async fn` awaiting the core's own future was 48 to 88 bytes.
#[test]
#[cfg(target_pointer_width = "64")]
fn acquire_and_lock_futures_are_the_reference_and_the_state() {
    use std::mem::size_of_val;
    let semaphore = Semaphore::new(0);
    let bounded = BoundedSemaphore::new(1);
    let lock = weft_sync::Lock::new(());
    assert_eq!(size_of_val(&lock.lock()), 12);
    assert_eq!(
        size_of_val(&Arc::new(weft_sync::Lock::new(())).lock_owned()),
        16
    );
    assert_eq!(size_of_val(&semaphore.acquire()), 12);
    assert_eq!(size_of_val(&bounded.acquire()), 12);
    assert_eq!(
        size_of_val(&Arc::new(Semaphore::new(0)).acquire_owned()),
        16
    );
    let rwlock = weft_sync::RwLock::new(());
    assert_eq!(size_of_val(&rwlock.read()), 16);
    assert_eq!(size_of_val(&rwlock.write()), 16);
    // `acquire_many` keeps its count until it is queued, then in its node.
    assert_eq!(size_of_val(&semaphore.acquire_many(2)), 24);
}
