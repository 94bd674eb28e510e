//! Summary: [`Handle`], the cheap shareable reference to a [`Driver`]
//! (and `Driver::handle`, which makes one), and the thread-local context
//! through which sockets find it.
//!
//! Role: the runtime calls [`Handle::enter`] on each of its threads and
//! inside `block_on`; `net`, `fs` and `signal` call [`Handle::current`] when
//! a socket or file is created.
//!
//! Design: the context is a per-thread stack realised as a chain of guards:
//! each [`EnterGuard`] remembers the handle it displaced and puts it back
//! when dropped, so nested runtimes (a `block_on` inside a test harness that
//! already entered another runtime) restore correctly. There is no
//! process-wide reactor (STYLE §1.7): two runtimes mean two drivers.
//!
//! Invariants:
//! - INV-1: the context of a thread only changes through `enter` and the
//!   drop of the `EnterGuard` it returned, on that same thread (the guard is
//!   `!Send`).
//!
//! Concurrency: the context is thread-local; a `Handle` is `Send + Sync`.
//!
//! [`Driver`]: super::Driver

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{Driver, Inner};

thread_local! {
    static CONTEXT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// A reference to an I/O [`Driver`]: sockets created while it is entered
/// register with that driver.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

/// Written here rather than beside the rest of `Driver` (`mod.rs`), so
/// that `mod.rs` uses nothing of this file and the two do not use each
/// other.
impl Driver {
    /// A handle for registering sockets with this driver.
    pub fn handle(&self) -> Handle {
        Handle::from_inner(self.inner.clone())
    }
}

impl Handle {
    fn from_inner(inner: Arc<Inner>) -> Handle {
        Handle { inner }
    }

    /// The handle entered on this thread.
    ///
    /// # Panics
    ///
    /// If no runtime (no I/O handle) is entered on this thread.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "there is no weft runtime on this thread: create sockets, files and \
                 signal listeners from inside a runtime (a spawned task or `Runtime::block_on`)"
            ),
        }
    }

    /// The handle entered on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        CONTEXT.with(|context| context.borrow().clone())
    }

    /// Makes this handle the current one on this thread until the returned
    /// guard is dropped, which restores the previous one (INV-1).
    pub fn enter(&self) -> EnterGuard {
        let previous = CONTEXT.with(|context| context.borrow_mut().replace(self.clone()));
        EnterGuard {
            previous,
            _not_send: PhantomData,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("sources", &self.inner.source_count())
            .finish_non_exhaustive()
    }
}

/// Returned by [`Handle::enter`]; restores the previously entered handle
/// when dropped. Not `Send`: it must be dropped on the thread that entered.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<weft_io::EnterGuard>();
/// ```
#[must_use = "the handle is only entered until the guard is dropped"]
pub struct EnterGuard {
    previous: Option<Handle>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // `try_with`: a guard dropped during thread teardown must not panic.
        let _ = CONTEXT.try_with(|context| *context.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
