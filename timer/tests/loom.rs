//! loom models of the driver's racy protocols, through the public API.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p weft-timer --release --test loom`.
//! Each model uses a paused clock, so no real time enters the state space,
//! and a bounded number of preemptions so the whole file runs in seconds.

#![cfg(loom)]

use std::future::Future;
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Condvar, Mutex};
use loom::thread;
use weft_timer::{sleep, Driver, Sleep};

/// Preemptions explored per model: 3 covers every interleaving of the two
/// threads' lock acquisitions here while keeping the run short.
const PREEMPTION_BOUND: usize = 3;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

/// A waker that counts its wakes with a loom atomic.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A 10 ms sleep on `driver`, polled once (so registered) with `waker`.
fn registered_sleep(driver: &Driver, waker: &Waker) -> Sleep {
    let mut sleep = {
        let _enter = driver.handle().enter();
        sleep(Duration::from_millis(10))
    };
    assert!(std::pin::Pin::new(&mut sleep)
        .poll(&mut std::task::Context::from_waker(waker))
        .is_pending());
    sleep
}

/// INV-2 of the driver: a timer registered from another thread while the
/// driver parks is never lost. The parker blocks without a timeout when
/// `park_timeout` says no timer is pending; if the registration's `unpark`
/// could be lost, loom reports the parker deadlocked.
#[test]
fn registering_from_another_thread_while_the_driver_parks_is_never_lost() {
    model(|| {
        let token = Arc::new((Mutex::new(false), Condvar::new()));
        let unpark = {
            let token = token.clone();
            Arc::new(move || {
                *token.0.lock().unwrap() = true;
                token.1.notify_one();
            })
        };
        let driver = Arc::new(Driver::new(true, unpark));
        let unregistered = {
            let _enter = driver.handle().enter();
            sleep(Duration::from_millis(10))
        };
        let registrar = thread::spawn(move || {
            let mut sleep = unregistered;
            let waker = Waker::noop();
            let polled =
                std::pin::Pin::new(&mut sleep).poll(&mut std::task::Context::from_waker(waker));
            assert_eq!(polled, Poll::Pending);
            sleep
        });
        if driver.park_timeout().is_none() {
            let mut notified = token.0.lock().unwrap();
            while !*notified {
                notified = token.1.wait(notified).unwrap();
            }
        }
        let sleep = registrar.join().unwrap();
        assert!(
            driver.park_timeout().is_some(),
            "the registration is visible after the park"
        );
        drop(sleep);
    });
}

/// INV-2 with shards: registrations on two shards race with the parker.
/// Shard 0 gets a 6 ms sleep and shard 1 a 3 ms one, each from a thread
/// that entered its shard (both within level 0 of the wheel, 8 ms, so
/// `park_timeout` answers their exact deadlines, not a slot's start). The
/// parker blocks (on a token) whenever `park_timeout` does not yet answer
/// 3 ms, and processes after each wake. If P1 recorded the parker's
/// deadline in only some shards, or a registration checked another shard's
/// park state than its own, the 3 ms registration could miss the parker and
/// loom would report it deadlocked.
#[test]
fn registrations_on_two_shards_while_the_driver_parks_are_never_lost() {
    model(|| {
        let token = Arc::new((Mutex::new(false), Condvar::new()));
        let unpark = {
            let token = token.clone();
            Arc::new(move || {
                *token.0.lock().unwrap() = true;
                token.1.notify_one();
            })
        };
        let driver = Arc::new(Driver::with_shards(true, 2, unpark));
        let sleeps = {
            let _enter = driver.handle().enter();
            [
                sleep(Duration::from_millis(6)),
                sleep(Duration::from_millis(3)),
            ]
        };
        let registrars: Vec<_> = sleeps
            .into_iter()
            .enumerate()
            .map(|(shard, unregistered)| {
                let handle = driver.handle();
                thread::spawn(move || {
                    let _shard = handle.enter_shard(shard);
                    let mut sleep = unregistered;
                    let polled = std::pin::Pin::new(&mut sleep)
                        .poll(&mut std::task::Context::from_waker(Waker::noop()));
                    assert_eq!(polled, Poll::Pending);
                    sleep
                })
            })
            .collect();
        while driver.park_timeout() != Some(Duration::from_millis(3)) {
            let mut notified = token.0.lock().unwrap();
            while !*notified {
                notified = token.1.wait(notified).unwrap();
            }
            *notified = false;
            drop(notified);
            assert_eq!(driver.process(), 0, "the paused clock never moved");
        }
        for registrar in registrars {
            drop(registrar.join().unwrap());
        }
    });
}

/// `reset` racing with `process`: the sleep is either fired once (and then
/// re-registers at its new deadline) or moved before it fired (and not
/// woken); `process`'s count always equals the wakes, and the sleep always
/// ends up pending at the new deadline.
#[test]
fn reset_racing_with_fire_neither_loses_nor_doubles_a_wake() {
    model(|| {
        let driver = Arc::new(Driver::new(true, Arc::new(|| {})));
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(counter.clone());
        let mut sleep = registered_sleep(&driver, &waker);
        let later = sleep.deadline() + Duration::from_secs(60);
        assert!(driver.auto_advance());
        let firer = {
            let driver = driver.clone();
            thread::spawn(move || driver.process())
        };
        sleep.reset(later);
        let fired = firer.join().unwrap();
        assert_eq!(fired, counter.0.load(Ordering::Acquire));
        assert!(fired <= 1);
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(std::pin::Pin::new(&mut sleep).poll(&mut cx).is_pending());
        assert!(driver.auto_advance());
        assert_eq!(driver.process(), 1, "the sleep fires at its new deadline");
        assert!(std::pin::Pin::new(&mut sleep).poll(&mut cx).is_ready());
    });
}

/// Dropping a sleep racing with `process`: woken at most once, never after
/// the entry is gone, and the wheel ends empty.
#[test]
fn dropping_a_sleep_racing_with_fire_is_safe() {
    model(|| {
        let driver = Arc::new(Driver::new(true, Arc::new(|| {})));
        let counter = Arc::new(Counter::default());
        let sleep = registered_sleep(&driver, &Waker::from(counter.clone()));
        assert!(driver.auto_advance());
        let firer = {
            let driver = driver.clone();
            thread::spawn(move || driver.process())
        };
        drop(sleep);
        let fired = firer.join().unwrap();
        assert_eq!(fired, counter.0.load(Ordering::Acquire));
        assert!(fired <= 1);
        assert_eq!(driver.park_timeout(), None);
    });
}
