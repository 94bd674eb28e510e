//! Summary: the drivers a parked worker blocks in, behind one lock: "one
//! parked worker at a time owns the drivers".
//!
//! Role: `park.rs` calls [`Driver::try_lock`] when a worker (or the
//! current-thread `block_on`) has nothing to run; the holder calls
//! [`Drivers::park`]. Anyone calls [`Driver::unpark`] to get the holder
//! out of it (through [`Unparker`]).
//!
//! Design: this is the seam of `docs/architecture.md`. Until weft-io's
//! reactor and weft-timer's wheel are wired in, the drivers are a single
//! wakeup signal: `park` blocks on a condvar until `unpark` (or the
//! timeout). The timer and reactor plug in here without changing `park.rs`
//! or the scheduler: `park` becomes "compute the timer deadline, poll mio
//! until then, fire due timers" and `unpark` becomes the mio waker.
//!
//! Invariants:
//!
//! - DRV-1: at most one thread is inside [`Drivers::park`] at a time (it
//!   holds the `drivers` mutex).
//! - DRV-2: an `unpark` that happens before or during `park` makes that
//!   `park` (or the next one) return: the signal is a sticky flag, consumed
//!   by the park that observes it.
//!
//! Concurrency: `drivers` is locked only by the parking thread; `unpark`
//! only touches the signal, from any thread.

use parking_lot::{Condvar, Mutex, MutexGuard};
use std::sync::Arc;
use std::time::Duration;

/// The runtime's drivers and the lock that makes one parked thread their owner.
pub(crate) struct Driver {
    drivers: Mutex<Drivers>,
    unparker: Unparker,
}

/// What the lock holder drives.
pub(crate) struct Drivers {
    signal: Arc<Signal>,
}

/// Wakes the thread parked in the drivers. Clone + Send + Sync.
#[derive(Clone)]
pub(crate) struct Unparker {
    signal: Arc<Signal>,
}

/// A sticky wakeup flag (DRV-2) with a condvar to block on.
struct Signal {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Driver {
    pub(crate) fn new() -> Driver {
        let signal = Arc::new(Signal {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        });
        Driver {
            drivers: Mutex::new(Drivers {
                signal: signal.clone(),
            }),
            unparker: Unparker { signal },
        }
    }

    /// The drivers, if no other thread is parked in them (DRV-1).
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Drivers>> {
        self.drivers.try_lock()
    }

    /// Gets the driver holder out of `park` (DRV-2).
    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }
}

impl Drivers {
    /// Blocks until unparked or until `timeout` (None = no limit) passes.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = self.signal.notified.lock();
        if !*notified {
            match timeout {
                Some(timeout) => {
                    self.signal.condvar.wait_for(&mut notified, timeout);
                }
                None => {
                    while !*notified {
                        self.signal.condvar.wait(&mut notified);
                    }
                }
            }
        }
        *notified = false;
    }
}

impl Unparker {
    pub(crate) fn unpark(&self) {
        *self.signal.notified.lock() = true;
        self.signal.condvar.notify_one();
    }
}
