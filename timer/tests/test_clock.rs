//! The test clock: `pause`, `resume`, `advance`, and auto-advance of an idle
//! runtime; plus the park window that decides when registrations unpark.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{poll_once, TestRuntime};
use weft_timer::{advance, pause, resume, sleep, Instant};

/// After `pause`, time stands still until `advance` moves it by exactly the
/// given amount.
#[test]
fn advance_moves_a_paused_clock_by_exactly_the_duration() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        pause();
        let start = Instant::now();
        assert_eq!(Instant::now(), start);
        advance(Duration::from_millis(1500)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    });
}

/// `advance` fires the timers that became due and lets their tasks run
/// before it returns.
#[test]
fn advance_fires_due_timers_and_yields_to_their_tasks() {
    let rt = TestRuntime::paused();
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    rt.spawn(async move {
        sleep(Duration::from_secs(5)).await;
        flag.store(true, Ordering::SeqCst);
    });
    rt.block_on(async {
        // Let the spawned task run and register its sleep.
        advance(Duration::ZERO).await;
        advance(Duration::from_secs(4)).await;
        assert!(!done.load(Ordering::SeqCst), "woke a second early");
        advance(Duration::from_secs(1)).await;
        assert!(done.load(Ordering::SeqCst), "not woken by advance");
    });
}

/// `advance` on a running clock is a misuse and says what to do.
#[test]
#[should_panic(
    expected = "weft::time::advance called while the clock is running: call weft::time::pause() first"
)]
fn advance_on_a_running_clock_panics_with_a_message() {
    let rt = TestRuntime::new();
    rt.block_on(advance(Duration::from_secs(1)));
}

/// `resume` continues from the frozen reading: the clock never goes back.
#[test]
fn resume_continues_from_the_frozen_reading() {
    let rt = TestRuntime::paused();
    rt.block_on(async {
        let start = Instant::now();
        advance(Duration::from_secs(3600)).await;
        resume();
        let after = Instant::now();
        assert!(after - start >= Duration::from_secs(3600));
        sleep(Duration::from_millis(2)).await;
        assert!(Instant::now() - after >= Duration::from_millis(2));
    });
}

/// An idle runtime with a paused clock jumps from deadline to deadline: a
/// chain of long sleeps takes no real time and lands on exact instants.
#[test]
fn an_idle_paused_runtime_jumps_from_deadline_to_deadline() {
    let rt = TestRuntime::paused();
    let wall = std::time::Instant::now();
    let offsets = rt.block_on(async {
        let start = Instant::now();
        let mut offsets = Vec::new();
        // The last one is beyond the wheel's ~2.2-year reach (overflow).
        for secs in [1u64, 60, 3600, 86_400 * 400, 86_400 * 1100] {
            sleep(Duration::from_secs(secs)).await;
            offsets.push(start.elapsed().as_secs());
        }
        offsets
    });
    let days = 86_400;
    assert_eq!(
        offsets,
        [1, 61, 3661, 3661 + 400 * days, 3661 + 1500 * days]
    );
    assert!(wall.elapsed() < Duration::from_secs(2));
}

/// Registrations unpark only inside a park window: after `process` (the
/// parker is awake) they do not; after `park_timeout` an earlier one does.
#[test]
fn registrations_unpark_only_while_the_driver_is_parked() {
    let rt = TestRuntime::new();
    let _enter = rt.handle().enter();
    let notifications = || rt.signal.notifications.load(Ordering::SeqCst);
    let mut first = sleep(Duration::from_secs(10));
    assert!(poll_once(&mut first, &common::noop_waker()).is_pending());
    assert_eq!(notifications(), 0, "nobody is parked yet");

    assert!(rt.driver.park_timeout().is_some());
    rt.driver.process();
    // A second ahead, so the 2 ms sleeps below are earlier however slowly
    // this thread runs (valgrind took more than the 3 ms a 5 ms sleep left).
    let mut awake = sleep(Duration::from_secs(1));
    assert!(poll_once(&mut awake, &common::noop_waker()).is_pending());
    assert_eq!(notifications(), 0, "the parker is awake and will see it");

    assert!(rt.driver.park_timeout().is_some());
    let mut earlier = sleep(Duration::from_millis(2));
    assert!(poll_once(&mut earlier, &common::noop_waker()).is_pending());
    assert_eq!(
        notifications(),
        1,
        "an earlier deadline while parked unparks"
    );
    let mut again = sleep(Duration::from_millis(2));
    assert!(poll_once(&mut again, &common::noop_waker()).is_pending());
    assert_eq!(notifications(), 1, "one unpark per park window");
}
