//! [`Sleep`]: the future that completes at a deadline, and its constructors
//! [`sleep`] and [`sleep_until`].
//!
//! # Summary
//!
//! A `Sleep` is a deadline plus a registration in the driver's wheel. It
//! registers lazily, on its first poll, and deregisters when dropped, so a
//! `Sleep` that is never polled pending (say, the one inside a `timeout`
//! around a future that is immediately ready) never touches the wheel.
//!
//! # State machine
//!
//! ```text
//!                 poll, deadline not reached
//! Unregistered ----------------------------------> Registered(key)
//!   |   ^  ^                                          |   |
//!   |   |  +------ reset (entry already fired) -------+   | poll finds the
//!   |   +---------- reset --------- Elapsed <-------------+ entry fired
//!   | poll, deadline reached           ^
//!   +----------------------------------+
//!
//! A deadline "never" (INV-2) registers a held entry: Registered(key) too.
//! ```
//!
//! `reset` while `Registered` with the entry still in the wheel moves the
//! entry in place (same key, same waker), between a slot and the held state
//! as the new deadline says. Dropping a `Registered` sleep cancels its
//! entry. In every state that has seen a poll, the last waker is kept in
//! the wheel, so a `reset` wakes the waiting task at the new deadline
//! without it polling again first.
//!
//! # Design
//!
//! The entry lives in the driver's arena, not inside the future, so `Sleep` is
//! `Unpin`, has no `unsafe`, and can be moved or dropped from any thread. The
//! price is one arena slot per pending sleep (reused, no allocation per sleep
//! once the arena has grown) and one lock acquisition per register, re-poll
//! and cancel: the lock of the shard it registered in (the polling worker's
//! own, `shared.rs`), which its home remembers wherever it moves later. See
//! `wheel/arena.rs` for the intrusive alternative.
//!
//! A `Sleep` reaches its driver through a `ShardHome` (`handle.rs`): the
//! home of the thread that made it, cloned from an `Arc` that thread owns,
//! so a worker making and dropping sleeps writes a reference count no other
//! worker writes; a runtime `Handle`'s count, which a `Sleep` bumped before,
//! is written by every worker. A sleep first polled on another worker's
//! thread takes that worker's home before it registers, so it still
//! registers in the shard of the thread that polls it. The home also names
//! the shard, so the registration holds only the wheel key, with the two
//! states that have no entry as two keys the wheel never issues: 40 bytes
//! in all (the home, the exact deadline, the key), where a `Handle`, a key
//! that carried its shard and a `Never` state holding a waker made 56.
//!
//! # Invariants
//!
//! - INV-1: `Registered(key)` means the driver was given an entry for the
//!   current `deadline`; the entry is either still in the wheel or has fired
//!   exactly once (driver INV-3). `Elapsed` means `deadline` has passed.
//! - INV-2: a deadline at or beyond `NEVER_TICK` (about 146 million years
//!   away, e.g. `sleep(Duration::MAX)`) is never scheduled: its entry is
//!   held (`Wheel::hold`: in the arena with its waker, on no list), so it
//!   takes no wheel slot, never fires, and neither a park nor a paused
//!   clock waits for it.
//!
//! # Concurrency
//!
//! A `Sleep` is polled, reset and dropped through `&mut`/ownership, so its
//! own fields need no synchronisation; every shared access goes through the
//! lock of its driver shard.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use std::sync::Arc;

use crate::clock::NEVER_TICK;
use crate::context::{current_home_for, hinted_home_elsewhere};
use crate::handle::ShardHome;
use crate::instant::{saturating_add, Instant};
use crate::shared::{EntryPoll, Shared};
use crate::wheel::Key;

/// Where a [`Sleep`] stands with the driver (INV-1, INV-2), as the
/// [`Registration`] key holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Unregistered,
    /// In the wheel of `home`'s shard (shared INV-4): due at the deadline's
    /// tick, or held there if the deadline is too far to ever come (INV-2).
    Registered(Key),
    Elapsed,
}

/// A [`Stage`] in the 16 bytes of one wheel [`Key`]: the two stages without
/// an entry are the two keys no wheel issues. A `Stage` enum would be 24
/// bytes, and every parked sleeper carries this field.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Registration(Key);

impl Registration {
    const UNREGISTERED: Registration = Registration(Key::MARKERS[0]);
    const ELAPSED: Registration = Registration(Key::MARKERS[1]);

    fn stage(self) -> Stage {
        match self {
            Registration::UNREGISTERED => Stage::Unregistered,
            Registration::ELAPSED => Stage::Elapsed,
            Registration(key) => Stage::Registered(key),
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.stage().fmt(f)
    }
}

/// A future that completes at a deadline. Created by [`sleep`] and
/// [`sleep_until`].
///
/// The timer has 125 us resolution and never completes early: the deadline
/// is rounded up to the next eighth of a millisecond of the runtime's clock.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    /// The driver and the shard this sleep registers in: the making
    /// thread's, cloned from a count only that thread writes (context
    /// INV-3), until a first poll on another worker moves it there.
    home: Arc<ShardHome>,
    deadline: Instant,
    registration: Registration,
}

/// Waits until `duration` has passed. `Duration::MAX` (or any duration that
/// overflows the clock) saturates to a far-future deadline and never panics;
/// a deadline that far away never fires and takes no timer slot, so
/// `sleep(Duration::MAX)` is a cheap "forever".
///
/// The equivalent of Python's `asyncio.sleep`.
///
/// # Panics
///
/// Panics if called outside a weft runtime (from a thread that has not
/// entered a timer [`Handle`](crate::Handle)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{sleep, Instant};
///
/// # weft_timer::doc_support::block_on(async {
/// let start = Instant::now();
/// sleep(Duration::from_millis(10)).await;
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// # });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let home = current_home_for("weft::time::sleep");
    let now = home.shared().clock.now();
    let deadline = Instant::from_std(saturating_add(now, duration));
    Sleep::new(home, deadline)
}

/// Waits until `deadline`; a deadline in the past completes on the first poll.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{sleep_until, Instant};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let deadline = Instant::now() + Duration::from_secs(30);
/// sleep_until(deadline).await;
/// assert_eq!(Instant::now(), deadline);
/// # });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(current_home_for("weft::time::sleep_until"), deadline)
}

impl Sleep {
    /// A sleep on `home`'s driver; it registers on first poll.
    pub(crate) fn new(home: Arc<ShardHome>, deadline: Instant) -> Sleep {
        Sleep {
            home,
            deadline,
            registration: Registration::UNREGISTERED,
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed (by the runtime's clock) or the
    /// sleep has completed.
    pub fn is_elapsed(&self) -> bool {
        match self.registration.stage() {
            Stage::Elapsed => true,
            Stage::Registered(key) => !self.shared().is_pending(self.home.shard(), key),
            Stage::Unregistered => self.deadline.into_std() <= self.shared().clock.now(),
        }
    }

    /// Changes the deadline, whether or not the sleep has completed; a
    /// completed sleep becomes pending again if `deadline` is in the future.
    ///
    /// A registered sleep keeps its wheel entry and waker (an O(1) move), so
    /// the task waiting on it is woken at the new deadline without polling
    /// again first.
    ///
    /// # Examples
    ///
    /// A watchdog that is pushed back:
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{sleep, Instant};
    ///
    /// # weft_timer::doc_support::block_on_paused(async {
    /// let start = Instant::now();
    /// let mut watchdog = sleep(Duration::from_secs(1));
    /// watchdog.reset(start + Duration::from_secs(5));
    /// watchdog.await;
    /// assert_eq!(start.elapsed(), Duration::from_secs(5));
    /// # });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let tick = self.tick();
        let shard = self.home.shard();
        let kept = match self.registration.stage() {
            // INV-2: out of the wheel's slots, keeping the key and waker.
            Stage::Registered(key) if tick >= NEVER_TICK => self.shared().hold_entry(shard, key),
            // Also brings a held entry back into reach.
            Stage::Registered(key) => self.shared().reschedule(shard, key, tick),
            Stage::Elapsed | Stage::Unregistered => false,
        };
        if !kept {
            self.registration = Registration::UNREGISTERED;
        }
    }

    /// The current reading of this sleep's runtime clock.
    pub(crate) fn clock_now(&self) -> Instant {
        Instant::from_std(self.shared().clock.now())
    }

    fn shared(&self) -> &Shared {
        self.home.shared()
    }

    /// The wheel tick of the deadline, rounded up (never early).
    fn tick(&self) -> u64 {
        self.shared()
            .clock
            .tick_at_or_after(self.deadline.into_std())
    }

    /// Registers an entry due at `tick` (held, if `tick` is never reached:
    /// INV-2) in the shard of the calling thread (a runtime worker's own),
    /// moving this sleep's home there first if it was made on another
    /// thread.
    fn register(&mut self, tick: u64, waker: Waker) -> Key {
        if let Some(home) = hinted_home_elsewhere(self.shared(), self.home.shard()) {
            self.home = home;
        }
        if tick >= NEVER_TICK {
            self.shared().hold(self.home.shard(), waker)
        } else {
            self.shared().register(self.home.shard(), tick, waker)
        }
    }

    /// Moves to `Elapsed` and reports `Ready`.
    fn transition_to_elapsed(&mut self) -> Poll<()> {
        self.registration = Registration::ELAPSED;
        Poll::Ready(())
    }
}

impl Future for Sleep {
    type Output = ();

    /// Spends one unit of the cooperative budget when the deadline has
    /// passed; with the budget spent, wakes the task and yields instead.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = std::task::ready!(weft_coop::poll_proceed(cx));
        let poll = self.poll_deadline(cx);
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }
}

impl Sleep {
    /// One poll against the deadline: `Ready` once it has passed, else
    /// registers the waker with the driver.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        match this.registration.stage() {
            Stage::Elapsed => Poll::Ready(()),
            Stage::Unregistered => {
                if this.deadline.into_std() <= this.shared().clock.now() {
                    return this.transition_to_elapsed();
                }
                let tick = this.tick();
                let key = this.register(tick, cx.waker().clone());
                this.registration = Registration(key);
                Poll::Pending
            }
            Stage::Registered(key) => {
                match this.shared().poll_entry(this.home.shard(), key, cx.waker()) {
                    EntryPoll::Pending => Poll::Pending,
                    EntryPoll::Fired => this.transition_to_elapsed(),
                }
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Stage::Registered(key) = self.registration.stage() {
            // The waker is dropped here, after the lock is released (driver INV-1).
            drop(self.shared().cancel(self.home.shard(), key));
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registration", &self.registration)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Driver;

    /// Every parked sleeper carries its `Sleep`: the home (one pointer),
    /// the exact deadline and the registration (one wheel key).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_sleep_is_five_words() {
        assert_eq!(std::mem::size_of::<Sleep>(), 40);
    }

    /// A sleep too long to ever end is held in the wheel's arena: it keeps
    /// its waker there, no park or paused clock waits for it, and a reset
    /// into reach wakes the task at the new deadline without a new poll.
    #[test]
    fn a_never_sleep_is_held_and_a_reset_brings_it_into_reach() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let driver = Driver::new(true, Arc::new(|| {}));
        let handle = driver.handle();
        let _enter = handle.enter();
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let waker = std::task::Waker::from(count.clone());
        let mut forever = sleep(Duration::MAX);
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut forever).poll(&mut cx).is_pending());
        assert!(matches!(forever.registration.stage(), Stage::Registered(_)));
        assert!(!forever.is_elapsed());
        assert_eq!(
            driver.park_timeout(),
            None,
            "nothing for a park to wait for"
        );
        assert!(
            !handle.shared().auto_advance(),
            "a paused clock has nowhere to jump"
        );
        forever.reset(forever.clock_now() + Duration::from_millis(5));
        assert_eq!(driver.park_timeout(), Some(Duration::from_millis(5)));
        forever.reset(forever.clock_now() + Duration::MAX);
        assert_eq!(driver.park_timeout(), None, "held again");
        forever.reset(forever.clock_now() + Duration::from_millis(1));
        handle.shared().clock.advance(Duration::from_millis(1));
        driver.process();
        assert_eq!(count.0.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(Pin::new(&mut forever).poll(&mut cx).is_ready());
    }

    /// Making, registering and dropping sleeps on one thread writes the
    /// count of that thread's home, never the driver's.
    #[test]
    fn sleeps_share_their_threads_home_and_leave_the_driver_count_alone() {
        let driver = Driver::with_shards(false, 2, Arc::new(|| {}));
        let handle = driver.handle();
        let _enter = handle.enter();
        let _shard = handle.enter_shard(1);
        let before = handle.driver_count();
        let mut sleeps: Vec<Sleep> = (0..3).map(|_| sleep(Duration::from_secs(5))).collect();
        let waker = std::task::Waker::noop();
        for sleep in &mut sleeps {
            let polled = Pin::new(sleep).poll(&mut Context::from_waker(waker));
            assert!(polled.is_pending());
        }
        assert_eq!(handle.driver_count(), before);
        assert!(sleeps.iter().all(|s| Arc::ptr_eq(&s.home, &sleeps[0].home)));
        assert_eq!(sleeps[0].home.shard(), 1);
        drop(sleeps);
        assert_eq!(handle.driver_count(), before);
    }

    /// A sleep made on a thread without a hint (shard 0) and first polled
    /// on worker 1's thread registers in shard 1, as before homes existed.
    #[test]
    fn a_sleep_first_polled_on_another_worker_moves_to_its_shard() {
        let driver = Driver::with_shards(false, 2, Arc::new(|| {}));
        let handle = driver.handle();
        let mut made_here = {
            let _enter = handle.enter();
            sleep(Duration::from_secs(5))
        };
        assert_eq!(made_here.home.shard(), 0);
        let handle_for_worker = handle.clone();
        let made_here = std::thread::spawn(move || {
            let _enter = handle_for_worker.enter();
            let _shard = handle_for_worker.enter_shard(1);
            let waker = std::task::Waker::noop();
            assert!(Pin::new(&mut made_here)
                .poll(&mut Context::from_waker(waker))
                .is_pending());
            made_here
        })
        .join()
        .expect("the worker thread");
        assert_eq!(made_here.home.shard(), 1);
        assert!(!made_here.is_elapsed());
        drop(made_here);
        assert_eq!(
            driver.park_timeout(),
            None,
            "the drop cancelled the entry in shard 1"
        );
    }
}
