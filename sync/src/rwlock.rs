//! Summary: `RwLock<T>` — many readers or one writer, first come, first served.
//!
//! Role: a [`BatchSemaphore`] of [`MAX_READERS`] permits plus the value. A
//! reader takes one permit, a writer takes all of them.
//!
//! # Design
//!
//! Because the semaphore is FIFO and a large request at the head is never
//! overtaken, a writer queued behind readers blocks every later reader:
//! writers are not starved, and readers queued behind a writer run together
//! once it leaves. Cancel-safety comes from the semaphore. asyncio has no
//! RwLock; the API follows `std::sync::RwLock`. `read()` and `write()`
//! return one hand-written future (`RwLockAcquire`, 16 bytes), whose
//! request size is a type (`One` or `Writer`), as `Lock::lock` does.
//!
//! Unsafe (design note): the value is in an `UnsafeCell`.
//!
//! - INV-1: a read guard holds one permit and a write guard holds all
//!   `MAX_READERS`; so while a write guard exists no other guard does, and
//!   read guards only coexist with read guards.
//!
//! # Concurrency
//!
//! The semaphore's mutex orders a writer's writes before later readers.

use crate::batch_semaphore::{AcquireState, BatchSemaphore, Need, One};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The most readers that can hold the lock at once; a writer takes all of
/// them. Large enough never to matter, small enough that adding it back to the
/// free count cannot overflow `usize` on 32-bit targets.
const MAX_READERS: usize = (u32::MAX >> 3) as usize;

/// An async reader-writer lock (`std::sync::RwLock` shape, FIFO fair).
///
/// Readers share `&T` across threads, so `RwLock<T>` is `Sync` only when
/// `T: Send + Sync`:
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weft_sync::RwLock<std::cell::Cell<u8>>>();
/// ```
///
/// # Examples
///
/// ```
/// use weft_sync::RwLock;
/// smol::block_on(async {
///     let lock = RwLock::new(vec![1]);
///     {
///         let a = lock.read().await;
///         let b = lock.read().await;
///         assert_eq!(a.len() + b.len(), 2);
///         assert!(lock.try_write().is_none());
///     }
///     lock.write().await.push(2);
///     assert_eq!(*lock.read().await, [1, 2]);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    semaphore: BatchSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: INV-1: readers share `&T` across threads (needs `T: Sync`) and a
// writer may run on any thread (needs `T: Send`), as for `std::sync::RwLock`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: owning the lock owns the `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

/// Shared access to an [`RwLock`]'s value; releases on drop.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a T>,
}

/// Exclusive access to an [`RwLock`]'s value; releases on drop.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        RwLock {
            semaphore: BatchSemaphore::new(MAX_READERS),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access; queues behind any earlier writer.
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> + '_ {
        RwLockAcquire {
            lock: self,
            state: AcquireState::new(One),
        }
    }

    /// Waits for exclusive access, first come, first served.
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> + '_ {
        RwLockAcquire {
            lock: self,
            state: AcquireState::new(Writer),
        }
    }

    /// Shared access if no writer holds the lock and nobody is queued.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.semaphore.try_acquire(1).then(|| RwLockReadGuard {
            lock: self,
            _marker: PhantomData,
        })
    }

    /// Exclusive access if the lock is free and nobody is queued.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.semaphore
            .try_acquire(MAX_READERS)
            .then(|| RwLockWriteGuard {
                lock: self,
                _marker: PhantomData,
            })
    }

    /// Mutable access without locking: `&mut self` proves nobody else can.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

/// A writer's request: every permit, known from the type.
#[derive(Debug, Clone, Copy)]
struct Writer;

impl Need for Writer {
    #[inline]
    fn count(self) -> usize {
        MAX_READERS
    }
}

/// Future of [`RwLock::read`] (`N` = [`One`]) and [`RwLock::write`]
/// (`N` = [`Writer`]): the lock reference and the waiter state, 16 bytes,
/// where an `async fn` awaiting the semaphore's future nested both.
struct RwLockAcquire<'a, T: ?Sized, N: Need> {
    lock: &'a RwLock<T>,
    state: AcquireState<N>,
}

impl<'a, T: ?Sized> Future for RwLockAcquire<'a, T, One> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockReadGuard<'a, T>> {
        let this = &mut *self;
        ready!(this.state.poll(&this.lock.semaphore, cx));
        Poll::Ready(RwLockReadGuard {
            lock: this.lock,
            _marker: PhantomData,
        })
    }
}

impl<'a, T: ?Sized> Future for RwLockAcquire<'a, T, Writer> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RwLockWriteGuard<'a, T>> {
        let this = &mut *self;
        ready!(this.state.poll(&this.lock.semaphore, cx));
        Poll::Ready(RwLockWriteGuard {
            lock: this.lock,
            _marker: PhantomData,
        })
    }
}

impl<T: ?Sized, N: Need> Drop for RwLockAcquire<'_, T, N> {
    /// Cancel-safety: a waiter granted its permits hands them on.
    fn drop(&mut self) {
        self.state.cancel(&self.lock.semaphore);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: INV-1: a read permit excludes every write guard.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: INV-1: the write guard holds every permit, so it is alone.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: INV-1: the write guard holds every permit, and `&mut self`
        // makes this the only access through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(MAX_READERS);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
