//! The time driver: the wheel behind a lock, the clock, and the park protocol
//! that tells the runtime how long it may sleep and wakes it when a new,
//! earlier deadline arrives.
//!
//! # Summary
//!
//! [`Driver`] is owned by the runtime and driven by the one worker that parks
//! on it (see the driver seam in `docs/architecture.md`):
//!
//! ```text
//! park:   t = driver.park_timeout()     // records "parked until earliest"
//!         block for at most t (None = until unparked)
//!         driver.process()              // wakes every due timer
//! ```
//!
//! Timer futures reach the same shared state through a [`Handle`]: a `Sleep`
//! registers on first poll (`register`), refreshes its waker on later polls
//! (`poll_entry`), moves on `reset` (`reschedule`) and deregisters on drop
//! (`cancel`).
//!
//! # Design
//!
//! One `Wheel<Waker>` under one lock. The lock is held only for O(1) wheel
//! operations; waking happens after it is released, in batches of
//! [`WAKE_BATCH`] so `process` needs no allocation. A per-slot lock or a
//! lock-free wheel would cut contention further, at the cost of a much harder
//! proof; a single short critical section is the textbook-clear choice.
//!
//! # Invariants
//!
//! - INV-1: no waker is woken or dropped while `state` is locked (a waker may
//!   run arbitrary executor code, including code that drops another `Sleep`
//!   and so takes this lock again).
//! - INV-2 (no lost unpark): whenever `park` is `Parked { until }`, a newly
//!   registered or rescheduled entry due before `until` (or any entry, if
//!   `until` is `None`) makes the registering thread call `unpark` and set
//!   `park` to `Awake`. `park_timeout` computes `until` and stores it under
//!   the same lock as registrations, so every registration is either seen by
//!   the parker's computation or sees the parker's `until`. Only the parker
//!   itself sets `Awake` otherwise (`Driver::process`, after it woke).
//! - INV-3: an entry fires (is taken out of the wheel and its waker woken)
//!   at most once; a `Sleep` that finds its key gone knows it fired.
//!
//! # State machine of `park`
//!
//! ```text
//!          transition_to_parked (park_timeout)
//! Awake ----------------------------------------> Parked{until}
//!   ^                                                  |
//!   +-- transition_on_deadline (due < until): unpark --+
//!   +-- transition_to_awake (Driver::process; pause/resume: unpark)
//! ```
//!
//! `Parked -> Parked` also happens: each `park_timeout` recomputes `until`.
//!
//! # Concurrency
//!
//! `state` (wheel + park state) is touched by any thread, always under its
//! lock; lock order is `state`, then the clock's lock. `unpark` is called
//! with no lock held.
//!
//! The no-lost-unpark protocol (INV-2), both sides:
//!
//! ```text
//! parker                                     registering thread
//! P1. lock; until = earliest deadline;       R1. lock; insert the entry (due at t)
//!     park = Parked{until}; unlock           R2. if park is Parked{until} and t < until:
//! P2. block until `until` or a token             park = Awake, note the duty; unlock
//! P3. woke: Driver::process sets Awake,      R3. duty noted: call unpark (the token)
//!     fires what is due
//! ```
//!
//! The lock orders P1 against R1-R2: if R1 comes first, P1's `until` already
//! accounts for `t`; if P1 comes first, R2 sees `until` and R3 unparks. R3
//! may run before P2 blocks, so the runtime's unpark must leave a token that
//! a later block consumes at once (a `mio::Waker`, `Thread::unpark`, or a
//! flag under a condvar's mutex), never a bare `Condvar::notify`.

use std::fmt;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::clock::Clock;
use crate::handle::Handle;
use crate::loom::Mutex;
use crate::wheel::{Key, Wheel};

/// Wakers collected per lock acquisition in `process`: enough to amortise the
/// lock, small enough to live on the stack (32 wakers = 512 bytes).
const WAKE_BATCH: usize = 32;

/// Whether a thread is (about to be) blocked towards a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ParkState {
    /// No thread is parked, or an unpark is already on its way: registrations
    /// need not unpark (the next `park_timeout` will see them).
    Awake,
    /// A thread is blocked until tick `until` (`None`: until unparked).
    Parked { until: Option<u64> },
}

/// What the caller of a [`ParkState`] transition must do next.
#[must_use = "a lost unpark leaves the parked thread asleep past a deadline"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnparkDuty {
    /// Call `unpark` (after releasing the lock).
    Unpark,
    /// Nothing: no thread is parked, or it was already unparked.
    Nothing,
}

impl ParkState {
    /// `park_timeout`: the parker is about to block until `until`.
    fn transition_to_parked(&mut self, until: Option<u64>) {
        *self = ParkState::Parked { until };
    }

    /// INV-2: an entry due at `tick` was added; the parker must be woken if
    /// it sleeps past `tick`.
    fn transition_on_deadline(&mut self, tick: u64) -> UnparkDuty {
        let sleeps_past = match *self {
            ParkState::Awake => false,
            ParkState::Parked { until: None } => true,
            ParkState::Parked { until: Some(until) } => tick < until,
        };
        if sleeps_past {
            *self = ParkState::Awake;
            UnparkDuty::Unpark
        } else {
            UnparkDuty::Nothing
        }
    }

    /// The parker is (being made) awake: wake it if it is parked.
    fn transition_to_awake(&mut self) -> UnparkDuty {
        match std::mem::replace(self, ParkState::Awake) {
            ParkState::Parked { .. } => UnparkDuty::Unpark,
            ParkState::Awake => UnparkDuty::Nothing,
        }
    }
}

struct State {
    wheel: Wheel<Waker>,
    park: ParkState,
    /// Set when the [`Driver`] is dropped; timers can no longer fire.
    is_shutdown: bool,
}

/// What a registered `Sleep` finds when it polls its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryPoll {
    /// Still in the wheel; the waker is up to date.
    Pending,
    /// Gone from the wheel: it fired (INV-3).
    Fired,
}

/// The state shared by the [`Driver`] and every [`Handle`].
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    state: Mutex<State>,
    unpark: Arc<dyn Fn() + Send + Sync>,
}

/// The panic message for timers whose runtime is gone.
const SHUTDOWN_MESSAGE: &str = "a weft timer was polled after its runtime shut down: \
                                keep timers inside the runtime that created them";

impl Shared {
    /// Adds an entry due at `tick` that wakes `waker`; unparks the parked
    /// thread if this entry is due before it would wake (INV-2).
    ///
    /// # Panics
    ///
    /// Panics if the driver has shut down.
    pub(crate) fn register(&self, tick: u64, waker: Waker) -> Key {
        let (key, duty) = {
            let mut state = self.state.lock();
            assert!(!state.is_shutdown, "{SHUTDOWN_MESSAGE}");
            let key = state.wheel.insert(tick, waker);
            (key, state.park.transition_on_deadline(tick))
        };
        self.perform(duty);
        key
    }

    /// Refreshes a registered entry's waker, or reports that it fired.
    ///
    /// # Panics
    ///
    /// Panics if the driver has shut down.
    pub(crate) fn poll_entry(&self, key: Key, waker: &Waker) -> EntryPoll {
        let replaced = {
            let mut state = self.state.lock();
            assert!(!state.is_shutdown, "{SHUTDOWN_MESSAGE}");
            match state.wheel.get_mut(key) {
                None => return EntryPoll::Fired,
                Some(current) if current.will_wake(waker) => return EntryPoll::Pending,
                Some(current) => std::mem::replace(current, waker.clone()),
            }
        };
        // INV-1: the old waker is dropped after the lock is released.
        drop(replaced);
        EntryPoll::Pending
    }

    /// Moves a registered entry to `tick`; false if it already fired.
    pub(crate) fn reschedule(&self, key: Key, tick: u64) -> bool {
        let (moved, duty) = {
            let mut state = self.state.lock();
            let moved = state.wheel.reschedule(key, tick);
            let duty = if moved {
                state.park.transition_on_deadline(tick)
            } else {
                UnparkDuty::Nothing
            };
            (moved, duty)
        };
        self.perform(duty);
        moved
    }

    /// Removes a registered entry and hands back its waker; `None` (and no
    /// change) if it already fired. The caller drops the waker, with the lock
    /// released (INV-1).
    pub(crate) fn cancel(&self, key: Key) -> Option<Waker> {
        self.state.lock().wheel.remove(key)
    }

    /// True while the entry `key` names is still waiting to fire.
    pub(crate) fn is_pending(&self, key: Key) -> bool {
        self.state.lock().wheel.get_mut(key).is_some()
    }

    /// Carries out an [`UnparkDuty`]; called with no lock held.
    fn perform(&self, duty: UnparkDuty) {
        if duty == UnparkDuty::Unpark {
            (self.unpark)();
        }
    }

    /// Wakes the parked thread so it recomputes its timeout (used when the
    /// clock is paused or resumed).
    pub(crate) fn unpark_parker(&self) {
        let duty = self.state.lock().park.transition_to_awake();
        self.perform(duty);
    }

    /// The parker calls this when it wakes: registrations from now on need
    /// no unpark until its next `park_timeout`.
    fn end_park(&self) {
        // The caller is the parker itself, awake: nothing to unpark.
        let _awake_already = self.state.lock().park.transition_to_awake();
    }

    /// Fires every entry due at the clock's current tick; see [`Driver::process`].
    pub(crate) fn process(&self) -> usize {
        let now = self.clock.tick_at_or_before(self.clock.now());
        let mut fired = 0;
        loop {
            let mut batch: [Option<Waker>; WAKE_BATCH] = std::array::from_fn(|_| None);
            let mut taken = 0;
            {
                let mut state = self.state.lock();
                while taken < WAKE_BATCH {
                    match state.wheel.poll(now) {
                        Some(waker) => {
                            batch[taken] = Some(waker);
                            taken += 1;
                        }
                        None => break,
                    }
                }
            }
            // INV-1: wake with the lock released.
            for waker in batch.iter_mut().take(taken) {
                if let Some(waker) = waker.take() {
                    waker.wake();
                }
            }
            fired += taken;
            if taken < WAKE_BATCH {
                return fired;
            }
        }
    }

    fn park_timeout(&self) -> Option<Duration> {
        let mut state = self.state.lock();
        let earliest = state.wheel.next_expiration();
        // INV-2: recorded under the same lock registrations take.
        state.park.transition_to_parked(earliest);
        let deadline = self.clock.instant_of(earliest?);
        Some(deadline.saturating_duration_since(self.clock.now()))
    }

    fn auto_advance(&self) -> bool {
        let mut state = self.state.lock();
        // Lock order: state, then the clock (inside `jump_if_paused`), so the
        // wheel's cascade and the clock's jump happen as one step.
        self.clock.jump_if_paused(|| {
            let tick = state.wheel.advance_to_earliest()?;
            Some(self.clock.instant_of(tick))
        })
    }

    fn shut_down(&self) {
        let wakers = {
            let mut state = self.state.lock();
            state.is_shutdown = true;
            std::iter::from_fn(|| state.wheel.poll(u64::MAX)).collect::<Vec<_>>()
        };
        // INV-1: wake with the lock released; the woken tasks' timers panic
        // with SHUTDOWN_MESSAGE if they are polled again.
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// The time driver a runtime owns: it tells the parking thread how long it may
/// sleep and fires due timers.
///
/// # Examples
///
/// Driving a timer by hand with a paused clock:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use weft_timer::Driver;
///
/// let driver = Driver::new(true, Arc::new(|| {}));
/// let _guard = driver.handle().enter();
/// let mut sleep = std::pin::pin!(weft_timer::sleep(Duration::from_secs(3600)));
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: Arc<Self>) {} }
/// let waker = std::task::Waker::from(Arc::new(Noop));
/// let mut cx = std::task::Context::from_waker(&waker);
/// assert!(sleep.as_mut().poll(&mut cx).is_pending());
/// assert!(driver.park_timeout().is_some());
/// assert!(driver.auto_advance()); // the paused clock jumps an hour ahead
/// assert_eq!(driver.process(), 1);
/// assert!(sleep.as_mut().poll(&mut cx).is_ready());
/// # use std::future::Future;
/// ```
pub struct Driver {
    shared: Arc<Shared>,
}

impl Driver {
    /// A new driver with its own clock (paused at creation if `start_paused`).
    /// `unpark` is called, from any thread and with no lock held, when a
    /// deadline earlier than the one the parked thread sleeps towards is
    /// registered.
    ///
    /// `unpark` may be called after [`park_timeout`](Driver::park_timeout)
    /// but before the thread actually blocks, so it must leave a token the
    /// next block consumes (as `mio::Waker` and `Thread::unpark` do).
    pub fn new(start_paused: bool, unpark: Arc<dyn Fn() + Send + Sync>) -> Driver {
        let state = State {
            wheel: Wheel::new(),
            park: ParkState::Awake,
            is_shutdown: false,
        };
        let shared = Shared {
            clock: Clock::new(start_paused),
            state: Mutex::new(state),
            unpark,
        };
        Driver {
            shared: Arc::new(shared),
        }
    }

    /// A handle for timer futures (enter it on the runtime's threads).
    pub fn handle(&self) -> Handle {
        Handle::new(self.shared.clone())
    }

    /// How long the parking thread may block: `None` when no timer is
    /// pending, `Some(Duration::ZERO)` when one is already due.
    ///
    /// For a deadline far ahead the answer may be earlier than the deadline
    /// (the start of the wheel slot holding it): the thread then wakes,
    /// `process` cascades the slot, and the next park is closer; at most one
    /// such early wake per wheel level.
    ///
    /// Call it right before every park: it also records the deadline the
    /// thread sleeps towards, so that registering an earlier one calls
    /// `unpark`. With a paused clock the duration is measured on the paused
    /// clock; the runtime then does not sleep on it but calls
    /// [`auto_advance`](Driver::auto_advance) when idle.
    pub fn park_timeout(&self) -> Option<Duration> {
        self.shared.park_timeout()
    }

    /// Fires (wakes) every timer whose deadline is at or before the clock's
    /// now, with no lock held while wakers run. Returns how many fired.
    ///
    /// Call it from the parking thread after every park: it also ends the
    /// park window opened by [`park_timeout`](Driver::park_timeout), so timers
    /// registered while this thread is awake do not call `unpark`.
    pub fn process(&self) -> usize {
        self.shared.end_park();
        self.shared.process()
    }

    /// If the clock is paused and a timer is pending, jumps the clock to the
    /// earliest deadline (never backwards) and returns true; the next
    /// [`process`](Driver::process) fires it. The runtime calls this only when
    /// it is idle (no runnable task and no I/O event).
    pub fn auto_advance(&self) -> bool {
        self.shared.auto_advance()
    }

    /// True while the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.shared.clock.is_paused()
    }
}

impl Drop for Driver {
    /// Wakes every pending timer's task; polling such a timer again panics,
    /// since its runtime is gone and it can never fire.
    fn drop(&mut self) {
        self.shared.shut_down();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("is_paused", &self.is_paused())
            .finish_non_exhaustive()
    }
}
