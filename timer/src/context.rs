//! The thread-local context: which runtime's timers this thread uses, and
//! which shard of its wheel; and every public function that looks it up.
//!
//! # Summary
//!
//! The runtime enters its timer [`Handle`] on every thread it runs (and
//! inside `block_on`) with [`Handle::enter`]; [`Handle::current`] finds it
//! there, and so do [`sleep`](fn@crate::sleep), [`Instant::now`], [`pause`],
//! [`resume`] and [`advance`]. A runtime worker thread also announces with
//! [`Handle::enter_shard`] which shard of the driver's wheel is its own, and
//! timers first polled on that thread register there (`shared.rs` explains
//! why the wheel is sharded).
//!
//! # Design
//!
//! This is the crate's only module with thread-locals, and it sits on top
//! of the mechanism: `clock.rs`, `instant.rs`, `shared.rs`, `handle.rs` and
//! `driver.rs` never ask "which runtime am I in", they are given it, so
//! every import between files points down (wheel, shard, clock, shared,
//! handle, driver, context, then the futures). The methods that need the
//! context are inherent methods written here (`impl Handle`, `impl Instant`)
//! rather than in their types' files, so no public name moved. Rejected:
//! passing a handle to every `sleep` (asyncio's ergonomics are the point),
//! and a process-wide registry (nothing is global).
//!
//! # Invariants
//!
//! - INV-1: an [`EnterGuard`] or a [`ShardGuard`] restores, on drop, exactly
//!   the value that was current when it was created, on the thread that
//!   created it (the guards are `!Send`). Guards dropped in reverse order of
//!   creation therefore unwind the context like a stack.
//! - INV-2: a shard hint names a shard that exists in the driver it is for:
//!   [`Handle::enter_shard`] reduces the worker index modulo the shard
//!   count, and the hint's [`ShardHome`] keeps that driver alive, so the
//!   driver's address identifies it for as long as the hint is set.
//! - INV-3: a timer future gets its `ShardHome` from here, cloned from one
//!   this thread made (the hint's, or the entered context's fallback), so
//!   making and dropping timers on one thread writes one count that no
//!   other thread writes (`handle.rs`).
//!
//! # Concurrency
//!
//! Both the context and the hint are thread-locals; a `Handle` itself is
//! `Send + Sync`. The hint's thread-local comes from the `loom` shim, so
//! that loom's model threads each have their own.

use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::handle::{Handle, ShardHome};
use crate::instant::Instant;
use crate::shared::{Shared, FALLBACK_SHARD};

thread_local! {
    static CURRENT: RefCell<Option<Entered>> = const { RefCell::new(None) };
}

/// What [`Handle::enter`] makes current on a thread.
struct Entered {
    handle: Handle,
    /// The home in [`FALLBACK_SHARD`] that timers made on this thread share
    /// when it has no shard hint for this driver; made by the first of them.
    fallback: OnceCell<Arc<ShardHome>>,
}

#[cfg(not(loom))]
thread_local! {
    /// The shard home this thread's timers of one driver use (a runtime
    /// worker's own shard). Read on every timer made, so initialised as a
    /// constant (no lazy-init check).
    static SHARD_HINT: RefCell<Option<ShardHint>> = const { RefCell::new(None) };
}

#[cfg(loom)]
loom::thread_local! {
    /// As above; loom's model threads share one OS thread, so they need
    /// loom's thread-locals, which take no `const { }` initialiser.
    static SHARD_HINT: RefCell<Option<ShardHint>> = RefCell::new(None);
}

/// "Timers of `home`'s driver made or first polled here go to `home`'s
/// shard" (INV-2). The driver's address and the shard are kept beside the
/// home so that checking the hint reads no other cache line.
#[derive(Clone, Debug)]
struct ShardHint {
    /// Compared by address only, never dereferenced.
    driver: *const Shared,
    shard: usize,
    home: Arc<ShardHome>,
}

/// Runs `f` on the calling thread's hint for `shared`'s timers, if the
/// runtime gave it one with [`Handle::enter_shard`] (INV-2: its shard
/// exists).
fn with_hint<R>(shared: &Shared, f: impl FnOnce(&ShardHint) -> Option<R>) -> Option<R> {
    SHARD_HINT
        .try_with(|hint| {
            hint.borrow()
                .as_ref()
                .filter(|hint| std::ptr::eq(hint.driver, shared))
                .and_then(f)
        })
        .ok()
        .flatten()
}

/// The calling thread's hinted home for `shared`'s timers if it is in
/// another shard than `shard`: where a timer made elsewhere and first
/// polled here moves before it registers.
pub(crate) fn hinted_home_elsewhere(shared: &Shared, shard: usize) -> Option<Arc<ShardHome>> {
    if shared.shard_count() == 1 {
        return None;
    }
    with_hint(shared, |hint| {
        (hint.shard != shard).then(|| hint.home.clone())
    })
}

/// The shard the calling thread's hint names for `shared`, if any.
#[cfg(all(test, not(loom)))]
fn shard_hint(shared: &Shared) -> Option<usize> {
    with_hint(shared, |hint| Some(hint.shard))
}

/// The home for a timer made on this thread: the hinted one, else the
/// thread's home in [`FALLBACK_SHARD`]; `None` outside a runtime.
fn current_home() -> Option<Arc<ShardHome>> {
    CURRENT
        .try_with(|current| {
            let current = current.borrow();
            let entered = current.as_ref()?;
            let shared = entered.handle.shared();
            // One shard (a current-thread runtime): every hint names it.
            let hinted = (shared.shard_count() > 1)
                .then(|| with_hint(shared, |hint| Some(hint.home.clone())))
                .flatten();
            Some(hinted.unwrap_or_else(|| {
                entered
                    .fallback
                    .get_or_init(|| ShardHome::new(&entered.handle, FALLBACK_SHARD))
                    .clone()
            }))
        })
        .ok()
        .flatten()
}

/// [`current_home`], with `api` named in the panic outside a runtime.
#[track_caller]
pub(crate) fn current_home_for(api: &str) -> Arc<ShardHome> {
    match current_home() {
        Some(home) => home,
        None => panic!(
            "{api} called outside a weft runtime: call it from inside Runtime::block_on \
             or a spawned task"
        ),
    }
}

impl Handle {
    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics if called outside a weft runtime, that is on a thread that has
    /// not [entered](Handle::enter) a timer handle.
    #[track_caller]
    pub fn current() -> Handle {
        Self::current_for("weft_timer::Handle::current")
    }

    /// The handle of the runtime running on this thread, or `None` outside
    /// any runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_timer::Handle;
    ///
    /// assert!(Handle::try_current().is_none()); // not inside a runtime
    /// ```
    pub fn try_current() -> Option<Handle> {
        Self::with_current(Handle::clone)
    }

    /// Makes this handle the thread's current one until the guard is dropped,
    /// which restores the previous one (INV-1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_timer::{Driver, Handle};
    ///
    /// let driver = Driver::new(false, Arc::new(|| {}));
    /// assert!(Handle::try_current().is_none());
    /// let guard = driver.handle().enter();
    /// assert!(Handle::try_current().is_some());
    /// drop(guard);
    /// assert!(Handle::try_current().is_none());
    /// ```
    pub fn enter(&self) -> EnterGuard {
        let entered = Entered {
            handle: self.clone(),
            fallback: OnceCell::new(),
        };
        let previous = CURRENT.with(|current| current.borrow_mut().replace(entered));
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// Makes timers of this handle's driver that are first polled on this
    /// thread register in the wheel shard of worker `worker`, until the
    /// guard is dropped (which restores the previous hint, INV-1).
    ///
    /// A runtime calls this on each worker thread with the index of the core
    /// that thread drives, so each worker registers and cancels in a shard of
    /// its own. Worker `i` uses shard `i % shards`, where `shards` is the
    /// count the driver has ([`Driver::with_shards`](crate::Driver::with_shards)),
    /// so any index is valid. Timers polled on threads without a hint use
    /// shard 0. A timer keeps its shard when it is later polled, reset or
    /// dropped elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_timer::Driver;
    ///
    /// let driver = Driver::with_shards(false, 2, Arc::new(|| {}));
    /// let worker_one = std::thread::spawn({
    ///     let handle = driver.handle();
    ///     move || {
    ///         let _enter = handle.enter();
    ///         let _shard = handle.enter_shard(1);
    ///         // sleeps and timeouts polled here register in shard 1
    ///     }
    /// });
    /// worker_one.join().unwrap();
    /// ```
    pub fn enter_shard(&self, worker: usize) -> ShardGuard {
        let home = ShardHome::new(self, worker % self.shared().shard_count());
        let hint = ShardHint {
            driver: home.shared(),
            shard: home.shard(),
            home,
        };
        let previous = SHARD_HINT.with(|current| current.replace(Some(hint)));
        ShardGuard {
            previous,
            _not_send: PhantomData,
        }
    }

    /// [`Handle::current`] with the caller's API name in the panic message.
    #[track_caller]
    pub(crate) fn current_for(api: &str) -> Handle {
        match Self::try_current() {
            Some(handle) => handle,
            None => panic!(
                "{api} called outside a weft runtime: call it from inside Runtime::block_on \
                 or a spawned task"
            ),
        }
    }

    /// Runs `f` on the current handle without cloning it; `None` outside a
    /// runtime (or while the thread's locals are being destroyed).
    pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
        CURRENT
            .try_with(|current| current.borrow().as_ref().map(|entered| f(&entered.handle)))
            .ok()
            .flatten()
    }
}

impl Instant {
    /// The current time of the current runtime's clock (the test clock when
    /// paused), or of the system's monotonic clock outside any runtime.
    pub fn now() -> Instant {
        let now = Handle::with_current(|handle| handle.shared().clock.now());
        Instant::from_std(now.unwrap_or_else(std::time::Instant::now))
    }

    /// Time passed since `self`, by [`Instant::now`]; zero if `self` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{sleep, Instant};
    ///
    /// # weft_timer::doc_support::block_on_paused(async {
    /// let start = Instant::now();
    /// sleep(Duration::from_millis(250)).await;
    /// assert_eq!(start.elapsed(), Duration::from_millis(250)); // exact: paused clock
    /// # });
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }
}

/// Pauses the current runtime's clock: from now on time moves only through
/// [`advance`], or by jumping to the next timer when the runtime is idle.
///
/// Meant for tests on a current-thread runtime (or one started with
/// `start_paused`). The frozen reading is rounded up to the next tick of the
/// clock (an eighth of a millisecond: less than 125 us forward), so sleeps of
/// whole milliseconds end exactly on their deadline. Pausing a paused clock
/// does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{pause, sleep, Instant};
///
/// # weft_timer::doc_support::block_on(async {
/// pause();
/// let start = Instant::now();
/// sleep(Duration::from_secs(86_400)).await; // a day, in no real time
/// assert_eq!(start.elapsed(), Duration::from_secs(86_400));
/// # });
/// ```
#[track_caller]
pub fn pause() {
    let handle = Handle::current_for("weft::time::pause");
    handle.shared().clock.pause();
    handle.shared().unpark_parker();
}

/// Lets a paused clock run again, continuing from its frozen reading. Resuming
/// a running clock does nothing.
///
/// # Panics
///
/// Panics if called outside a weft runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{advance, resume, Instant};
///
/// # weft_timer::doc_support::block_on_paused(async {
/// let start = Instant::now();
/// advance(Duration::from_secs(5)).await;
/// resume();
/// assert!(start.elapsed() >= Duration::from_secs(5)); // never goes back
/// # });
/// ```
#[track_caller]
pub fn resume() {
    let handle = Handle::current_for("weft::time::resume");
    handle.shared().clock.resume();
    handle.shared().unpark_parker();
}

/// Moves the paused clock forward by `duration`, fires every timer that is
/// then due, and yields once so the tasks they woke get to run.
///
/// # Panics
///
/// Panics if called outside a weft runtime, or if the clock is not paused
/// (call [`pause`] first, or build the runtime with `start_paused`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{advance, pause, Instant};
///
/// # weft_timer::doc_support::block_on(async {
/// pause();
/// let start = Instant::now();
/// advance(Duration::from_secs(60)).await;
/// assert_eq!(start.elapsed(), Duration::from_secs(60));
/// # });
/// ```
pub async fn advance(duration: Duration) {
    let handle = Handle::current_for("weft::time::advance");
    assert!(
        handle.shared().clock.advance(duration),
        "weft::time::advance called while the clock is running: call weft::time::pause() first \
         or build the runtime with start_paused(true)"
    );
    handle.shared().process();
    weft_coop::pending_once().await;
}

/// Keeps a timer [`Handle`] current on this thread; dropping it restores the
/// previous one. Returned by [`Handle::enter`].
///
/// The guard belongs to the thread that entered, so it is not `Send`:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<weft_timer::EnterGuard>();
/// ```
#[must_use = "the handle is current only until the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Entered>,
    /// The context is per thread, so the guard must be dropped where it was made.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Restoring may drop the replaced handle; do it outside the borrow.
        let replaced =
            CURRENT.try_with(|current| std::mem::replace(&mut *current.borrow_mut(), previous));
        drop(replaced);
    }
}

/// Keeps a shard hint set on this thread; dropping it restores the previous
/// one. Returned by [`Handle::enter_shard`].
///
/// Like [`EnterGuard`], it belongs to the thread that made it:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<weft_timer::ShardGuard>();
/// ```
#[must_use = "the shard hint holds only until the guard is dropped"]
pub struct ShardGuard {
    previous: Option<ShardHint>,
    /// The hint is per thread, so the guard must be dropped where it was made.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ShardGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The replaced hint's home is dropped after the borrow ends.
        let replaced = SHARD_HINT.try_with(|current| current.replace(previous));
        drop(replaced);
    }
}

impl fmt::Debug for ShardGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardGuard").finish_non_exhaustive()
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Driver;
    use std::sync::Arc;

    fn same(a: &Handle, b: &Handle) -> bool {
        std::ptr::eq(a.shared(), b.shared())
    }

    #[test]
    fn nested_guards_restore_the_previous_handle_like_a_stack() {
        let outer = Driver::new(false, Arc::new(|| {}));
        let inner = Driver::new(false, Arc::new(|| {}));
        assert!(Handle::try_current().is_none());
        let outer_guard = outer.handle().enter();
        {
            let _inner_guard = inner.handle().enter();
            assert!(same(&Handle::current(), &inner.handle()));
        }
        assert!(same(&Handle::current(), &outer.handle()));
        drop(outer_guard);
        assert!(Handle::try_current().is_none());
    }

    #[test]
    fn a_shard_hint_applies_to_its_own_driver_and_unwinds_like_a_stack() {
        let driver = Driver::with_shards(false, 3, Arc::new(|| {}));
        let other = Driver::with_shards(false, 3, Arc::new(|| {}));
        let (handle, other_handle) = (driver.handle(), other.handle());
        let (shared, other_shared) = (handle.shared(), other_handle.shared());
        assert_eq!(shard_hint(shared), None);
        let outer = driver.handle().enter_shard(2);
        {
            let _inner = driver.handle().enter_shard(1);
            assert_eq!(shard_hint(shared), Some(1));
            assert_eq!(shard_hint(other_shared), None, "the hint is for one driver");
        }
        assert_eq!(shard_hint(shared), Some(2));
        drop(outer);
        assert_eq!(shard_hint(shared), None);
    }

    /// Table: (shards asked for, worker index, shard used).
    #[test]
    fn workers_beyond_the_shard_count_share_shards_round_robin() {
        let table = [
            (2, 0, 0),
            (2, 1, 1),
            (2, 2, 0),
            (2, 5, 1),
            (1, 7, 0),
            (100, 70, 6),
        ];
        for (shards, worker, expected) in table {
            let driver = Driver::with_shards(false, shards, Arc::new(|| {}));
            let handle = driver.handle();
            let _shard = handle.enter_shard(worker);
            assert_eq!(
                shard_hint(handle.shared()),
                Some(expected),
                "{shards} shards asked for, worker {worker}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "weft_timer::Handle::current called outside a weft runtime")]
    fn current_outside_a_runtime_panics_with_a_message() {
        let _ = Handle::current();
    }
}
