//! Summary: `Parker`, how a runtime thread with nothing to do goes to
//! sleep, and `Unparker`, how another thread wakes it.
//!
//! Role: each worker (and the current-thread `block_on`) owns a `Parker`;
//! the scheduler keeps the matching `Unparker` to wake it when work
//! arrives. A parking thread either takes the runtime's drivers (and blocks
//! in them: I/O, timers) or, if another thread already holds them, blocks
//! on its own condvar.
//!
//! Design: the classic three-state parker (as `std::thread::park`, tokio
//! `park.rs`), with the "parked" state split in two so `unpark` knows how
//! to reach the sleeper: a condvar notify, or the driver's unparker.
//!
//! ```text
//!            park: try_lock drivers ok          unpark (driver.unpark)
//!   EMPTY ---------------------------> PARKED_DRIVER ------------------+
//!     ^  \   park: drivers busy                                        |
//!     |   +--------------------------> PARKED_CONDVAR ----------------+|
//!     |                                 unpark (condvar notify)       ||
//!     |       park returns (swap EMPTY)                               vv
//!     +------------------------------------------------------------ NOTIFIED
//!                          unpark while EMPTY: NOTIFIED directly (sticky)
//! ```
//!
//! Invariants:
//!
//! - PARK-1: an `unpark` is never lost: it sets NOTIFIED, and `park` only
//!   blocks after moving EMPTY -> PARKED_* by CAS, which fails if NOTIFIED
//!   is already set.
//! - PARK-2: the condvar is notified while holding `mutex`, and the
//!   sleeper moved to PARKED_CONDVAR while holding it, so the notify cannot
//!   fall between the sleeper's state change and its wait.
//!
//! Concurrency: `park` is called only by the owning thread; `unpark` by any
//! thread. `state` is AcqRel on every RMW: the unparker's writes (the work
//! it queued) must be visible to the woken thread.

use crate::debug::contain_panic;
use crate::driver::Driver;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Not parked, no pending wakeup.
const EMPTY: usize = 0;
/// Blocked on the condvar.
const PARKED_CONDVAR: usize = 1;
/// Blocked in the drivers.
const PARKED_DRIVER: usize = 2;
/// A wakeup is pending; the next `park` returns at once.
const NOTIFIED: usize = 3;

/// The sleeping side, owned by one thread. Cloned only so the owning
/// thread can park while its `Core` (which holds the parker) sits in the
/// worker context (`worker::in_context`); a clone never leaves that
/// thread.
#[derive(Clone)]
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// The waking side. Clone + Send + Sync.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    driver: Arc<Driver>,
}

impl Parker {
    pub(crate) fn new(driver: Arc<Driver>) -> Parker {
        let inner = Inner {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
            driver,
        };
        Parker {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until unparked (PARK-1), or until the drivers had something
    /// to do (an I/O event, a due timer). Returns early after a pending
    /// unpark. `is_idle` tells the drivers whether the whole runtime is idle
    /// (`driver.rs`: only then may a paused clock jump).
    pub(crate) fn park(&self, is_idle: &dyn Fn() -> bool) {
        let inner = &*self.inner;
        if inner.consume_notification() {
            return;
        }
        match inner.driver.try_lock() {
            Some(mut drivers) => {
                if inner.transition_to_parked(PARKED_DRIVER) {
                    if let Some(drivers) = drivers.as_mut() {
                        // A waker fired by a driver is user code (debug.rs).
                        contain_panic(|| drivers.park(None, is_idle));
                    }
                    inner.state.swap(EMPTY, Ordering::AcqRel);
                }
            }
            None => inner.park_condvar(),
        }
    }

    /// Polls the drivers without blocking, if no other thread holds them:
    /// a busy worker's way of keeping I/O and timers moving.
    pub(crate) fn poll_drivers(&self) {
        if let Some(mut drivers) = self.inner.driver.try_lock() {
            if let Some(drivers) = drivers.as_mut() {
                contain_panic(|| drivers.park(Some(Duration::ZERO), &|| false));
            }
        }
    }
}

impl Inner {
    /// NOTIFIED -> EMPTY; true if there was a pending wakeup.
    fn consume_notification(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// EMPTY -> `parked`; false (and the notification consumed) if an
    /// unpark came first (PARK-1).
    fn transition_to_parked(&self, parked: usize) -> bool {
        match self
            .state
            .compare_exchange(EMPTY, parked, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(actual) => {
                debug_assert_eq!(actual, NOTIFIED, "only the owner parks");
                self.state.swap(EMPTY, Ordering::AcqRel);
                false
            }
        }
    }

    fn park_condvar(&self) {
        let mut guard = self.mutex.lock();
        // PARK-2: the state changes under the mutex the notifier takes.
        if !self.transition_to_parked(PARKED_CONDVAR) {
            return;
        }
        loop {
            self.condvar.wait(&mut guard);
            if self.consume_notification() {
                return;
            }
            // A spurious wakeup: still PARKED_CONDVAR, wait again.
        }
    }
}

impl Unparker {
    /// Wakes the parker, or makes its next `park` return at once (PARK-1).
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, Ordering::AcqRel) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // PARK-2: taking the mutex orders this notify after the
                // sleeper's wait began.
                drop(inner.mutex.lock());
                inner.condvar.notify_one();
            }
            PARKED_DRIVER => inner.driver.unpark(),
            actual => unreachable!("invalid parker state {actual}"),
        }
    }
}
