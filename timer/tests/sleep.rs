//! Behaviour of `sleep`, `sleep_until` and `Sleep` through the public API,
//! driven by the small test executor in `common`.

mod common;

use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

use common::{poll_once, CountingWaker, TestRuntime};
use weft_timer::{sleep, sleep_until, Instant};

/// A real-clock sleep does not complete before its duration.
#[test]
fn sleep_completes_no_earlier_than_its_duration() {
    let rt = TestRuntime::new();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(20)).await;
        start.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(20),
        "woke after {elapsed:?}"
    );
}

/// With the clock paused, a one-hour sleep finishes at once (auto-advance)
/// and the clock reads exactly one hour later.
#[test]
fn a_one_hour_sleep_finishes_instantly_with_a_paused_clock() {
    let rt = TestRuntime::paused();
    let wall = std::time::Instant::now();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(3600)).await;
        start.elapsed()
    });
    assert_eq!(elapsed, Duration::from_secs(3600));
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "took {:?} of real time",
        wall.elapsed()
    );
}

/// Records, in wake order, the index of each sleep it stands for.
struct OrderWaker {
    index: usize,
    order: Arc<Mutex<Vec<usize>>>,
}

impl Wake for OrderWaker {
    fn wake(self: Arc<Self>) {
        self.order.lock().unwrap().push(self.index);
    }
}

/// Many sleeps with random deadlines (paused clock) are woken in deadline
/// order, each exactly once, and all complete.
#[test]
fn random_sleeps_fire_in_deadline_order() {
    let count = 100_000;
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let order = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut sleeps = Vec::with_capacity(count);
    for index in 0..count {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Spread over ~11.6 days so every wheel level is used.
        let millis = seed % 1_000_000_000 + 1;
        let mut sleep = sleep(Duration::from_millis(millis));
        let waker = Waker::from(Arc::new(OrderWaker {
            index,
            order: order.clone(),
        }));
        assert!(poll_once(&mut sleep, &waker).is_pending());
        sleeps.push(sleep);
    }
    while rt.driver.park_timeout().is_some() {
        assert!(rt.driver.auto_advance());
        rt.driver.process();
    }
    let order = order.lock().unwrap();
    assert_eq!(order.len(), count, "every sleep is woken exactly once");
    let deadlines: Vec<Instant> = order.iter().map(|&i| sleeps[i].deadline()).collect();
    assert!(
        deadlines.windows(2).all(|w| w[0] <= w[1]),
        "woken out of deadline order"
    );
    let waker = &common::noop_waker();
    assert!(sleeps.iter_mut().all(|s| poll_once(s, waker).is_ready()));
}

/// A deadline already in the past completes on the first poll.
#[test]
fn sleep_until_a_past_instant_is_ready_on_first_poll() {
    let rt = TestRuntime::new();
    let _enter = rt.handle().enter();
    let mut sleep = sleep_until(Instant::now() - Duration::from_secs(1));
    assert_eq!(
        poll_once(&mut sleep, &common::noop_waker()),
        Poll::Ready(())
    );
    assert!(sleep.is_elapsed());
    assert_eq!(
        rt.driver.park_timeout(),
        None,
        "a completed sleep registers nothing"
    );
}

/// `Duration::MAX` saturates: no panic, a far deadline, never fires early.
#[test]
fn sleep_for_duration_max_saturates_instead_of_panicking() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let now = Instant::now();
    let mut forever = sleep(Duration::MAX);
    assert!(forever.deadline() > now + Duration::from_secs(100 * 365 * 86_400));
    assert!(poll_once(&mut forever, &common::noop_waker()).is_pending());
    assert_eq!(rt.driver.process(), 0);
    assert!(!forever.is_elapsed());
    assert_eq!(
        rt.driver.park_timeout(),
        None,
        "\"forever\" takes no wheel slot"
    );
    assert!(
        !rt.driver.auto_advance(),
        "a paused clock never jumps towards \"forever\""
    );
    // Reset into reach, then back to forever: the entry leaves the wheel.
    forever.reset(now + Duration::from_secs(1));
    assert!(poll_once(&mut forever, &common::noop_waker()).is_pending());
    assert!(rt.driver.park_timeout().is_some());
    forever.reset(now + Duration::MAX);
    assert_eq!(rt.driver.park_timeout(), None);
    let _ = now + Duration::MAX;
    let _ = now - Duration::MAX;
    drop(sleep_until(now + Duration::MAX));
}

/// Creating a sleep outside a runtime panics with a message saying so.
#[test]
#[should_panic(
    expected = "weft::time::sleep called outside a weft runtime: call it from inside Runtime::block_on or a spawned task"
)]
fn sleep_outside_a_runtime_panics_with_a_message() {
    drop(sleep(Duration::from_millis(1)));
}

/// `reset` of a registered sleep moves its entry: the waiting task is woken
/// at the new deadline, not the old one.
#[test]
fn reset_moves_a_registered_sleep_to_the_new_deadline() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let start = Instant::now();
    let counter = CountingWaker::new();
    let waker = Waker::from(counter.clone());
    let mut sleep = sleep(Duration::from_secs(10));
    assert!(poll_once(&mut sleep, &waker).is_pending());
    sleep.reset(start + Duration::from_secs(1));
    assert_eq!(sleep.deadline(), start + Duration::from_secs(1));
    assert!(rt.driver.auto_advance());
    assert_eq!(rt.driver.process(), 1);
    assert_eq!(
        counter.count(),
        1,
        "the original waker is kept across reset"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert!(poll_once(&mut sleep, &waker).is_ready());
}

/// A completed sleep becomes pending again after a reset into the future.
#[test]
fn reset_after_completion_makes_a_sleep_pending_again() {
    let rt = TestRuntime::paused();
    rt.block_on(async {
        let mut sleep = sleep(Duration::from_millis(5));
        (&mut sleep).await;
        assert!(sleep.is_elapsed());
        let start = Instant::now();
        sleep.reset(start + Duration::from_millis(7));
        assert!(!sleep.is_elapsed());
        (&mut sleep).await;
        assert_eq!(start.elapsed(), Duration::from_millis(7));
    });
}

/// Registering a deadline earlier than the one the parked thread sleeps
/// towards calls `unpark`; a later one does not.
#[test]
fn an_earlier_deadline_unparks_the_parked_thread_and_a_later_one_does_not() {
    let rt = TestRuntime::new();
    let _enter = rt.handle().enter();
    let mut far = sleep(Duration::from_secs(3600));
    assert!(poll_once(&mut far, &common::noop_waker()).is_pending());
    let timeout = rt.driver.park_timeout().expect("a timer is pending");
    // A lower bound: the start of the wheel slot that holds the deadline, a
    // level-4 slot of 64^4 ticks of 125 us (about 2,097 s).
    assert!(
        timeout > Duration::from_secs(1500) && timeout <= Duration::from_secs(3600),
        "{timeout:?}"
    );
    let before = rt
        .signal
        .notifications
        .load(std::sync::atomic::Ordering::SeqCst);

    let mut later = sleep(Duration::from_secs(7200));
    assert!(poll_once(&mut later, &common::noop_waker()).is_pending());
    let after_later = rt
        .signal
        .notifications
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after_later, before, "a later deadline must not unpark");

    let handle = rt.handle();
    std::thread::spawn(move || {
        let _enter = handle.enter();
        let mut soon = sleep(Duration::from_millis(50));
        assert!(poll_once(&mut soon, &common::noop_waker()).is_pending());
        std::mem::forget(soon); // keep it registered past this thread
    })
    .join()
    .unwrap();
    let after_soon = rt
        .signal
        .notifications
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        after_soon,
        before + 1,
        "an earlier deadline unparks exactly once"
    );
    let t = rt.driver.park_timeout().unwrap();
    assert!(
        t <= Duration::from_millis(51),
        "deadlines round up to the next ms: {t:?}"
    );
}

/// Many tasks sleeping on the real clock all complete, each after its deadline.
#[test]
fn many_tasks_sleeping_on_the_real_clock_all_complete_after_their_deadlines() {
    let rt = TestRuntime::new();
    let late = Arc::new(Mutex::new(Vec::new()));
    const TASKS: u64 = 200;
    for i in 0..TASKS {
        let late = late.clone();
        rt.spawn(async move {
            let deadline = Instant::now() + Duration::from_millis(1 + i % 30);
            sleep_until(deadline).await;
            late.lock().unwrap().push(Instant::now() >= deadline);
        });
    }
    rt.run_spawned();
    let late = late.lock().unwrap();
    assert_eq!(late.len() as u64, TASKS);
    assert!(
        late.iter().all(|&on_time| on_time),
        "a sleep completed before its deadline"
    );
}

/// `Instant` follows the paused clock and converts to and from std.
#[test]
fn instant_follows_the_paused_clock() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let start = Instant::now();
    assert_eq!(Instant::now(), start, "a paused clock stands still");
    let std_start: std::time::Instant = start.into();
    assert_eq!(Instant::from(std_start), start);
    assert_eq!(
        (start + Duration::from_millis(3)) - start,
        Duration::from_millis(3)
    );
}

/// A "forever" sleep keeps its task's waker: resetting it into reach wakes
/// the task at the new deadline without another poll first, and so does a
/// round trip registered -> forever -> registered.
#[test]
fn reset_of_a_forever_sleep_wakes_the_waiting_task_at_the_new_deadline() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let counter = CountingWaker::new();
    let waker = Waker::from(counter.clone());
    let start = Instant::now();
    let mut sleep = sleep(Duration::MAX);
    assert!(poll_once(&mut sleep, &waker).is_pending());
    sleep.reset(start + Duration::from_secs(2));
    assert!(rt.driver.auto_advance());
    assert_eq!(rt.driver.process(), 1);
    assert_eq!(
        counter.count(),
        1,
        "woken through the waker kept while \"forever\""
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert!(poll_once(&mut sleep, &waker).is_ready());

    sleep.reset(start + Duration::from_secs(10));
    assert!(poll_once(&mut sleep, &waker).is_pending());
    sleep.reset(start + Duration::MAX);
    assert_eq!(
        rt.driver.park_timeout(),
        None,
        "back to forever: out of the wheel"
    );
    sleep.reset(start + Duration::from_secs(4));
    assert!(rt.driver.auto_advance());
    assert_eq!(rt.driver.process(), 1);
    assert_eq!(counter.count(), 2);
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

/// Deadlines that are not whole ticks (125 us) or whole milliseconds never
/// fire early on the real clock: each is rounded up to the next tick, and
/// the park aims at that tick to the nanosecond.
#[test]
fn odd_deadlines_on_the_real_clock_never_fire_early() {
    weft_timer::doc_support::block_on(async {
        for micros in [1, 130, 999, 1_300, 2_071] {
            let duration = Duration::from_micros(micros);
            let start = std::time::Instant::now();
            sleep(duration).await;
            assert!(start.elapsed() >= duration, "{micros} us");
        }
    });
}

/// A waker that panics when woken (a buggy executor's, say).
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics on wake");
    }
}

/// Two timers due at the same tick fire in one batch; the first one's
/// waker panics. The driver contains that panic and still wakes the second
/// (INV-6 of the timer's shared state): before, the unwind dropped the rest
/// of the batch unwoken, and its tasks never ran again.
#[test]
fn a_panicking_waker_does_not_cost_the_rest_of_its_batch_their_wake() {
    let driver = weft_timer::Driver::new(true, Arc::new(|| {}));
    let _guard = driver.handle().enter();
    let panicking = Waker::from(Arc::new(PanickingWaker));
    let counting = CountingWaker::new();
    let mut first = Box::pin(sleep(Duration::from_secs(1)));
    let mut second = Box::pin(sleep(Duration::from_secs(1)));
    assert!(poll_once(&mut first, &panicking).is_pending());
    assert!(poll_once(&mut second, &Waker::from(counting.clone())).is_pending());
    assert!(driver.auto_advance());
    assert_eq!(driver.process(), 2, "both entries fired");
    assert_eq!(counting.count(), 1, "the second waker was woken");
    assert!(poll_once(&mut second, &common::noop_waker()).is_ready());
}

/// Shutting the driver down wakes every pending timer, a panicking waker's
/// included, and the others after it still (INV-6).
#[test]
fn shutdown_wakes_every_timer_past_a_panicking_waker() {
    let driver = weft_timer::Driver::new(true, Arc::new(|| {}));
    let counting = CountingWaker::new();
    let (mut first, mut second) = {
        let _guard = driver.handle().enter();
        (
            Box::pin(sleep(Duration::from_secs(1))),
            Box::pin(sleep(Duration::from_secs(2))),
        )
    };
    let panicking = Waker::from(Arc::new(PanickingWaker));
    {
        let _guard = driver.handle().enter();
        assert!(poll_once(&mut first, &panicking).is_pending());
        assert!(poll_once(&mut second, &Waker::from(counting.clone())).is_pending());
    }
    drop(driver);
    assert_eq!(counting.count(), 1, "the later timer was woken at shutdown");
}
