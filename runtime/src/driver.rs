//! Summary: the I/O and timer drivers a parked thread blocks in, behind one
//! lock: "one parked worker at a time owns the drivers".
//!
//! Role: `park.rs` calls [`DriverLock::try_lock`] when a worker (or the
//! current-thread `block_on`) has nothing to run; the holder calls
//! [`DriverPair::park`]. Anyone calls [`DriverLock::unpark`] to get the holder out
//! of it. `context.rs` enters the [`DriverLock::timer_handle`] and
//! [`DriverLock::io_handle`] on every runtime thread, so `sleep` and sockets
//! find them.
//!
//! Design: this is the seam of `docs/architecture.md`. The runtime owns one
//! `weft_io::Driver` (a `mio::Poll`) and one `weft_timer::Driver` (the
//! wheel, one shard per worker). Parking means: ask the timer how long we
//! may sleep, block in `mio::Poll` that long, then fire due timers:
//!
//! ```text
//! park(timeout):                     // only the thread holding the drivers lock
//!     t = min(timeout, timer.park_timeout())
//!     if timer.is_paused() and t is Some:    // test clock: never sleep for a timer
//!         woke = io.poll(Some(0))
//!         if !woke and runtime idle: timer.auto_advance()
//!         else if !woke: io.poll(Some(PAUSED_RECHECK))   // let busy workers go idle
//!     else:
//!         io.poll(t)
//!     timer.process()
//! unpark():  io.unparker().unpark()  // also given to the timer as its `unpark`
//! ```
//!
//! The timer's `unpark` is the reactor's `mio::Waker`, so a sleep registered
//! earlier than the parked thread's deadline cuts the poll short. The
//! reactor's blocking hook runs closures on the runtime's blocking pool
//! (name resolution, files); it holds only a weak reference to the runtime,
//! so it cannot keep a dropped runtime alive.
//!
//! Invariants:
//!
//! - DRV-1: at most one thread is inside [`DriverPair::park`] at a time (it
//!   holds the `drivers` mutex), and it polls no task while there: the
//!   drivers only wake tasks onto queues, so the lock is released before
//!   any task runs, and `park.rs` hands it to a waiting thread (PARK-3).
//! - DRV-2: an `unpark` before or during `park` makes that `park` (or the
//!   next) return: the `mio::Waker` leaves a token the next poll consumes.
//! - DRV-3: after [`DriverLock::shutdown`] the drivers are gone (dropping them
//!   wakes every pending timer and socket with a shutdown error); parking
//!   threads then block on their own condvar only.
//!
//! Concurrency: `drivers` is locked by the parking thread (and once by
//! shutdown); `unpark` and the handles are usable from any thread.

use parking_lot::{Mutex, MutexGuard};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// With a paused clock and other workers still busy, the driver holder
/// re-checks this often whether the runtime went idle (and the clock may
/// jump). Only paused test clocks on the multi-thread flavour pay it; 1 ms
/// is short against test timeouts and long against a poll's cost.
const PAUSED_RECHECK: Duration = Duration::from_millis(1);

/// The runtime's drivers and the lock that makes one parked thread their owner.
pub(crate) struct DriverLock {
    drivers: Mutex<Option<DriverPair>>,
    unparker: weft_io::Unparker,
    timer_handle: weft_timer::Handle,
    io_handle: weft_io::Handle,
}

/// What the lock holder drives.
pub(crate) struct DriverPair {
    io: weft_io::Driver,
    timer: weft_timer::Driver,
}

impl DriverLock {
    /// Creates both drivers. `blocking` is the reactor's hook onto the
    /// blocking pool; `workers` is the number of cores, and so of timer
    /// shards (the timer caps them at 64): each worker thread registers its
    /// timers in the shard of its core index (`worker::run`), so workers do
    /// not contend on one timer lock.
    ///
    /// # Errors
    ///
    /// The OS error if the reactor's `mio::Poll` cannot be created.
    pub(crate) fn new(
        start_paused: bool,
        workers: usize,
        blocking: weft_io::BlockingHook,
    ) -> io::Result<DriverLock> {
        let io = weft_io::Driver::new(blocking)?;
        let unparker = io.unparker();
        let timer_unparker = io.unparker();
        let timer = weft_timer::Driver::with_shards(
            start_paused,
            workers,
            Arc::new(move || timer_unparker.unpark()),
        );
        Ok(DriverLock {
            unparker,
            timer_handle: timer.handle(),
            io_handle: io.handle(),
            drivers: Mutex::new(Some(DriverPair { io, timer })),
        })
    }

    /// The drivers, if no other thread is parked in them (DRV-1) and the
    /// runtime is not shut down (DRV-3).
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Option<DriverPair>>> {
        self.drivers.try_lock().filter(|drivers| drivers.is_some())
    }

    /// Gets the driver holder out of `park` (DRV-2).
    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }

    /// The handle timer futures use (entered on every runtime thread).
    pub(crate) fn timer_handle(&self) -> &weft_timer::Handle {
        &self.timer_handle
    }

    /// The handle sockets use (entered on every runtime thread).
    pub(crate) fn io_handle(&self) -> &weft_io::Handle {
        &self.io_handle
    }

    /// True if parking can end without an unpark from outside: a timer is
    /// pending or an I/O source is registered (explore mode's deadlock
    /// test, EXP-5). Calling it opens a park window like any
    /// `park_timeout`; the next park or `process` closes it.
    pub(crate) fn can_wake_a_task(&self) -> bool {
        self.drivers.lock().as_ref().is_some_and(|drivers| {
            drivers.timer.park_timeout().is_some() || drivers.io.source_count() > 0
        })
    }

    /// True if any I/O source was ever registered: the run's timing then
    /// depended on the OS (explore mode reports it).
    pub(crate) fn has_registered_io(&self) -> bool {
        self.drivers
            .lock()
            .as_ref()
            .is_some_and(|drivers| drivers.io.registrations() > 0)
    }

    /// Drops both drivers (DRV-3): pending timers and sockets learn that
    /// their runtime is gone. Called once the worker threads have stopped.
    pub(crate) fn shutdown(&self) {
        self.unpark();
        let drivers = self.drivers.lock().take();
        drop(drivers);
    }
}

impl DriverPair {
    /// Blocks until an I/O event, a due timer, an unpark, or `timeout`
    /// (None = no limit), then fires due timers. `is_quiescent` says whether the
    /// whole runtime has nothing to run (only then may a paused clock jump).
    pub(crate) fn park(&mut self, timeout: Option<Duration>, is_quiescent: &dyn Fn() -> bool) {
        if timeout == Some(Duration::ZERO) {
            // A turn (a yield's, or the periodic one): no wait to bound, so
            // no need to ask the timer for its next deadline (a clock read);
            // a paused clock does not jump in a turn either.
            self.poll_io(timeout);
            self.timer.process();
            return;
        }
        let timer_timeout = self.timer.park_timeout();
        let timeout = match (timeout, timer_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.timer.is_paused() && timer_timeout.is_some() {
            let woke = self.poll_io(Some(Duration::ZERO));
            if !woke && timeout != Some(Duration::ZERO) {
                if is_quiescent() {
                    self.timer.auto_advance();
                } else {
                    self.poll_io(Some(PAUSED_RECHECK));
                }
            }
        } else {
            self.poll_io(timeout);
        }
        self.timer.process();
    }

    /// Polls the reactor; an OS error from `epoll_wait` other than EINTR
    /// means the reactor is unusable, which no task could recover from.
    fn poll_io(&mut self, timeout: Option<Duration>) -> bool {
        self.io
            .poll(timeout)
            .unwrap_or_else(|err| panic!("the weft I/O driver failed to poll: {err}"))
    }
}
