//! The timer [`Handle`] and the thread-local context that lets `sleep` find
//! its runtime.
//!
//! # Summary
//!
//! A `Handle` is a cheap, cloneable reference to a driver's shared state
//! (`Arc<Shared>`). The runtime enters it on every thread it runs (and inside
//! `block_on`) with [`Handle::enter`]; timer futures created on that thread
//! then find it with [`Handle::current`]. Nothing is global: two runtimes in
//! one process each have their own driver, clock and context.
//!
//! The same module keeps the thread's *shard hint*: a runtime worker thread
//! announces with [`Handle::enter_shard`] which shard of the driver's wheel
//! is its own, and timers first polled on that thread register there
//! (`driver.rs` explains why the wheel is sharded).
//!
//! # Invariants
//!
//! - INV-1: an [`EnterGuard`] or a [`ShardGuard`] restores, on drop, exactly
//!   the value that was current when it was created, on the thread that
//!   created it (the guards are `!Send`). Guards dropped in reverse order of
//!   creation therefore unwind the context like a stack.
//! - INV-2: a shard hint names a shard that exists in the driver it is for:
//!   [`Handle::enter_shard`] reduces the worker index modulo the shard
//!   count, and the hint's guard keeps that driver alive, so the driver's
//!   address identifies it for as long as the hint is set.
//!
//! # Concurrency
//!
//! Both the context and the hint are thread-locals; a `Handle` itself is
//! `Send + Sync`. The hint's thread-local comes from the `loom` shim, so
//! that loom's model threads each have their own.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::driver::Shared;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

crate::loom::thread_local! {
    /// The shard this thread registers timers in, and the driver it is for.
    // loom's `thread_local!` accepts no `const { }` initialiser; the lazy
    // one costs a predictable branch per registration.
    #[allow(clippy::missing_const_for_thread_local)]
    static SHARD_HINT: Cell<Option<ShardHint>> = Cell::new(None);
}

/// "Timers of the driver at `driver` go to shard `shard`" (INV-2).
#[derive(Clone, Copy, Debug)]
struct ShardHint {
    /// Compared by address only, never dereferenced.
    driver: *const Shared,
    shard: usize,
}

/// The shard the calling thread registers `shared`'s timers in, if the
/// runtime told it with [`Handle::enter_shard`] (INV-2: then it exists).
pub(crate) fn shard_hint(shared: &Shared) -> Option<usize> {
    SHARD_HINT
        .try_with(Cell::get)
        .ok()
        .flatten()
        .filter(|hint| std::ptr::eq(hint.driver, shared))
        .map(|hint| hint.shard)
}

/// A reference to a runtime's time driver, used by timer futures to register
/// deadlines.
///
/// Cheap to clone, `Send + Sync`. Obtain one from
/// [`Driver::handle`](crate::Driver::handle), or from the context with
/// [`Handle::current`].
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

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
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
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
        let hint = ShardHint {
            driver: Arc::as_ptr(&self.shared),
            shard: worker % self.shared.shard_count(),
        };
        let previous = SHARD_HINT.with(|current| current.replace(Some(hint)));
        ShardGuard {
            previous,
            _driver: self.clone(),
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
            .try_with(|current| current.borrow().as_ref().map(f))
            .ok()
            .flatten()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
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
    previous: Option<Handle>,
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
    /// Keeps the hinted driver alive, so its address stays its own (INV-2).
    _driver: Handle,
    /// The hint is per thread, so the guard must be dropped where it was made.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ShardGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = SHARD_HINT.try_with(|current| current.set(previous));
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

    fn same(a: &Handle, b: &Handle) -> bool {
        Arc::ptr_eq(&a.shared, &b.shared)
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
        let (shared, other_shared) = (driver.handle().shared, other.handle().shared);
        assert_eq!(shard_hint(&shared), None);
        let outer = driver.handle().enter_shard(2);
        {
            let _inner = driver.handle().enter_shard(1);
            assert_eq!(shard_hint(&shared), Some(1));
            assert_eq!(
                shard_hint(&other_shared),
                None,
                "the hint is for one driver"
            );
        }
        assert_eq!(shard_hint(&shared), Some(2));
        drop(outer);
        assert_eq!(shard_hint(&shared), None);
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
                shard_hint(&handle.shared),
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
