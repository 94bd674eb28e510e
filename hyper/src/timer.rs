//! Summary: [`WeftTimer`], hyper's `Timer` on weft's timer wheel.
//!
//! Role: hyper's server uses it for the header-read timeout, hyper-util's
//! client for connect/keep-alive timeouts and the pool's idle reaping.
//!
//! Design: each hyper sleep is one weft `Sleep` in the box hyper asks for;
//! `reset` moves the deadline of that same `Sleep` in place (hyper resets
//! its keep-alive timer on every request) instead of the trait's default of
//! allocating a new one. hyper's deadlines are `std::time::Instant`s; they
//! become weft `Instant`s with `Instant::from_std`, so a paused test clock
//! applies to them as to any weft sleep.
//!
//! Invariants: none.
//!
//! Concurrency: stateless; a sleep belongs to the task that polls it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// hyper's `rt::Timer` over `weft::time::sleep`.
///
/// # Panics
///
/// `sleep` and `sleep_until` panic outside a weft runtime (as
/// `weft::time::sleep` does).
#[derive(Clone, Copy, Debug, Default)]
pub struct WeftTimer {
    _private: (),
}

impl WeftTimer {
    /// A timer for the current weft runtime.
    pub fn new() -> WeftTimer {
        WeftTimer { _private: () }
    }
}

/// A weft `Sleep` seen as hyper's `Sleep`.
struct WeftSleep(weft_timer::Sleep);

impl Future for WeftSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl hyper::rt::Sleep for WeftSleep {}

impl hyper::rt::Timer for WeftTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WeftSleep(weft_timer::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let deadline = weft_timer::Instant::from_std(deadline);
        Box::pin(WeftSleep(weft_timer::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WeftSleep>() {
            Some(mut ours) => ours.0.reset(weft_timer::Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
