//! Summary: picks `std` or `loom` for the few synchronisation types that the
//! loom models exercise.
//!
//! Role: `reactor::readiness` imports its atomics, `Arc` and `Mutex` from
//! here, so the readiness/waker protocol can be model-checked with
//! `RUSTFLAGS="--cfg loom" cargo test -p weft-io --release --lib loom`.
//!
//! Design: only the state the models touch goes through this shim; the slab
//! lock and the mio objects stay on `parking_lot`/`std`, because loom cannot
//! model system calls anyway. `Mutex` is a thin wrapper so that both
//! backends expose the same poison-free `lock()`.
//!
//! Invariants: none beyond those of the wrapped types.
//!
//! Concurrency: as for the wrapped types.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(loom)]
use loom::sync::Mutex as Inner;
#[cfg(not(loom))]
use std::sync::Mutex as Inner;

#[cfg(loom)]
pub(crate) use loom::sync::MutexGuard;
#[cfg(not(loom))]
pub(crate) use std::sync::MutexGuard;

/// A mutex whose `lock` ignores poisoning: the data it guards (waker lists)
/// stays consistent even if a waker panicked while the lock was held.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(Inner<T>);

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex(Inner::new(value))
    }

    /// Locks the mutex, blocking the thread until it is free.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
