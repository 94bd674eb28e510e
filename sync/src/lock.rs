//! Summary: `Lock<T>` (asyncio.Lock) — an async mutex that owns its value.
//!
//! Role: a one-permit [`BatchSemaphore`] plus the protected value; the guard
//! gives `&mut T` and returns the permit on drop. `Condition` re-acquires a
//! `Lock` through [`LockGuard::source`].
//!
//! # Design
//!
//! Written once: `Lock` is a one-permit semaphore, so FIFO order,
//! no-barging `try_lock` and cancel-safety (a waiter dropped after it was
//! handed the lock passes it on) all come from `batch_semaphore.rs`. The
//! `lock()` future is written out (`LockAcquire`: the `&Lock` and the
//! waiter's 4-byte state, packed to 12 bytes), not an `async fn` awaiting the semaphore's
//! future, which carried both futures' state and the reference twice
//! (48 bytes): every parked waiter holds one.
//!
//! Unsafe (design note): the value lives in an
//! `UnsafeCell`, as in `std::sync::Mutex`; there is no safe way to hand out
//! `&mut T` from `&self` on an async lock. The two unsafe blocks rely on:
//!
//! - INV-1: a [`LockGuard`] or [`OwnedLockGuard`] exists only while the
//!   guard holds the single permit, so at most one exists at a time, and the
//!   permit is returned only by its `Drop`.
//!
//! # Concurrency
//!
//! The permit hand-off happens under the semaphore's mutex; its unlock and
//! lock give the release/acquire edge that orders one holder's writes to the
//! value before the next holder's reads.

use crate::batch_semaphore::{AcquireState, BatchSemaphore, One};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// An async mutual-exclusion lock protecting a `T` (asyncio.Lock).
///
/// Waiters are served first come, first served; [`try_lock`](Lock::try_lock)
/// fails while anyone waits. The lock is released when the guard drops.
///
/// # Which should I use?
///
/// Use `std::sync::Mutex` (or `parking_lot::Mutex`) when the critical
/// section is short and never `.await`s: it is cheaper and cannot be held
/// across a suspension point by accident. Use `Lock` when the guard must be
/// held across an `.await` (e.g. while writing to a socket), when you need
/// FIFO fairness, or together with a [`Condition`](crate::Condition).
///
/// # Thread safety
///
/// `Lock<T>` is `Sync` when `T: Send`, like `std::sync::Mutex`; a value
/// that cannot move between threads cannot be shared through a lock:
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weft_sync::Lock<std::rc::Rc<u8>>>();
/// ```
///
/// A guard hands out `&T`, so sharing a guard needs `T: Sync`:
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weft_sync::LockGuard<'static, std::cell::Cell<u8>>>();
/// ```
///
/// # Examples
///
/// ```
/// use weft_sync::Lock;
/// smol::block_on(async {
///     let counter = Lock::new(0);
///     *counter.lock().await += 1;
///     assert_eq!(*counter.lock().await, 1);
///     assert_eq!(counter.into_inner(), 1);
/// });
/// ```
pub struct Lock<T: ?Sized> {
    semaphore: BatchSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: INV-1 gives one guard at a time, so sharing a `Lock` across
// threads only moves `T` between them (like `std::sync::Mutex`): `T: Send` suffices.
unsafe impl<T: ?Sized + Send> Sync for Lock<T> {}
// SAFETY: owning the `Lock` owns the `T`; sending it sends the `T`.
unsafe impl<T: ?Sized + Send> Send for Lock<T> {}

/// Exclusive access to a [`Lock`]'s value; unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    /// Makes the guard `Sync` only if `T: Sync` (it hands out `&T`).
    _marker: PhantomData<&'a mut T>,
}

/// Like [`LockGuard`], but keeps the lock alive through an `Arc`, so it is
/// `'static` and can move into a spawned task.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedLockGuard<T: ?Sized> {
    lock: Arc<Lock<T>>,
    /// Makes the guard `Sync` only if `T: Sync` (it hands out `&T`).
    _marker: PhantomData<T>,
}

impl<T> Lock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        Lock {
            semaphore: BatchSemaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock, first come, first served.
    ///
    /// Cancel-safe: if the future is dropped after it was handed the lock,
    /// the lock passes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let names = weft_sync::Lock::new(Vec::new());
    /// names.lock().await.push("ada");
    /// assert_eq!(*names.lock().await, ["ada"]);
    /// # });
    /// ```
    #[doc(alias = "acquire")]
    pub fn lock(&self) -> impl Future<Output = LockGuard<'_, T>> + '_ {
        LockAcquire {
            lock: self,
            state: AcquireState::new(One),
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = weft_sync::Lock::new(1);
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[doc(alias = "try_acquire")]
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.semaphore.try_acquire(1).then(|| LockGuard::new(self))
    }

    /// Like [`lock`](Lock::lock), but the guard owns an `Arc` of the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # smol::block_on(async {
    /// let lock = Arc::new(weft_sync::Lock::new(0));
    /// let mut guard = lock.clone().lock_owned().await;
    /// std::thread::spawn(move || *guard += 1).join().unwrap();
    /// assert_eq!(*lock.lock().await, 1);
    /// # });
    /// ```
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedLockGuard<T>> {
        OwnedLockAcquire {
            lock: Some(self),
            state: AcquireState::new(One),
        }
    }

    /// True while some guard holds the lock (or it was just handed to a
    /// waiter that has not run yet).
    pub fn is_locked(&self) -> bool {
        self.semaphore.available() == 0
    }

    /// Mutable access without locking: `&mut self` proves nobody else can.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

/// Future of [`Lock::lock`]: the lock reference and the waiter state, 12
/// bytes packed to an alignment of 4 (an `async` block holding an `Arc` of
/// the lock and this future is then three words, its tag beside the `Arc`;
/// an `async fn` awaiting the semaphore's own future held the reference
/// twice and both futures' states).
#[repr(C, packed(4))]
struct LockAcquire<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    state: AcquireState<One>,
}

impl<'a, T: ?Sized> Future for LockAcquire<'a, T> {
    type Output = LockGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a, T>> {
        let this = &mut *self;
        ready!(this.state.poll(&this.lock.semaphore, cx));
        Poll::Ready(LockGuard::new(this.lock))
    }
}

impl<T: ?Sized> Drop for LockAcquire<'_, T> {
    /// Cancel-safety: a waiter handed the lock passes it to the next one.
    fn drop(&mut self) {
        self.state.cancel(&self.lock.semaphore);
    }
}

/// Future of [`Lock::lock_owned`]; the `Arc` moves into the guard when it
/// completes.
struct OwnedLockAcquire<T: ?Sized> {
    lock: Option<Arc<Lock<T>>>,
    state: AcquireState<One>,
}

impl<T: ?Sized> Future for OwnedLockAcquire<T> {
    type Output = OwnedLockGuard<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedLockGuard<T>> {
        let this = &mut *self;
        let lock = this.lock.as_ref().expect(
            "owned lock future polled after it completed; poll it only until it returns Ready",
        );
        ready!(this.state.poll(&lock.semaphore, cx));
        Poll::Ready(OwnedLockGuard {
            lock: this.lock.take().expect("checked above"),
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Drop for OwnedLockAcquire<T> {
    /// Cancel-safety, as for [`LockAcquire`].
    fn drop(&mut self) {
        if let Some(lock) = &self.lock {
            self.state.cancel(&lock.semaphore);
        }
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Lock");
        match self.try_lock() {
            Some(guard) => out.field("value", &&*guard),
            None => out.field("value", &format_args!("<locked>")),
        };
        out.finish()
    }
}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    /// Call only while holding the lock's permit (INV-1).
    fn new(lock: &'a Lock<T>) -> Self {
        LockGuard {
            lock,
            _marker: PhantomData,
        }
    }

    /// The lock this guard holds; `Condition` uses it to re-acquire.
    pub(crate) fn source(guard: &Self) -> &'a Lock<T> {
        guard.lock
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: INV-1: this guard holds the only permit, so no `&mut T`
        // exists elsewhere while `&self` is borrowed.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: INV-1: this guard holds the only permit, and `&mut self`
        // makes this the only access through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for OwnedLockGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: INV-1, as for `LockGuard::deref`.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedLockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: INV-1, as for `LockGuard::deref_mut`.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
