//! A driver whose wheel is split into shards (`Driver::with_shards`): timers
//! registered from threads on different shards fire in deadline order, a
//! timer keeps its shard when another thread polls, resets or drops it, the
//! paused clock jumps to the earliest deadline across all shards, and the
//! park protocol loses no wake with registrations and cancellations racing
//! on every shard.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Wake, Waker};
use std::thread;
use std::time::Duration;

use common::{poll_once, scaled, CountingWaker, Signal};
use weft_timer::{sleep, Driver, Instant, Sleep};

/// Runs `f` on a new thread that has entered `driver`'s handle and, as a
/// runtime worker would, the given shard; returns what `f` returns.
fn on_shard<R: Send + 'static>(
    driver: &Driver,
    shard: usize,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let handle = driver.handle();
    thread::spawn(move || {
        let _enter = handle.enter();
        let _shard = handle.enter_shard(shard);
        f()
    })
    .join()
    .expect("the shard thread panicked")
}

/// A waker that appends its label to a shared log when woken.
struct Recorder {
    label: u64,
    log: Arc<Mutex<Vec<u64>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.label);
    }
}

/// A sleep of `millis` ms, polled once (so registered) on the calling
/// thread's shard, that logs `millis` when it fires.
fn logged_sleep(millis: u64, log: &Arc<Mutex<Vec<u64>>>) -> Sleep {
    let mut sleep = sleep(Duration::from_millis(millis));
    let recorder = Recorder {
        label: millis,
        log: log.clone(),
    };
    assert!(poll_once(&mut sleep, &Waker::from(Arc::new(recorder))).is_pending());
    sleep
}

/// Jumps the paused clock from one deadline to the next until no timer is
/// left, firing as it goes; returns how many timers fired.
fn run_paused_to_completion(driver: &Driver) -> usize {
    let mut fired = 0;
    while driver.park_timeout().is_some() {
        assert!(driver.auto_advance());
        fired += driver.process();
    }
    fired
}

/// Deadlines interleaved between two shards come out in deadline order, one
/// per clock jump, as if there were one wheel.
#[test]
fn entries_registered_on_two_shards_fire_in_deadline_order() {
    let driver = Driver::with_shards(true, 2, Arc::new(|| {}));
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sleeps = Vec::new();
    for (shard, deadlines) in [(0, [30, 10, 5_000]), (1, [20, 40, 4_100])] {
        let log = log.clone();
        sleeps.extend(on_shard(&driver, shard, move || {
            deadlines.map(|millis| logged_sleep(millis, &log))
        }));
    }
    assert_eq!(run_paused_to_completion(&driver), 6);
    assert_eq!(*log.lock().unwrap(), [10, 20, 30, 40, 4_100, 5_000]);
    assert!(sleeps.iter().all(Sleep::is_elapsed));
}

/// Shard 0 holds a deadline at 8000 ms, shard 1 an earlier one at 4100 ms;
/// both start in the same level-2 slot. The clock must jump to 4100, and
/// shard 0's wheel must not have been cascaded past it: a sleep registered
/// there afterwards, due at 5000 ms, fires at 5000, not at once.
#[test]
fn paused_clock_auto_advance_jumps_to_the_earliest_deadline_across_shards() {
    let driver = Driver::with_shards(true, 2, Arc::new(|| {}));
    let start = on_shard(&driver, 0, Instant::now);
    let log = Arc::new(Mutex::new(Vec::new()));
    let late = {
        let log = log.clone();
        on_shard(&driver, 0, move || logged_sleep(8_000, &log))
    };
    let early = {
        let log = log.clone();
        on_shard(&driver, 1, move || logged_sleep(4_100, &log))
    };
    assert!(driver.auto_advance());
    assert_eq!(driver.process(), 1);
    assert_eq!(*log.lock().unwrap(), [4_100]);
    let now = on_shard(&driver, 0, Instant::now);
    assert_eq!(now - start, Duration::from_millis(4_100));

    let middle = {
        let log = log.clone();
        on_shard(&driver, 0, move || logged_sleep(900, &log))
    };
    assert_eq!(
        driver.process(),
        0,
        "a deadline 900 ms ahead is not due yet"
    );
    assert_eq!(run_paused_to_completion(&driver), 2);
    assert_eq!(*log.lock().unwrap(), [4_100, 900, 8_000]);
    drop((late, early, middle));
}

/// A sleep registered on shard 0 and then handled by a thread on shard 1:
/// its poll, reset and drop reach its entry in shard 0, never the entry
/// that shard 1 holds under what may be the very same wheel key.
#[test]
fn a_sleep_keeps_its_shard_when_another_shards_thread_polls_resets_and_drops_it() {
    let driver = Driver::with_shards(true, 2, Arc::new(|| {}));
    let log = Arc::new(Mutex::new(Vec::new()));
    let moving = {
        let log = log.clone();
        on_shard(&driver, 0, move || logged_sleep(10, &log))
    };
    let resident = {
        let log = log.clone();
        on_shard(&driver, 1, move || logged_sleep(20, &log))
    };
    let counter = CountingWaker::new();
    let moving = {
        let counter = counter.clone();
        on_shard(&driver, 1, move || {
            let mut moving = moving;
            let start = Instant::now();
            // A new waker: the entry in shard 0 takes it.
            assert!(poll_once(&mut moving, &Waker::from(counter)).is_pending());
            moving.reset(start + Duration::from_millis(30));
            moving
        })
    };
    assert!(driver.auto_advance());
    assert_eq!(driver.process(), 1);
    assert_eq!(
        *log.lock().unwrap(),
        [20],
        "shard 1's own entry is untouched"
    );
    assert!(!moving.is_elapsed());
    assert!(driver.auto_advance());
    assert_eq!(driver.process(), 1);
    assert_eq!(
        counter.count(),
        1,
        "the moved sleep fired at its new deadline"
    );
    assert!(moving.is_elapsed());

    let (log_again, counter_again) = (log.clone(), CountingWaker::new());
    let dropped = on_shard(&driver, 0, move || logged_sleep(50, &log_again));
    let kept = on_shard(&driver, 1, {
        let counter = counter_again.clone();
        move || {
            let mut kept = sleep(Duration::from_millis(50));
            assert!(poll_once(&mut kept, &Waker::from(counter)).is_pending());
            drop(dropped); // cancels in shard 0, from shard 1's thread
            kept
        }
    });
    assert_eq!(run_paused_to_completion(&driver), 1);
    assert_eq!(counter_again.count(), 1);
    assert_eq!(*log.lock().unwrap(), [20], "the dropped sleep never fires");
    drop((resident, kept));
}

/// INV-2 in every shard, step by step: after `park_timeout` recorded the
/// parker's deadline (none, or an hour away in shard 0), a registration on
/// any shard due before it calls `unpark` exactly once, and one due after it
/// does not.
#[test]
fn a_registration_on_any_shard_unparks_a_parker_that_would_sleep_past_it() {
    const SHARDS: usize = 3;
    for shard in 0..SHARDS {
        for has_far_timer in [false, true] {
            let case = format!("shard {shard}, far timer {has_far_timer}");
            let signal = Arc::new(Signal::default());
            let driver = {
                let signal = signal.clone();
                Driver::with_shards(true, SHARDS, Arc::new(move || signal.notify()))
            };
            let far = has_far_timer
                .then(|| on_shard(&driver, 0, || logged_sleep(3_600_000, &Default::default())));
            assert_eq!(driver.park_timeout().is_some(), has_far_timer, "{case}");
            let unparks = || signal.notifications.load(Ordering::SeqCst);

            let later = has_far_timer.then(|| {
                on_shard(&driver, shard, || {
                    logged_sleep(7_200_000, &Default::default())
                })
            });
            assert_eq!(unparks(), 0, "{case}: a later deadline needs no unpark");
            let sooner = on_shard(&driver, shard, || logged_sleep(10, &Default::default()));
            assert_eq!(unparks(), 1, "{case}: a sooner deadline unparks");
            let again = on_shard(&driver, shard, || logged_sleep(5, &Default::default()));
            assert_eq!(unparks(), 1, "{case}: that shard is awake now");

            assert_eq!(driver.process(), 0, "{case}");
            assert_eq!(
                driver.park_timeout(),
                Some(Duration::from_millis(5)),
                "{case}"
            );
            drop((far, later, sooner, again));
        }
    }
}

/// A zero shard count is a misuse, reported with the fix.
#[test]
#[should_panic(expected = "needs at least 1 shard, got 0")]
fn a_driver_without_shards_is_refused_with_a_message() {
    let _ = Driver::with_shards(false, 0, Arc::new(|| {}));
}

/// Threads on four shards each register real-clock sleeps and drop every
/// other one at once, while this thread parks on the driver as a runtime
/// would: every kept sleep is woken exactly once (no lost unpark in any
/// shard), every dropped one never, and the wheel ends empty.
#[test]
fn stampede_registering_and_cancelling_on_every_shard_while_the_driver_parks() {
    const SHARDS: usize = 4;
    const THREADS: usize = 8;
    /// Only a failure detector: a correct driver wakes the parker long before.
    const HANG_LIMIT: Duration = Duration::from_secs(10);
    let per_thread = scaled(500);
    let signal = Arc::new(Signal::default());
    let driver = {
        let signal = signal.clone();
        Arc::new(Driver::with_shards(
            false,
            SHARDS,
            Arc::new(move || signal.notify()),
        ))
    };
    let counters: Vec<Vec<Arc<CountingWaker>>> = (0..THREADS)
        .map(|_| (0..per_thread).map(|_| CountingWaker::new()).collect())
        .collect();
    let start = Arc::new(Barrier::new(THREADS + 1));
    let registrars: Vec<_> = counters
        .iter()
        .cloned()
        .enumerate()
        .map(|(t, counters)| {
            let (handle, start) = (driver.handle(), start.clone());
            thread::spawn(move || {
                let _enter = handle.enter();
                let _shard = handle.enter_shard(t % SHARDS);
                start.wait();
                let mut kept = Vec::new();
                for (i, counter) in counters.iter().enumerate() {
                    // The ones to drop are due in a minute, so none can fire
                    // before its drop, however slowly this thread runs (a
                    // checker like ASan or valgrind); the kept ones are due
                    // within 20 ms.
                    let millis = if i % 2 == 0 {
                        1 + ((t * 7 + i) % 20) as u64
                    } else {
                        60_000
                    };
                    let mut s = sleep(Duration::from_millis(millis));
                    assert!(poll_once(&mut s, &Waker::from(counter.clone())).is_pending());
                    if i % 2 == 0 {
                        kept.push(s);
                    }
                }
                kept
            })
        })
        .collect();
    let kept_total = THREADS * per_thread.div_ceil(2);
    let woken = AtomicUsize::new(0);
    start.wait();
    let started = std::time::Instant::now();
    while woken.load(Ordering::Relaxed) < kept_total {
        let timeout = driver.park_timeout().unwrap_or(HANG_LIMIT);
        signal.wait(Some(timeout.min(HANG_LIMIT)));
        woken.fetch_add(driver.process(), Ordering::Relaxed);
        assert!(
            started.elapsed() < HANG_LIMIT,
            "the parker missed an unpark"
        );
    }
    let kept: Vec<Sleep> = registrars
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    assert_eq!(woken.load(Ordering::Relaxed), kept_total);
    for (t, counters) in counters.iter().enumerate() {
        for (i, counter) in counters.iter().enumerate() {
            let expected = usize::from(i % 2 == 0);
            assert_eq!(counter.count(), expected, "thread {t}, sleep {i}");
        }
    }
    assert!(kept.iter().all(Sleep::is_elapsed));
    assert_eq!(driver.park_timeout(), None, "nothing is left in any shard");
}

/// Threads on two shards drop half of their due sleeps while another thread
/// fires them: each sleep is woken at most once, the dropped ones that were
/// fired first included, and `process` counts exactly the wakes.
#[test]
fn destructors_dropping_sleeps_on_two_shards_while_the_driver_fires() {
    const ROUNDS: usize = 10;
    let per_shard = scaled(1_000);
    for round in 0..ROUNDS {
        let driver = Arc::new(Driver::with_shards(true, 2, Arc::new(|| {})));
        let mut all_counters = Vec::new();
        let mut dropping = Vec::new();
        let mut kept = Vec::new();
        for shard in 0..2 {
            let counters: Vec<_> = (0..per_shard).map(|_| CountingWaker::new()).collect();
            let mut sleeps = on_shard(&driver, shard, {
                let counters = counters.clone();
                move || {
                    let due = |counter: &Arc<CountingWaker>| {
                        let mut s = sleep(Duration::from_millis(10));
                        assert!(poll_once(&mut s, &Waker::from(counter.clone())).is_pending());
                        s
                    };
                    counters.iter().map(due).collect::<Vec<_>>()
                }
            });
            kept.extend(sleeps.split_off(per_shard / 2));
            dropping.push(sleeps);
            all_counters.extend(counters);
        }
        assert!(driver.auto_advance());
        let start = Arc::new(Barrier::new(3));
        let droppers: Vec<_> = dropping
            .into_iter()
            .enumerate()
            .map(|(shard, sleeps)| {
                let (handle, start) = (driver.handle(), start.clone());
                thread::spawn(move || {
                    let _shard = handle.enter_shard(1 - shard); // the other shard's thread
                    start.wait();
                    drop(sleeps);
                })
            })
            .collect();
        start.wait();
        let fired = driver.process();
        droppers.into_iter().for_each(|d| d.join().unwrap());
        let wakes: usize = all_counters.iter().map(|c| c.count()).sum();
        assert_eq!(fired, wakes, "round {round}");
        assert!(
            all_counters.iter().all(|c| c.count() <= 1),
            "round {round}: a sleep was woken twice"
        );
        assert!(fired >= kept.len(), "round {round}: every kept sleep fires");
        assert!(kept.iter().all(Sleep::is_elapsed), "round {round}");
        assert_eq!(driver.park_timeout(), None, "round {round}");
    }
}
