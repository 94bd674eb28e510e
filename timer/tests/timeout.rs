//! Behaviour of `timeout` and `timeout_at`: Ok before the deadline, Elapsed
//! after it, and no timer work for futures that finish on the first poll.

mod common;

use std::future::{pending, ready, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::{poll_once, TestRuntime};
use weft_timer::{sleep, timeout, timeout_at, Elapsed, Instant};

/// A future that finishes in time yields `Ok(output)`.
#[test]
fn timeout_returns_ok_when_the_future_finishes_first() {
    let rt = TestRuntime::paused();
    let out = rt.block_on(async {
        timeout(Duration::from_secs(5), async {
            sleep(Duration::from_secs(1)).await;
            42
        })
        .await
    });
    assert_eq!(out, Ok(42));
}

/// A future that is too slow is dropped and `Err(Elapsed)` is returned, at
/// exactly the deadline of the paused clock.
#[test]
fn timeout_returns_elapsed_when_the_deadline_passes_first() {
    let rt = TestRuntime::paused();
    let (out, waited) = rt.block_on(async {
        let start = Instant::now();
        let out = timeout(Duration::from_secs(3600), pending::<()>()).await;
        (out, start.elapsed())
    });
    assert!(matches!(out, Err(Elapsed { .. })), "{out:?}");
    assert_eq!(waited, Duration::from_secs(3600));
}

/// `timeout_at` with a past deadline still lets a ready future win: the
/// future is polled first.
#[test]
fn timeout_at_polls_the_future_before_checking_the_deadline() {
    let rt = TestRuntime::paused();
    let out =
        rt.block_on(async { timeout_at(Instant::now() - Duration::from_secs(1), ready(7)).await });
    assert_eq!(out, Ok(7));
    let out = rt.block_on(async { timeout_at(Instant::now(), pending::<()>()).await });
    assert!(out.is_err());
}

/// Around a future that is ready at once, the timer is never registered.
#[test]
fn timeout_around_a_ready_future_registers_no_timer() {
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let mut fut = Box::pin(timeout(Duration::from_secs(1), ready(1)));
    assert_eq!(
        poll_once(&mut fut, &common::noop_waker()),
        Poll::Ready(Ok(1))
    );
    assert_eq!(rt.driver.park_timeout(), None, "nothing entered the wheel");
}

/// Pending once, then ready: one insert, then the drop cancels it.
#[test]
fn timeout_around_a_pending_once_future_inserts_once_and_cancels_on_drop() {
    struct PendingOnce(bool);
    impl Future for PendingOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    let rt = TestRuntime::paused();
    let _enter = rt.handle().enter();
    let mut fut = Box::pin(timeout(Duration::from_secs(1), PendingOnce(false)));
    assert!(poll_once(&mut fut, &common::noop_waker()).is_pending());
    assert!(
        rt.driver.park_timeout().is_some(),
        "registered on the pending poll"
    );
    assert_eq!(
        poll_once(&mut fut, &common::noop_waker()),
        Poll::Ready(Ok(()))
    );
    drop(fut);
    assert_eq!(rt.driver.park_timeout(), None, "cancelled on drop");
}

/// `Duration::MAX` as a timeout means "no limit" and never panics.
#[test]
fn timeout_with_duration_max_saturates() {
    let rt = TestRuntime::paused();
    let out = rt.block_on(async { timeout(Duration::MAX, sleep(Duration::from_secs(1))).await });
    assert_eq!(out, Ok(()));
}

/// `Elapsed` is a proper error type.
#[test]
fn elapsed_is_an_error_with_a_message() {
    let rt = TestRuntime::paused();
    let err = rt
        .block_on(async { timeout(Duration::ZERO, pending::<()>()).await })
        .unwrap_err();
    let as_error: &dyn std::error::Error = &err;
    assert_eq!(as_error.to_string(), "deadline has elapsed");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

/// Creating a timeout outside a runtime panics with a message saying so.
#[test]
#[should_panic(expected = "weft::time::timeout called outside a weft runtime")]
fn timeout_outside_a_runtime_panics_with_a_message() {
    drop(timeout(Duration::from_secs(1), ready(())));
}
