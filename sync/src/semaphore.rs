//! Summary: `Semaphore` and `BoundedSemaphore` (asyncio.Semaphore,
//! asyncio.BoundedSemaphore) with RAII permits.
//!
//! Role: thin public wrappers over [`BatchSemaphore`], which owns the FIFO
//! and cancel-safety logic. A permit guard returns its permits on drop;
//! `forget` keeps them out of circulation.
//!
//! Design: asyncio's `release()` becomes dropping the permit, so a permit can
//! never be released twice. `BoundedSemaphore` keeps asyncio's `release()`
//! for the one case Rust still needs it: putting back a permit given up with
//! `forget`; releasing past the initial count is a [`ReleaseError`].
//!
//! Invariants: those of `batch_semaphore.rs` (INV-1: every permit is free,
//! granted, held by a guard, or forgotten).

use crate::batch_semaphore::BatchSemaphore;
use std::fmt;
use std::sync::Arc;

/// Implemented by both semaphore types so one owned permit type serves both.
trait PermitSource: Send + Sync {
    fn core(&self) -> &BatchSemaphore;
}

/// A counting semaphore: at most `permits` holders at once, served first
/// come, first served (asyncio.Semaphore).
///
/// # Examples
///
/// ```
/// use weft_sync::Semaphore;
/// # smol::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await;
/// let _b = sem.acquire().await;
/// assert!(sem.try_acquire().is_none());
/// drop(a);
/// assert!(sem.try_acquire().is_some());
/// # });
/// ```
#[derive(Debug)]
pub struct Semaphore {
    core: BatchSemaphore,
}

/// A semaphore whose count can never grow past its initial value
/// (asyncio.BoundedSemaphore). It has [`Semaphore`]'s methods except
/// `add_permits`, plus [`release`](BoundedSemaphore::release).
#[derive(Debug)]
pub struct BoundedSemaphore {
    core: BatchSemaphore,
    bound: usize,
}

/// Permits borrowed from a semaphore; dropping it gives them back.
#[must_use = "the permit is released as soon as it is dropped"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    core: &'a BatchSemaphore,
    permits: usize,
}

/// Permits held through an `Arc` of the semaphore, so the guard is `'static`
/// and can move into a spawned task.
#[must_use = "the permit is released as soon as it is dropped"]
pub struct OwnedSemaphorePermit {
    source: Arc<dyn PermitSource>,
    permits: usize,
}

/// Returned by [`BoundedSemaphore::release`] when no permit is out of
/// circulation, so releasing one would exceed the initial count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseError {
    bound: usize,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "release() would push the bounded semaphore past its initial count of {}; only a forgotten permit can be released",
            self.bound
        )
    }
}

impl std::error::Error for ReleaseError {}

/// Methods shared by both semaphore types, written once.
macro_rules! permit_methods {
    () => {
        /// Waits for one permit, first come, first served.
        ///
        /// Cancel-safe: dropping the future gives back a permit it was granted.
        pub async fn acquire(&self) -> SemaphorePermit<'_> {
            // The body of `acquire_many(1)`, not a call to it: awaiting
            // another async fn nests its whole state in this one's, and
            // every parked acquirer carries the future (88 bytes that way,
            // 56 this way, like `Lock::lock`).
            self.check_request(1);
            self.core.acquire(1).await;
            SemaphorePermit {
                core: &self.core,
                permits: 1,
            }
        }

        /// Waits until `n` permits are free at once. A large request at the
        /// head of the queue is not overtaken by smaller ones behind it.
        pub async fn acquire_many(&self, n: usize) -> SemaphorePermit<'_> {
            self.check_request(n);
            self.core.acquire(n).await;
            SemaphorePermit {
                core: &self.core,
                permits: n,
            }
        }

        /// Takes one permit if one is free and nobody is waiting.
        pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
            self.try_acquire_many(1)
        }

        /// Takes `n` permits if they are free and nobody is waiting.
        pub fn try_acquire_many(&self, n: usize) -> Option<SemaphorePermit<'_>> {
            self.core.try_acquire(n).then(|| SemaphorePermit {
                core: &self.core,
                permits: n,
            })
        }

        /// Like [`acquire`](Self::acquire), but the permit keeps the semaphore
        /// alive through the `Arc`.
        pub async fn acquire_owned(self: Arc<Self>) -> OwnedSemaphorePermit {
            // Inlined for the same reason as `acquire`.
            self.check_request(1);
            self.core.acquire(1).await;
            OwnedSemaphorePermit {
                source: self,
                permits: 1,
            }
        }

        /// Like [`acquire_many`](Self::acquire_many), with an owned permit.
        pub async fn acquire_many_owned(self: Arc<Self>, n: usize) -> OwnedSemaphorePermit {
            self.check_request(n);
            self.core.acquire(n).await;
            OwnedSemaphorePermit {
                source: self,
                permits: n,
            }
        }

        /// Free permits right now.
        pub fn available_permits(&self) -> usize {
            self.core.available()
        }
    };
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            core: BatchSemaphore::new(permits),
        }
    }

    permit_methods!();

    /// Adds `n` permits, serving queued waiters first.
    ///
    /// # Panics
    ///
    /// If the free count would overflow `usize`.
    pub fn add_permits(&self, n: usize) {
        self.core.release(n);
    }

    fn check_request(&self, _n: usize) {}
}

impl BoundedSemaphore {
    /// A semaphore that never holds more than `permits` permits.
    pub fn new(permits: usize) -> Self {
        BoundedSemaphore {
            core: BatchSemaphore::new(permits),
            bound: permits,
        }
    }

    permit_methods!();

    /// Puts back one permit given up with [`SemaphorePermit::forget`].
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if no permit is out of circulation, so the count
    /// would exceed the initial one.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_sync::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err()); // would make 2 permits out of 1
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    #[doc(alias = "add_permits")]
    pub fn release(&self) -> Result<(), ReleaseError> {
        if self.core.release_forgotten() {
            Ok(())
        } else {
            Err(ReleaseError { bound: self.bound })
        }
    }

    /// The initial (and maximal) number of permits.
    pub fn bound(&self) -> usize {
        self.bound
    }

    fn check_request(&self, n: usize) {
        assert!(
            n <= self.bound,
            "acquire_many({n}) on a bounded semaphore of {} permits can never complete; ask for at most {}",
            self.bound,
            self.bound
        );
    }
}

impl PermitSource for Semaphore {
    fn core(&self) -> &BatchSemaphore {
        &self.core
    }
}

impl PermitSource for BoundedSemaphore {
    fn core(&self) -> &BatchSemaphore {
        &self.core
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of circulation instead of returning them.
    /// A [`BoundedSemaphore`] can put them back with `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_sync::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.core.forget(self.permits);
        self.permits = 0;
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.core.release(self.permits);
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of circulation instead of returning them.
    pub fn forget(mut self) {
        self.source.core().forget(self.permits);
        self.permits = 0;
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.source.core().release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
