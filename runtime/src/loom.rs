//! Summary: the one place that chooses between `std` and `loom` primitives.
//!
//! Role: the task machinery (`task::{state, raw, harness}`) imports its atomics,
//! `Arc` and `UnsafeCell` from here, so the loom model in
//! `task::tests::loom_task` explores the very code the runtime runs.
//!
//! Design: only the task state machine is modelled under loom; the scheduler
//! uses crossbeam-deque and parking_lot, which loom cannot instrument, so it
//! imports `std` directly and is covered by stress tests instead. The
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
    sync::atomic::{AtomicUsize, Ordering},
};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

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
