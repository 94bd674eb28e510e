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
//! # Invariants
//!
//! - INV-1: an [`EnterGuard`] restores, on drop, exactly the context that was
//!   current when it was created, on the thread that created it (the guard is
//!   `!Send`). Guards dropped in reverse order of creation therefore unwind
//!   the context like a stack.
//!
//! # Concurrency
//!
//! The context is a `thread_local!`; a `Handle` itself is `Send + Sync`.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::driver::Shared;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
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
    #[should_panic(expected = "weft_timer::Handle::current called outside a weft runtime")]
    fn current_outside_a_runtime_panics_with_a_message() {
        let _ = Handle::current();
    }
}
