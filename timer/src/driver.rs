//! [`Driver`]: the time driver a runtime owns, its public face.
//!
//! # Summary
//!
//! A thin wrapper around the shared state in `shared.rs` (the shards, the
//! clock and the park protocol, documented there): the runtime creates a
//! `Driver`, hands out [`Handle`]s for timer futures, and drives it from its
//! parking worker with `park_timeout` / `process` / `auto_advance`.
//! Dropping it shuts the timers down.
//!
//! # Design
//!
//! `Driver` and [`Handle`] are two owners of one `Arc<Shared>`: the runtime
//! keeps the one that parks and shuts down, the futures keep the one that
//! registers. Neither reads a thread-local; finding the current handle is
//! `context.rs`'s job, one layer up.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::handle::Handle;
use crate::shared::Shared;

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
    /// A new driver with one shard and its own clock (paused at creation if
    /// `start_paused`): the right choice for a single-threaded runtime. See
    /// [`with_shards`](Driver::with_shards) for a runtime with several
    /// worker threads.
    ///
    /// `unpark` is called, from any thread and with no lock held, when a
    /// deadline earlier than the one the parked thread sleeps towards is
    /// registered. It may be called after
    /// [`park_timeout`](Driver::park_timeout) but before the thread actually
    /// blocks, so it must leave a token the next block consumes (as
    /// `mio::Waker` and `Thread::unpark` do).
    pub fn new(start_paused: bool, unpark: Arc<dyn Fn() + Send + Sync>) -> Driver {
        Self::with_shards(start_paused, 1, unpark)
    }

    /// A new driver whose wheel is split into `shards` shards, one per
    /// worker thread of the runtime, so that workers registering and
    /// cancelling timers at the same time take different locks. Each worker
    /// thread says which worker it is with [`Handle::enter_shard`];
    /// otherwise as [`new`](Driver::new).
    ///
    /// At most 64 shards are made: past that, workers share shards (worker
    /// `i` uses shard `i % 64`), since more shards would only lengthen the
    /// parker's steps that lock every shard.
    ///
    /// # Panics
    ///
    /// Panics if `shards` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_timer::Driver;
    ///
    /// let workers = 4;
    /// let driver = Driver::with_shards(false, workers, Arc::new(|| {}));
    /// let _shard = driver.handle().enter_shard(2); // on the thread of worker 2
    /// assert_eq!(driver.park_timeout(), None); // no timer yet, in any shard
    /// ```
    pub fn with_shards(
        start_paused: bool,
        shards: usize,
        unpark: Arc<dyn Fn() + Send + Sync>,
    ) -> Driver {
        assert!(
            shards > 0,
            "weft_timer::Driver::with_shards needs at least 1 shard, got 0: \
             pass the number of worker threads"
        );
        let shared = Shared::new(start_paused, shards, unpark);
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
    /// thread sleeps towards in every shard, so that registering an earlier
    /// one, in any shard, calls `unpark`. With a paused clock the duration is measured on the paused
    /// clock; the runtime then does not sleep on it but calls
    /// [`auto_advance`](Driver::auto_advance) when idle.
    pub fn park_timeout(&self) -> Option<Duration> {
        self.shared.park_timeout()
    }

    /// Fires (wakes) every timer whose deadline is at or before the clock's
    /// now, shard by shard, with no lock held while wakers run. Returns how
    /// many fired.
    ///
    /// Call it from the parking thread after every park: it also ends the
    /// park window opened by [`park_timeout`](Driver::park_timeout), so timers
    /// registered while this thread is awake do not call `unpark`.
    pub fn process(&self) -> usize {
        self.shared.end_park();
        self.shared.process()
    }

    /// If the clock is paused and a timer is pending, jumps the clock to the
    /// earliest deadline over all shards (never backwards) and returns true; the next
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
            .field("shards", &self.shared.shard_count())
            .field("is_paused", &self.is_paused())
            .finish_non_exhaustive()
    }
}
