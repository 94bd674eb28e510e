//! Loom model of the waitlist protocol itself (`waitlist.rs`: R1–R4,
//! N1–N5, C1–C3): one waiter, one canceller and one notifier race over a
//! single token guarded by the mutex from `crate::loom`.
//!
//! The token is the simplest "resource": the notifier adds it (N2) and
//! grants it to the head waiter (N3); a cancelled waiter that was granted
//! hands it on (C2). The model checks that the token is never lost or
//! duplicated and that the surviving waiter is always woken (a lost wakeup
//! makes loom report a deadlock).

use crate::loom::{Arc, Mutex};
use crate::waitlist::{Grant, WaitList, WaiterKey, WakeList};
use loom::future::block_on;
use loom::thread;
use std::future::poll_fn;
use std::task::{Context, Poll, Wake, Waker};

/// Preemption bound: enough to interleave every step of the three sides.
const PREEMPTIONS: usize = 3;

struct Shared {
    tokens: usize,
    waiters: WaitList<()>,
}

type State = Arc<Mutex<Shared>>;

/// N1–N5: add one token and grant it to the head waiter, if any.
fn notify(state: &State) {
    let mut wakes = WakeList::new();
    let mut shared = state.lock();
    shared.tokens += 1;
    if shared.waiters.has_waiters() {
        shared.tokens -= 1;
        shared.waiters.grant_front(&mut wakes);
    }
    drop(shared);
    wakes.wake_all();
}

/// R1–R4 for one poll: take a free token, or queue, or observe the grant.
fn poll_take(state: &State, key: &mut Option<WaiterKey>, cx: &mut Context<'_>) -> Poll<()> {
    let mut shared = state.lock();
    match *key {
        None if shared.tokens > 0 && !shared.waiters.has_waiters() => {
            shared.tokens -= 1;
            Poll::Ready(())
        }
        None => {
            *key = Some(shared.waiters.push_back((), cx.waker()));
            Poll::Pending
        }
        Some(queued) => match shared.waiters.poll(queued, cx.waker()) {
            Grant::Waiting => Poll::Pending,
            _ => {
                shared.waiters.remove(queued);
                *key = None;
                Poll::Ready(())
            }
        },
    }
}

/// C1–C3: leave the queue; a granted token goes to the next waiter.
fn cancel(state: &State, key: WaiterKey) {
    let mut wakes = WakeList::new();
    let mut shared = state.lock();
    if let (Grant::Granted, ()) = shared.waiters.remove(key) {
        shared.tokens += 1;
        if shared.waiters.has_waiters() {
            shared.tokens -= 1;
            shared.waiters.grant_front(&mut wakes);
        }
    }
    drop(shared);
    wakes.wake_all();
}

struct Noop;
impl Wake for Noop {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[test]
fn waitlist_register_vs_notify_vs_cancel() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(|| {
        let state: State = Arc::new(Mutex::new(Shared {
            tokens: 0,
            waiters: WaitList::new(),
        }));
        let canceller = {
            let state = state.clone();
            thread::spawn(move || {
                let waker = Waker::from(std::sync::Arc::new(Noop));
                let mut key = None;
                let took = poll_take(&state, &mut key, &mut Context::from_waker(&waker)).is_ready();
                if let Some(key) = key {
                    cancel(&state, key);
                }
                took
            })
        };
        let waiter = {
            let state = state.clone();
            thread::spawn(move || {
                let mut key = None;
                block_on(poll_fn(|cx| poll_take(&state, &mut key, cx)));
            })
        };
        notify(&state);
        let canceller_took = canceller.join().unwrap();
        if canceller_took {
            // It consumed the only token; give the waiter one of its own.
            notify(&state);
        }
        waiter.join().unwrap();
        let shared = state.lock();
        assert_eq!(shared.tokens, 0, "a token was lost or duplicated");
        assert!(!shared.waiters.has_waiters());
    });
}
