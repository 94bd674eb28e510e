//! Summary: the one place that chooses between `std` and `loom` primitives.
//!
//! Role: the task machinery (`task::{state, raw, harness}`), the idle
//! protocol (`scheduler::sleepers`), the LIFO slot (`scheduler::lifo`) and the
//! drivers hand-over (`park::HandOff`) import their atomics, mutex and
//! `UnsafeCell` from here, so the loom models in `task::tests::loom_task`
//! and `scheduler::tests::loom_sleepers` explore the very code the runtime runs.
//!
//! Design: only the task state machine, the sleeper/notify protocol, the
//! LIFO slot and the drivers hand-over are modelled under loom; the rest of the scheduler uses crossbeam-deque and
//! parking_lot directly, which loom cannot instrument, and is covered by
//! stress tests instead. The
//! `UnsafeCell` wrapper gives `std` the `with`/`with_mut` API of
//! `loom::cell::UnsafeCell`, so loom can report unsynchronised accesses to a
//! task's future, output and join waker.
//!
//! Invariants: none of its own; it only re-exports.
//!
//! Concurrency: as the re-exported types.

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering},
};

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};

/// `loom::sync::Mutex` with parking_lot's panic-free `lock`.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    /// Wraps `value`.
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex(loom::sync::Mutex::new(value))
    }

    /// Locks; a poisoned lock is taken over (loom models do not unwind).
    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// `std::cell::UnsafeCell` with loom's closure-based access API.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Gives `f` a shared raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Gives `f` an exclusive raw pointer to the contents.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
