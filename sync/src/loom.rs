//! Summary: the one place that picks `std`/`parking_lot` or `loom` primitives.
//!
//! Role: every module of weft-sync takes its `Mutex` and `Arc` from here, so
//! that `RUSTFLAGS="--cfg loom"` swaps them for loom's model-checked versions
//! without a single `cfg` inside a function body.
//!
//! Design: normal builds use `parking_lot::Mutex` (no poisoning, small, fast
//! uncontended path). Under loom, a thin wrapper over `loom::sync::Mutex` gives
//! the same `lock()` signature. The value cells of `Lock`/`RwLock` stay
//! `std::cell::UnsafeCell` in both builds: the loom models check the waiter
//! protocol (grants, permits, wakeups), which is where the races are; access
//! to the protected value is ordered by that protocol.

#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicU8;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

/// `std::cell::UnsafeCell` with loom's closure-based API, so the code that
/// uses it reads the same in both builds.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading; the caller upholds the aliasing rules.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing; the caller upholds the aliasing rules.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicU8;

#[cfg(loom)]
pub(crate) use loom::sync::Arc;

/// A `loom::sync::Mutex` with parking_lot's non-poisoning `lock()`.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0
            .lock()
            .expect("a weft-sync mutex is never poisoned: no user code runs under it")
    }
}
