//! Loom model of the readiness protocol (`reactor/readiness.rs`): the
//! driver's set-readiness-then-wake (D1–D3) racing an operation's
//! snapshot / attempt / tick-checked clear / register / retry (O1–O3). The kernel's socket buffer is
//! modelled by an atomic flag that the "driver" sets before reporting the
//! edge, as the kernel queues data before epoll reports it.
//!
//! Property: if the operation returns `Pending`, its waker is woken by the
//! driver thread, so no wake-up is lost.

use std::io;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::reactor::readiness::{Direction, Registration, READABLE};

/// Preemption bound: two context switches explore every interleaving of
/// this two-thread protocol within seconds.
const PREEMPTION_BOUND: usize = 2;

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

/// Runs one operation attempt against a driver edge, starting from
/// `initial` readiness.
fn operation_races_edge(initial: usize) {
    model(move || {
        let registration = Arc::new(Registration::new());
        if initial != 0 {
            registration.set_readiness(initial);
        }
        let has_data = Arc::new(AtomicBool::new(false));

        let driver = {
            let (registration, has_data) = (registration.clone(), has_data.clone());
            thread::spawn(move || {
                // SeqCst: the kernel's buffer is linearizable; it pairs with
                // the SeqCst load in the operation.
                has_data.store(true, Ordering::SeqCst);
                registration.set_readiness(READABLE);
            })
        };

        let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let result = registration.poll_io(&mut cx, Direction::Read, || {
            if has_data.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            }
        });
        driver.join().unwrap();
        if let Poll::Pending = result {
            assert!(
                flag.0.load(Ordering::Acquire),
                "the operation went to sleep and the edge did not wake it"
            );
        }
    });
}

/// Stale readiness from an earlier edge: the operation attempts, gets
/// `WouldBlock`, clears unless the tick moved, and goes back to O1 while the
/// edge lands.
#[test]
fn loom_clear_then_retry_loses_no_edge() {
    operation_races_edge(READABLE);
}

/// No readiness yet: the operation registers and re-checks (O1) while the
/// edge lands.
#[test]
fn loom_register_then_recheck_loses_no_edge() {
    operation_races_edge(0);
}

/// O4: a short read forgets readiness while the driver reports an edge for
/// data that arrived after it. Whatever the interleaving, the next read
/// either finds the new data or sleeps with a waker the driver wakes.
#[test]
fn loom_short_read_clear_loses_no_edge() {
    use loom::sync::atomic::AtomicUsize;
    model(|| {
        let registration = Arc::new(Registration::new());
        // One byte is buffered and its edge already reported.
        let buffered = Arc::new(AtomicUsize::new(1));
        registration.set_readiness(READABLE);

        let driver = {
            let (registration, buffered) = (registration.clone(), buffered.clone());
            thread::spawn(move || {
                // SeqCst, as above: the kernel's buffer is linearizable.
                buffered.fetch_add(1, Ordering::SeqCst);
                registration.set_readiness(READABLE);
            })
        };

        // A read of up to 8 bytes: whatever is buffered, all of it.
        let read = || match buffered.swap(0, Ordering::SeqCst) {
            0 => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        };
        let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let first = registration.poll_io_draining(&mut cx, Direction::Read, read, |&n| n < 8);
        assert!(matches!(first, Poll::Ready(Ok(_))), "one byte was buffered");
        let second = registration.poll_io_draining(&mut cx, Direction::Read, read, |&n| n < 8);
        driver.join().unwrap();
        // Sleeping is right when nothing is buffered (the reads took it all);
        // with data buffered, only a woken waker makes it right.
        if let Poll::Pending = second {
            assert!(
                buffered.load(Ordering::SeqCst) == 0 || flag.0.load(Ordering::Acquire),
                "the short read's clear hid an edge: the reader sleeps on buffered data"
            );
        }
    });
}
