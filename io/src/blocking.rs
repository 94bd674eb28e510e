//! Summary: runs a closure on the driver's blocking hook and hands its
//! result back to an async caller through a small internal oneshot.
//!
//! Role: `net` resolves host names through [`run_blocking`]; `fs` performs
//! every file operation through it.
//!
//! Design: weft-io depends on no runtime crate, so it cannot call
//! `spawn_blocking`; the runtime instead gives the driver a hook
//! (`Driver::new`'s `blocking` argument) that runs a boxed closure on its
//! blocking pool. The result travels back through a oneshot made of an
//! `Arc<Mutex<..>>`: a channel crate would add a dependency for twenty lines.
//! If the hook drops the closure without running it (the pool is shutting
//! down), the sender's drop closes the channel and the caller gets an
//! error instead of hanging.
//!
//! Invariants:
//! - INV-1: the receiver's waker is stored and read only under the mutex,
//!   and the sender wakes it after storing the value or closing, so a
//!   receiver that saw neither is guaranteed a wake-up.
//!
//! Concurrency: the sender lives on a blocking-pool thread, the receiver in
//! a task; both only touch `Shared` under its mutex.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::reactor::readiness::wake_contained;
use crate::reactor::Handle;

/// What the two ends share.
struct Shared<T> {
    value: Option<T>,
    is_closed: bool,
    waker: Option<Waker>,
}

/// The sending end: moved into the blocking closure.
struct Sender<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Sender<T> {
    fn send(self, value: T) {
        self.shared.lock().value = Some(value);
        // Drop wakes the receiver (INV-1).
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut shared = self.shared.lock();
            shared.is_closed = true;
            shared.waker.take()
        };
        if let Some(waker) = waker {
            // On a blocking-pool thread: a panicking waker must not turn
            // into a panic of the pool's job (reactor INV-4).
            wake_contained(waker);
        }
    }
}

/// The result of a closure running on the blocking hook; resolves when the
/// closure returns.
pub(crate) struct Blocking<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Future for Blocking<T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let mut shared = self.shared.lock();
        if let Some(value) = shared.value.take() {
            return Poll::Ready(Ok(value));
        }
        if shared.is_closed {
            return Poll::Ready(Err(io::Error::other(
                "the blocking pool dropped the operation without running it (runtime shutting down?)",
            )));
        }
        match &mut shared.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// Runs `f` through `handle`'s blocking hook; the returned future yields its
/// result. Dropping the future does not cancel `f` (it cannot be stopped
/// mid-system-call); its result is then discarded.
pub(crate) fn run_blocking<T, F>(handle: &Handle, f: F) -> Blocking<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let shared = Arc::new(Mutex::new(Shared {
        value: None,
        is_closed: false,
        waker: None,
    }));
    let sender = Sender {
        shared: shared.clone(),
    };
    (handle.inner.blocking())(Box::new(move || sender.send(f())));
    Blocking { shared }
}
