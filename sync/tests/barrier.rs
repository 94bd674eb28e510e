//! `Barrier`, after CPython's `test_locks.py` `BarrierTests`.

#![cfg(not(loom))]

mod common;

use common::{poll_once, Tracked};
use std::pin::pin;
use weft_sync::Barrier;

/// Nobody passes until `n` have arrived; exactly one is the leader
/// (test_barrier, test_barrier_wait_result).
#[test]
fn all_parties_pass_together_with_one_leader() {
    let barrier = Barrier::new(3);
    let mut waiters: Vec<_> = (0..3)
        .map(|_| Tracked::new(async { barrier.wait().await.is_leader() }))
        .collect();
    assert!(!waiters[0].poll());
    assert!(!waiters[1].poll());
    assert_eq!(barrier.n_waiting(), 2);
    assert!(waiters[2].poll(), "the last arrival completes the round");
    assert!(waiters[0].poll() && waiters[1].poll());
    let leaders = waiters
        .iter()
        .filter(|waiter| waiter.output == Some(true))
        .count();
    assert_eq!(leaders, 1);
    assert_eq!(barrier.n_waiting(), 0);
}

/// The barrier is reusable: a second round works like the first (test_repeat).
#[test]
fn barrier_is_reusable_across_rounds() {
    let barrier = Barrier::new(2);
    for _ in 0..3 {
        let mut first = Tracked::new(barrier.wait());
        assert!(!first.poll());
        assert!(poll_once(pin!(barrier.wait())).is_ready());
        assert!(first.poll());
    }
}

/// A dropped `wait()` does not count as arrived.
#[test]
fn dropped_wait_does_not_count_as_arrived() {
    let barrier = Barrier::new(2);
    {
        let mut quitter = pin!(barrier.wait());
        assert!(poll_once(quitter.as_mut()).is_pending());
        assert_eq!(barrier.n_waiting(), 1);
    }
    assert_eq!(barrier.n_waiting(), 0);
    let mut first = Tracked::new(barrier.wait());
    assert!(!first.poll(), "one arrival is not enough for two parties");
    assert!(poll_once(pin!(barrier.wait())).is_ready());
    assert!(first.poll());
}

/// A one-party barrier never waits; its only party leads.
#[test]
fn single_party_barrier_passes_at_once() {
    let barrier = Barrier::new(1);
    assert_eq!(barrier.parties(), 1);
    assert!(matches!(poll_once(pin!(barrier.wait())), std::task::Poll::Ready(r) if r.is_leader()));
}

/// Zero parties is rejected.
#[test]
#[should_panic(expected = "at least one party")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}

/// Polling a finished `wait` again is a bug and panics instead of arriving
/// in the next round.
#[test]
#[should_panic(expected = "polled after it completed")]
fn wait_polled_after_completion_panics() {
    let barrier = Barrier::new(1);
    let mut wait = pin!(barrier.wait());
    assert!(poll_once(wait.as_mut()).is_ready());
    let _ = poll_once(wait.as_mut());
}
