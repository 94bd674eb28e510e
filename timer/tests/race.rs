//! Concurrency: timers dropped, reset and registered from other threads while
//! the driver fires, with every wake counted exactly.

mod common;

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::Waker;
use std::thread;
use std::time::Duration;

use common::{poll_once, scaled, CountingWaker, Signal};
use weft_timer::{sleep, timeout, Driver, Instant, Sleep};

/// Sleeps registered on a paused driver, all due at the same tick, each with
/// its own counting waker; the clock is then moved onto their deadline.
fn due_sleeps(driver: &Driver, count: usize) -> (Vec<Sleep>, Vec<Arc<CountingWaker>>) {
    let _enter = driver.handle().enter();
    let mut sleeps = Vec::with_capacity(count);
    let mut counters = Vec::with_capacity(count);
    for _ in 0..count {
        let counter = CountingWaker::new();
        let mut sleep = sleep(Duration::from_millis(10));
        assert!(poll_once(&mut sleep, &Waker::from(counter.clone())).is_pending());
        sleeps.push(sleep);
        counters.push(counter);
    }
    assert!(driver.auto_advance());
    (sleeps, counters)
}

/// Runs `driver.process()` on another thread, released by a barrier at the
/// same moment as `here` runs on this one; returns how many timers fired.
fn process_racing(driver: &Arc<Driver>, here: impl FnOnce()) -> usize {
    let start = Arc::new(Barrier::new(2));
    let firer = {
        let (driver, start) = (driver.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            driver.process()
        })
    };
    start.wait();
    here();
    firer.join().unwrap()
}

/// Dropping pending sleeps on one thread while another fires them: no wake is
/// lost or doubled, the count `process` reports matches the wakes, and no
/// waker clone leaks.
#[test]
fn destructors_dropping_sleeps_while_the_driver_fires() {
    const ROUNDS: usize = 20;
    let count = scaled(2_000);
    for round in 0..ROUNDS {
        let driver = Arc::new(Driver::new(true, Arc::new(|| {})));
        let (mut sleeps, counters) = due_sleeps(&driver, count);
        let kept = sleeps.split_off(count / 2);
        let fired = process_racing(&driver, || drop(sleeps));
        let wakes: usize = counters.iter().map(|c| c.count()).sum();
        assert_eq!(fired, wakes, "round {round}: fired count and wakes differ");
        assert!(
            counters.iter().all(|c| c.count() <= 1),
            "round {round}: a double wake"
        );
        assert!(
            counters[count / 2..].iter().all(|c| c.count() == 1),
            "round {round}: a kept sleep was not woken"
        );
        assert!(
            fired >= count / 2 && fired <= count,
            "round {round}: fired {fired}"
        );
        assert_eq!(
            driver.park_timeout(),
            None,
            "round {round}: the wheel is empty"
        );
        drop(kept);
        assert!(
            counters.iter().all(|c| Arc::strong_count(c) == 1),
            "round {round}: a waker clone leaked"
        );
    }
}

/// The same race with `Timeout`s around futures that never finish.
#[test]
fn destructors_dropping_timeouts_while_the_driver_fires() {
    const ROUNDS: usize = 20;
    let count = scaled(2_000);
    for round in 0..ROUNDS {
        let driver = Arc::new(Driver::new(true, Arc::new(|| {})));
        let counters: Vec<_> = (0..count).map(|_| CountingWaker::new()).collect();
        let mut timeouts: Vec<_> = {
            let _enter = driver.handle().enter();
            counters
                .iter()
                .map(|counter| {
                    let mut t = Box::pin(timeout(Duration::from_millis(3), pending::<()>()));
                    assert!(poll_once(&mut t, &Waker::from(counter.clone())).is_pending());
                    t
                })
                .collect()
        };
        assert!(driver.auto_advance());
        let kept = timeouts.split_off(count / 2);
        let fired = process_racing(&driver, || drop(timeouts));
        let wakes: usize = counters.iter().map(|c| c.count()).sum();
        assert_eq!(fired, wakes, "round {round}");
        assert!(
            counters.iter().all(|c| c.count() <= 1),
            "round {round}: a double wake"
        );
        assert!(
            counters[count / 2..].iter().all(|c| c.count() == 1),
            "round {round}"
        );
        let waker = &common::noop_waker();
        for mut t in kept {
            assert!(
                matches!(poll_once(&mut t, waker), std::task::Poll::Ready(Err(_))),
                "round {round}"
            );
        }
    }
}

/// Resetting sleeps to a later deadline while the driver fires them: each
/// sleep is either fired once (and re-registers on its next poll) or moved
/// (and stays pending); never both, never lost.
#[test]
fn stress_resetting_sleeps_while_the_driver_fires() {
    const ROUNDS: usize = 20;
    let count = scaled(1_000);
    for round in 0..ROUNDS {
        let driver = Arc::new(Driver::new(true, Arc::new(|| {})));
        let (mut sleeps, counters) = due_sleeps(&driver, count);
        let later = {
            let _enter = driver.handle().enter();
            Instant::now() + Duration::from_secs(60)
        };
        let fired = process_racing(&driver, || sleeps.iter_mut().for_each(|s| s.reset(later)));
        let wakes: usize = counters.iter().map(|c| c.count()).sum();
        assert_eq!(fired, wakes, "round {round}");
        assert!(
            counters.iter().all(|c| c.count() <= 1),
            "round {round}: a double wake"
        );
        // Every sleep now waits for `later`, registered or not.
        for (sleep, counter) in sleeps.iter_mut().zip(&counters) {
            assert!(
                poll_once(sleep, &Waker::from(counter.clone())).is_pending(),
                "round {round}"
            );
        }
        assert!(driver.auto_advance());
        assert_eq!(
            driver.process(),
            count,
            "round {round}: every sleep fires at `later`"
        );
    }
}

/// Many threads register real-clock sleeps while one thread parks on the
/// driver: every sleep is woken exactly once, so no registration's unpark was
/// lost (a lost one would leave the parker blocked past its deadline).
#[test]
fn stampede_registering_from_many_threads_while_the_driver_parks() {
    const THREADS: usize = 4;
    let per_thread = scaled(500);
    let signal = Arc::new(Signal::default());
    let driver = {
        let signal = signal.clone();
        Arc::new(Driver::new(false, Arc::new(move || signal.notify())))
    };
    let woken = Arc::new(AtomicUsize::new(0));
    let counters: Vec<Vec<Arc<CountingWaker>>> = (0..THREADS)
        .map(|_| (0..per_thread).map(|_| CountingWaker::new()).collect())
        .collect();
    let registrars: Vec<_> = counters
        .iter()
        .cloned()
        .enumerate()
        .map(|(t, counters)| {
            let handle = driver.handle();
            thread::spawn(move || {
                let _enter = handle.enter();
                let mut sleeps = Vec::new();
                for (i, counter) in counters.iter().enumerate() {
                    let mut s = sleep(Duration::from_millis(1 + ((t * 7 + i) % 20) as u64));
                    assert!(poll_once(&mut s, &Waker::from(counter.clone())).is_pending());
                    sleeps.push(s);
                }
                sleeps
            })
        })
        .collect();
    let total = THREADS * per_thread;
    /// Only a failure detector: a correct driver wakes the parker long before.
    const HANG_LIMIT: Duration = Duration::from_secs(10);
    let started = std::time::Instant::now();
    while woken.load(Ordering::Relaxed) < total {
        let timeout = driver.park_timeout().unwrap_or(HANG_LIMIT);
        signal.wait(Some(timeout.min(HANG_LIMIT)));
        let fired = driver.process();
        woken.fetch_add(fired, Ordering::Relaxed);
        assert!(
            started.elapsed() < HANG_LIMIT,
            "the parker missed an unpark"
        );
    }
    let sleeps: Vec<_> = registrars.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(woken.load(Ordering::Relaxed), total);
    assert!(
        counters.iter().flatten().all(|c| c.count() == 1),
        "every sleep woken exactly once"
    );
    assert!(sleeps.into_iter().flatten().all(|s| s.is_elapsed()));
}
