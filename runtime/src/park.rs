//! Summary: `Parker`, how a runtime thread with nothing to do goes to
//! sleep, and `Unparker`, how another thread wakes it.
//!
//! Role: each worker (and the current-thread `block_on`) owns a `Parker`;
//! the scheduler keeps the matching `Unparker` to wake it when work
//! arrives. A parking thread either takes the runtime's drivers (and blocks
//! in them: I/O, timers) or, if another thread already holds them, blocks
//! on its own condvar, registered in the [`HandOff`] so that the holder,
//! leaving the drivers, wakes it to take them over.
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
//!   PARKED_CONDVAR --timed waiter's timeout--> EMPTY (or NOTIFIED consumed)
//! ```
//!
//! The drivers hand-over: a thread that leaves the drivers (to run the
//! tasks they woke, or after a busy worker's non-blocking poll) must not
//! leave them unattended while another thread sleeps on its condvar: a
//! task that then blocks its worker for long would hold up every timer and
//! socket. So a thread that finds the drivers taken registers as a waiter
//! before it re-tries them, and a thread leaving them wakes one waiter,
//! mirrored around SeqCst fences:
//!
//! ```text
//!   leaving holder                       thread finding the drivers taken
//!   H1. unlock the drivers               W1. register in HandOff (untimed += 1 unless timed)
//!   H2. fence(SeqCst)                    W2. fence(SeqCst)
//!   H3. load the untimed count           W3. try_lock the drivers again
//!   H4. if > 0: unpark an untimed waiter W4. if taken again: sleep on the condvar
//! ```
//!
//! Either the holder sees the waiter (and wakes it: it re-parks and takes
//! the drivers), or the waiter's W3 sees the drivers free (PARK-3). No task
//! is ever polled inside the drivers (they only wake tasks onto a queue),
//! so a thread holds them only while it has nothing to run.
//!
//! That wake has a price on a busy runtime: a holder woken by one socket
//! leaves to run one short task, wakes the waiter, which takes the drivers,
//! and the first, done, finds them taken and sleeps on its condvar; every
//! event swapped the two with a futex wake, a futex wait and two context
//! switches (a hyper server under `wrk` paid 2-5x tokio's futex calls per
//! request, `docs/performance.md`). So a waiter that goes to sleep while
//! the runtime is busy (the holder is not blocked in the drivers, or its
//! parks, the last one and this one so far, are shorter than
//! [`WAITER_RECHECK`]) sleeps with that timeout and re-tries
//! the drivers itself, and the leaving holder wakes only waiters asleep
//! without one (H3 counts those): a busy runtime pays at most one timed
//! wake-up per millisecond per waiter, and a holder that then gets stuck
//! in a poll leaves the drivers unattended for at most that long. A waiter
//! that finds the holder's parks longer (an idle runtime, or events more
//! than a millisecond apart, where one hand-over per event costs less than
//! re-checks every millisecond) sleeps without a timeout and is woken at
//! the hand-over, as before.
//! Rejected: waiters that always retry on a timer (every idle worker wakes
//! every millisecond, for nothing, while the holder is fine); handing the
//! drivers over only to workers woken for work (a task that blocks its
//! worker right after an I/O wake leaves them unattended: tokio's gap);
//! handing over only when the leaving worker goes on to run tasks rather
//! than re-park at once (measured: no fewer wakes, since the leaves that
//! hand over are the ones with a task to run).
//!
//! Invariants:
//!
//! - PARK-1: an `unpark` is never lost: it sets NOTIFIED, and `park` only
//!   blocks after moving EMPTY -> PARKED_* by CAS, which fails if NOTIFIED
//!   is already set.
//! - PARK-2: the condvar is notified while holding `mutex`, and the
//!   sleeper moved to PARKED_CONDVAR while holding it, so the notify cannot
//!   fall between the sleeper's state change and its wait.
//! - PARK-3: while any thread sleeps on its condvar without a timeout
//!   because the drivers were taken, the drivers are held, or a leaving
//!   holder has woken such a waiter (which will take them): never
//!   unattended with an untimed waiter asleep. A timed waiter (it slept
//!   while the runtime was busy) re-tries them within [`WAITER_RECHECK`].
//!
//! Concurrency: `park` is called only by the owning thread; `unpark` by any
//! thread. `state` is AcqRel on every RMW: the unparker's writes (the work
//! it queued) must be visible to the woken thread. `DriverSeat::parked_at`
//! is Relaxed: it only chooses between a timed and an untimed sleep, and
//! either choice is safe (PARK-3), a stale reading costs at most one
//! needless wake-up or one timed re-try.

use crate::debug::contain_panic;
use crate::driver::{DriverLock, DriverPair};
use crate::loom::{fence, AtomicUsize, Mutex as HandOffMutex, Ordering as HandOffOrdering};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a waiter that went to sleep while the runtime was busy sleeps
/// before it tries the drivers again itself (PARK-3): the longest the
/// drivers stay unattended if their last holder is then stuck in a poll.
const WAITER_RECHECK: Duration = Duration::from_millis(1);

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

/// What the parkers of one runtime share: the drivers and their hand-over.
pub(crate) struct DriverSeat {
    driver: Arc<DriverLock>,
    waiters: HandOff<Unparker>,
    /// When the holder began its blocking park in the drivers, in
    /// nanoseconds after `origin` plus one; 0 while no thread blocks in
    /// them. A waiter reads it to choose how to sleep (PARK-3).
    parked_at: std::sync::atomic::AtomicU64,
    /// How long the last blocking park in the drivers lasted, in
    /// nanoseconds: short parks mean events come often.
    last_park: std::sync::atomic::AtomicU64,
    origin: Instant,
}

impl DriverSeat {
    pub(crate) fn new(driver: Arc<DriverLock>) -> Arc<DriverSeat> {
        Arc::new(DriverSeat {
            driver,
            waiters: HandOff::new(),
            parked_at: std::sync::atomic::AtomicU64::new(0),
            last_park: std::sync::atomic::AtomicU64::new(u64::MAX),
            origin: Instant::now(),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// True if the runtime is busy: the drivers' holder is not blocked in
    /// them (a busy worker's quick poll), or its parks are short (its last
    /// one, and this one so far, under [`WAITER_RECHECK`]). A waiter then
    /// sleeps with that timeout rather than make every leaving holder wake
    /// it; with events farther apart, a hand-over per event is cheaper
    /// than the timed re-checks.
    fn holder_is_busy(&self) -> bool {
        let recheck = u64::try_from(WAITER_RECHECK.as_nanos()).unwrap_or(u64::MAX);
        let parked_at = self.parked_at.load(Ordering::Relaxed);
        parked_at == 0
            || (self.now().saturating_sub(parked_at) < recheck
                && self.last_park.load(Ordering::Relaxed) < recheck)
    }

    /// H1..H4: called right after this thread let go of the drivers.
    fn left_drivers(&self) {
        if let Some(waiter) = self.waiters.take_after_release() {
            waiter.unpark();
        }
    }
}

struct Inner {
    state: std::sync::atomic::AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
    seat: Arc<DriverSeat>,
}

impl Parker {
    pub(crate) fn new(seat: &Arc<DriverSeat>) -> Parker {
        let inner = Inner {
            state: std::sync::atomic::AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
            seat: seat.clone(),
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

    /// Blocks until unparked (PARK-1), until the drivers had something to
    /// do (an I/O event, a due timer), or, in the drivers, until `timeout`.
    /// Returns early after a pending unpark. A thread that finds the drivers
    /// taken sleeps on its condvar until unparked, `timeout` or not: the
    /// holder hands the drivers over when it leaves (PARK-3). `is_quiescent`
    /// tells the drivers whether the whole runtime is idle (`driver.rs`:
    /// only then may a paused clock jump).
    pub(crate) fn park(&self, timeout: Option<Duration>, is_quiescent: &dyn Fn() -> bool) {
        let inner = &*self.inner;
        if inner.consume_notification() {
            return;
        }
        let seat = &*inner.seat;
        if self.try_park_in_drivers(timeout, is_quiescent) {
            return;
        }
        // W1..W3: register, then look again (the holder may have left).
        let me = self.unparker();
        let timed = seat.holder_is_busy();
        seat.waiters.register(me.clone(), timed);
        if self.try_park_in_drivers(timeout, is_quiescent) {
            seat.waiters
                .unregister(|waiter| Arc::ptr_eq(&waiter.inner, &me.inner));
            return;
        }
        // W4: a timed waiter wakes by itself; the caller parks again, and
        // takes the drivers if their holder has left them.
        inner.park_condvar(timed.then(|| Instant::now() + WAITER_RECHECK));
        seat.waiters
            .unregister(|waiter| Arc::ptr_eq(&waiter.inner, &me.inner));
    }

    /// Parks in the drivers if no other thread holds them; false if one does.
    fn try_park_in_drivers(
        &self,
        timeout: Option<Duration>,
        is_quiescent: &dyn Fn() -> bool,
    ) -> bool {
        let inner = &*self.inner;
        let Some(mut drivers) = inner.seat.driver.try_lock() else {
            return false;
        };
        if inner.transition_to_parked(PARKED_DRIVER) {
            if let Some(drivers) = drivers.as_mut() {
                let seat = &*inner.seat;
                let parked_at = seat.now();
                seat.parked_at.store(parked_at, Ordering::Relaxed);
                drive(drivers, timeout, is_quiescent);
                let parked_for = seat.now().saturating_sub(parked_at);
                seat.last_park.store(parked_for, Ordering::Relaxed);
                seat.parked_at.store(0, Ordering::Relaxed);
            }
            inner.state.swap(EMPTY, Ordering::AcqRel);
        }
        drop(drivers);
        inner.seat.left_drivers();
        true
    }

    /// Polls the drivers without blocking, if no other thread holds them:
    /// a busy worker's way of keeping I/O and timers moving.
    pub(crate) fn poll_drivers(&self) {
        let seat = &*self.inner.seat;
        if let Some(mut drivers) = seat.driver.try_lock() {
            if let Some(drivers) = drivers.as_mut() {
                drive(drivers, Some(Duration::ZERO), &|| false);
            }
            drop(drivers);
            seat.left_drivers();
        }
    }
}

/// Runs the drivers once; a waker they fire is user code (debug.rs).
fn drive(drivers: &mut DriverPair, timeout: Option<Duration>, is_quiescent: &dyn Fn() -> bool) {
    contain_panic(|| drivers.park(timeout, is_quiescent));
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

    /// Sleeps on the condvar until unparked or, if given, `deadline`.
    fn park_condvar(&self, deadline: Option<Instant>) {
        let mut guard = self.mutex.lock();
        // PARK-2: the state changes under the mutex the notifier takes.
        if !self.transition_to_parked(PARKED_CONDVAR) {
            return;
        }
        loop {
            match deadline {
                None => self.condvar.wait(&mut guard),
                Some(deadline) => {
                    if self.condvar.wait_until(&mut guard, deadline).timed_out() {
                        // Back to EMPTY, or consume an unpark that came
                        // first (PARK-1): either way the wait is over.
                        self.state.swap(EMPTY, Ordering::AcqRel);
                        return;
                    }
                }
            }
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
            PARKED_DRIVER => inner.seat.driver.unpark(),
            actual => unreachable!("invalid parker state {actual}"),
        }
    }
}

/// Threads asleep because another thread held the drivers (PARK-3), and
/// the protocol that hands the drivers to one of them (H1..H4, W1..W4).
/// Generic over the waiter so the loom model can run it with its own.
pub(crate) struct HandOff<W> {
    /// How many untimed waiters `list` holds; read lock-free by H3.
    untimed: AtomicUsize,
    /// Each waiter, and whether it sleeps with a timeout (then no holder
    /// needs to wake it).
    list: HandOffMutex<Vec<(W, bool)>>,
}

impl<W> HandOff<W> {
    pub(crate) fn new() -> HandOff<W> {
        HandOff {
            untimed: AtomicUsize::new(0),
            list: HandOffMutex::new(Vec::new()),
        }
    }

    /// W1..W2: registers `waiter`, which will sleep with a timeout if
    /// `timed`; the caller then re-tries the drivers (W3).
    pub(crate) fn register(&self, waiter: W, timed: bool) {
        let mut list = self.list.lock();
        list.push((waiter, timed));
        if !timed {
            // SeqCst: the store half of the W1/H3 pair.
            self.untimed.fetch_add(1, HandOffOrdering::SeqCst);
        }
        drop(list);
        // W2. SeqCst: StoreLoad between W1 and the caller's W3; pairs with H2.
        fence(HandOffOrdering::SeqCst);
    }

    /// Removes the waiter `is_me` picks, if a holder has not taken it out.
    pub(crate) fn unregister(&self, is_me: impl Fn(&W) -> bool) {
        let mut list = self.list.lock();
        if let Some(position) = list.iter().position(|(waiter, _)| is_me(waiter)) {
            let (_, timed) = list.swap_remove(position);
            if !timed {
                self.untimed.fetch_sub(1, HandOffOrdering::SeqCst);
            }
        }
    }

    /// H2..H4, after the caller unlocked the drivers (H1): the untimed
    /// waiter to wake so it takes the drivers over, if any (a timed one
    /// comes back by itself).
    pub(crate) fn take_after_release(&self) -> Option<W> {
        // H2. SeqCst: StoreLoad between the unlock (H1) and H3; pairs with W2.
        fence(HandOffOrdering::SeqCst);
        // H3. SeqCst: the load half of the pair.
        if self.untimed.load(HandOffOrdering::SeqCst) == 0 {
            return None;
        }
        let mut list = self.list.lock();
        let position = list.iter().rposition(|&(_, timed)| !timed)?;
        let (waiter, _) = list.swap_remove(position);
        self.untimed.fetch_sub(1, HandOffOrdering::SeqCst);
        Some(waiter)
    }
}
