//! The one place that picks between `std`/`parking_lot` and loom's models of
//! the synchronisation primitives, so the same driver code runs in normal
//! builds and under `RUSTFLAGS="--cfg loom"` model checking.
//!
//! Only the primitives whose interleavings matter are swapped: the driver's
//! shard locks, the clock's lock, the clock's "shifted" flag, and the
//! thread-local shard hint (loom runs its model threads on one OS thread, so
//! a `std` thread-local would be shared between them). `Arc` stays
//! `std::sync::Arc` because the driver seam fixes the `unpark` callback's type
//! as `std::sync::Arc<dyn Fn() + Send + Sync>` (loom's `Arc` cannot hold an
//! unsized value), and reference counting is not what the models check.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicBool, Ordering};

    /// The guard returned by [`Mutex::lock`].
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    /// A mutex without poisoning (parking_lot's).
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(parking_lot::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};

    /// The guard returned by [`Mutex::lock`].
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    /// loom's model of a mutex, with parking_lot's non-poisoning signature.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .expect("a weft timer lock is poisoned: a thread panicked while holding it")
        }
    }
}

pub(crate) use imp::*;
