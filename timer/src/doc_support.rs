//! A minimal executor for this crate's doctests (weft-timer has no runtime of
//! its own; the real one is `weft-runtime`). Hidden from the docs, but it is
//! also the smallest complete example of the driver seam in
//! `docs/architecture.md`: enter the handle, poll, and when idle park on the
//! driver.
//!
//! The parker is the thread's own park token (`std::thread::park`), which
//! is remembered if `unpark` comes first, so no wake-up can be lost between
//! `park_timeout` and the park.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use crate::Driver;

/// Wakes the `block_on` thread.
struct ThreadWaker {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the AcqRel swap in `block_on`.
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Runs `future` to completion on this thread with a real-time clock.
pub fn block_on<F: Future>(future: F) -> F::Output {
    run(false, future)
}

/// Runs `future` to completion with the clock paused: idle time jumps to the
/// next timer, so long sleeps take no real time.
pub fn block_on_paused<F: Future>(future: F) -> F::Output {
    run(true, future)
}

fn run<F: Future>(start_paused: bool, future: F) -> F::Output {
    let thread = std::thread::current();
    let unpark_thread = thread.clone();
    let driver = Driver::new(start_paused, Arc::new(move || unpark_thread.unpark()));
    let _enter = driver.handle().enter();
    let waker_state = Arc::new(ThreadWaker {
        woken: AtomicBool::new(true),
        thread,
    });
    let waker = Waker::from(waker_state.clone());
    let mut future = std::pin::pin!(future);
    loop {
        if waker_state.woken.swap(false, Ordering::AcqRel) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                return output;
            }
            continue;
        }
        match driver.park_timeout() {
            Some(_) if driver.is_paused() => {
                driver.auto_advance();
            }
            Some(timeout) => std::thread::park_timeout(timeout),
            None => std::thread::park(),
        }
        driver.process();
    }
}
