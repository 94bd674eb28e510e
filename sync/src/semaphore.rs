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
//! `forget`; releasing past the initial count is a [`ReleaseError`]. The
//! acquire futures are written out by hand (`OnePermitAcquire`, 12 bytes;
//! `PermitAcquire`, `OwnedPermitAcquire`, 16-24), because every
//! parked acquirer carries one (`batch_semaphore.rs` says why not `async
//! fn`); a misused `BoundedSemaphore::acquire_many` panics when called,
//! not when first polled.
//!
//! Invariants: those of `batch_semaphore.rs` (INV-1: every permit is free,
//! granted, held by a guard, or forgotten).

use crate::batch_semaphore::{AcquireState, BatchSemaphore, Need, One};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Implemented by both semaphore types so one owned permit type serves both.
trait PermitSource: Send + Sync + 'static {
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
        pub fn acquire(&self) -> impl Future<Output = SemaphorePermit<'_>> + '_ {
            self.check_request(1);
            OnePermitAcquire {
                core: &self.core,
                state: AcquireState::new(One),
            }
        }

        /// Waits until `n` permits are free at once. A large request at the
        /// head of the queue is not overtaken by smaller ones behind it.
        pub fn acquire_many(&self, n: usize) -> impl Future<Output = SemaphorePermit<'_>> + '_ {
            self.check_request(n);
            PermitAcquire {
                core: &self.core,
                state: AcquireState::new(n),
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
        pub fn acquire_owned(self: Arc<Self>) -> impl Future<Output = OwnedSemaphorePermit> {
            self.check_request(1);
            OwnedPermitAcquire {
                source: Some(self),
                state: AcquireState::new(One),
            }
        }

        /// Like [`acquire_many`](Self::acquire_many), with an owned permit.
        pub fn acquire_many_owned(
            self: Arc<Self>,
            n: usize,
        ) -> impl Future<Output = OwnedSemaphorePermit> {
            self.check_request(n);
            OwnedPermitAcquire {
                source: Some(self),
                state: AcquireState::new(n),
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

/// Future of `acquire_many`: the semaphore reference and the waiter state,
/// nothing else (an `async fn` around the core's `Acquire` held the
/// reference three times).
struct PermitAcquire<'a, N: Need> {
    core: &'a BatchSemaphore,
    state: AcquireState<N>,
}

impl<'a, N: Need> Future for PermitAcquire<'a, N> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = &mut *self;
        ready!(this.state.poll(this.core, cx));
        Poll::Ready(SemaphorePermit {
            core: this.core,
            permits: this.state.count(),
        })
    }
}

impl<N: Need> Drop for PermitAcquire<'_, N> {
    /// Cancel-safety: a waiter granted its permits hands them on.
    fn drop(&mut self) {
        self.state.cancel(self.core);
    }
}

/// [`PermitAcquire`] for one permit, packed to an alignment of 4: 12 bytes,
/// so an `async` block holding an `Arc` of the semaphore and this future is
/// three words (its tag beside the `Arc`), not four. The generic
/// `PermitAcquire` cannot be packed: a reference to a field of a generic
/// type might be unaligned.
#[repr(C, packed(4))]
struct OnePermitAcquire<'a> {
    core: &'a BatchSemaphore,
    state: AcquireState<One>,
}

impl<'a> Future for OnePermitAcquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = &mut *self;
        let core = this.core;
        ready!(this.state.poll(core, cx));
        Poll::Ready(SemaphorePermit { core, permits: 1 })
    }
}

impl Drop for OnePermitAcquire<'_> {
    /// Cancel-safety, as for [`PermitAcquire`].
    fn drop(&mut self) {
        let core = self.core;
        self.state.cancel(core);
    }
}

/// Future of `acquire_owned` and `acquire_many_owned`; `source` moves into
/// the permit when it completes.
struct OwnedPermitAcquire<S: PermitSource, N: Need> {
    source: Option<Arc<S>>,
    state: AcquireState<N>,
}

impl<S: PermitSource, N: Need> Future for OwnedPermitAcquire<S, N> {
    type Output = OwnedSemaphorePermit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedSemaphorePermit> {
        let this = &mut *self;
        let source = this.source.as_ref().expect(
            "owned semaphore acquire future polled after it completed; poll it only until it returns Ready",
        );
        ready!(this.state.poll(source.core(), cx));
        let source = this.source.take().expect("checked above");
        Poll::Ready(OwnedSemaphorePermit {
            source,
            permits: this.state.count(),
        })
    }
}

impl<S: PermitSource, N: Need> Drop for OwnedPermitAcquire<S, N> {
    /// Cancel-safety, as for [`PermitAcquire`].
    fn drop(&mut self) {
        if let Some(source) = &self.source {
            self.state.cancel(source.core());
        }
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
