//! Summary: a minimal `block_on` over a fresh [`Driver`], for this crate's
//! doctests only (hidden from the documentation, not part of the API).
//!
//! Role: doctests call `weft_io::doc_support::block_on(async { .. })`
//! because weft-io cannot depend on weft-runtime (the arrow points the
//! other way), yet its examples need something that drives the reactor.
//!
//! Design: the smallest correct executor over the driver seam: poll the
//! future; when it is pending, park in [`Driver::poll`] until an event or a
//! wake-up (the waker unparks the driver). Host names and files use a
//! blocking hook that starts one thread per job. Real programs use
//! `weft::run` or `weft::Runtime`.
//!
//! Invariants: none.
//!
//! Concurrency: one thread; wakers may fire from any thread (they only
//! unpark the driver).

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::{Driver, Unparker};

/// Marks the future as woken and gets the driver out of `poll`.
struct DriverWaker {
    is_woken: AtomicBool,
    unparker: Unparker,
}

impl Wake for DriverWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swap in `block_on`.
        self.is_woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}

/// Runs `future` to completion on this thread with a fresh driver entered.
///
/// # Errors
///
/// The OS error if the driver cannot be created or polled.
pub fn block_on<F: Future>(future: F) -> io::Result<F::Output> {
    let mut driver = Driver::new(Arc::new(|job: Box<dyn FnOnce() + Send>| {
        std::thread::spawn(job);
    }))?;
    let _entered = driver.handle().enter();
    let waker = Arc::new(DriverWaker {
        is_woken: AtomicBool::new(true),
        unparker: driver.unparker(),
    });
    let task_waker = Waker::from(waker.clone());
    let mut future = std::pin::pin!(future);
    loop {
        if waker.is_woken.swap(false, Ordering::Acquire) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&task_waker))
            {
                return Ok(output);
            }
        }
        driver.poll(None)?;
    }
}
