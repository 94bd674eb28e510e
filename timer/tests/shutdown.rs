//! What happens to timers when their driver (the runtime) is dropped first.

mod common;

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use common::{noop_waker, poll_once, CountingWaker};
use weft_timer::{sleep, Driver};

/// Dropping the driver wakes every pending timer's task, so nothing waits
/// forever on a timer that can no longer fire; dropping the sleep afterwards
/// is fine.
#[test]
fn dropping_the_driver_wakes_pending_timers() {
    let driver = Driver::new(false, Arc::new(|| {}));
    let counter = CountingWaker::new();
    let mut pending = {
        let _enter = driver.handle().enter();
        sleep(Duration::from_secs(60))
    };
    assert!(poll_once(&mut pending, &Waker::from(counter.clone())).is_pending());
    drop(driver);
    assert_eq!(counter.count(), 1);
    drop(pending);
    assert_eq!(
        Arc::strong_count(&counter),
        1,
        "the driver let go of the waker"
    );
}

/// Polling a timer whose runtime is gone is a misuse and says so.
#[test]
#[should_panic(expected = "a weft timer was polled after its runtime shut down")]
fn polling_a_timer_after_its_driver_dropped_panics_with_a_message() {
    let driver = Driver::new(false, Arc::new(|| {}));
    let mut orphan = {
        let _enter = driver.handle().enter();
        sleep(Duration::from_secs(60))
    };
    drop(driver);
    let _ = poll_once(&mut orphan, &noop_waker());
}
