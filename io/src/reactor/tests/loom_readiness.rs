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
