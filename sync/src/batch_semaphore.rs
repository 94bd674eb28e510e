//! Summary: the FIFO batch semaphore that `Semaphore`, `BoundedSemaphore`,
//! `Lock` and `RwLock` are built from.
//!
//! Role: the public futures (`Lock::lock`, `RwLock::read` and `write`,
//! `Semaphore::acquire` and their owned forms) each hold an
//! [`AcquireState`] beside their own reference to the semaphore. All call
//! [`BatchSemaphore::try_acquire`] and
//! [`BatchSemaphore::release`]; this module keeps the free-permit count and
//! a [`WaitList`] of requests, both under one mutex.
//!
//! # Design
//!
//! A waiter asks for `n` permits at once. Permits are granted strictly in
//! arrival order: the head waiter is granted only when `n` permits are free,
//! and nobody behind it is served before it, so a large `acquire_many` at the
//! head is never overtaken by smaller requests (no starvation of writers in
//! `RwLock`, which asks for [`MAX_READERS`](crate::rwlock) permits). A fast
//! path takes permits without queueing only when nobody is queued, so a late
//! `try_acquire` never barges. Granting moves the permits into the waiter
//! node (out of `permits`), which is what makes cancellation exact: a dropped
//! granted waiter hands its permits back and they flow to the next waiter.
//!
//! Every parked acquirer carries its future inside its task, so the futures
//! are hand-written and small: an [`AcquireState`] is the waiter's step (4
//! bytes: one key, with "not yet queued" and "done" as two values no list
//! issues) plus its request, which for a one-permit acquire is the type
//! [`One`] and takes no room. With the reference the future already needs,
//! and packed to an alignment of 4, `lock()` and `acquire()` are 12 bytes.
//! Rejected: `async fn`s awaiting a future that holds the semaphore and the
//! state, which nest its state (and a second copy of the reference) in
//! their own: 48 bytes for `lock()`, 88 for `acquire()` when it awaited
//! `acquire_many(1)`.
//!
//! Rejected: partial assignment of permits to the head (tokio) lets the head
//! accumulate permits while others wait; it saves nothing for our uses and
//! adds a state per node. Rejected: a separate "bounded" type of core:
//! `BoundedSemaphore` only adds a `forgotten` count here.
//!
//! # Invariants
//!
//! - INV-1: every permit is in exactly one place: free (`permits`), inside a
//!   Granted waiter node, held by a permit guard, or forgotten.
//! - INV-2: if a waiter is queued, the head's request exceeds `permits`
//!   (`settle` runs after every change that adds permits or removes a head).
//! - INV-3 (bounded only): `forgotten` counts permits given up by `forget`;
//!   `release_forgotten` succeeds only while it is positive, so the total never
//!   exceeds the initial count.
//!
//! # Concurrency
//!
//! All fields live in `SemState` under one mutex; the waiter protocol is the
//! one in `waitlist.rs` (R1–R4, N1–N5, C1–C3), with "resource" = permits.

use crate::loom::Mutex;
use crate::waitlist::{Grant, WaitList, WaiterKey, WakeList};
#[cfg(all(test, not(loom)))]
use std::future::Future;
#[cfg(all(test, not(loom)))]
use std::pin::Pin;
use std::task::{Context, Poll};

/// The counting core shared by every permit-based primitive.
#[derive(Debug)]
pub(crate) struct BatchSemaphore {
    state: Mutex<SemState>,
}

#[derive(Debug)]
struct SemState {
    /// Free permits (INV-1).
    permits: usize,
    /// Permits given up with `forget`, restorable by `release_forgotten` (INV-3).
    forgotten: usize,
    /// Queued requests; the payload is the number of permits asked for.
    waiters: WaitList<usize>,
}

impl SemState {
    /// The fast path (R2): take `needed` only if nobody is queued.
    fn try_take(&mut self, needed: usize) -> bool {
        if !self.waiters.has_waiters() && self.permits >= needed {
            self.permits -= needed;
            true
        } else {
            false
        }
    }

    /// N2 + N3: return `count` permits and grant whoever they satisfy.
    fn add(&mut self, count: usize, wakes: &mut WakeList) {
        self.permits = self.permits.checked_add(count).unwrap_or_else(|| {
            panic!(
                "adding {count} permits to {} free ones overflows usize; add fewer permits",
                self.permits
            )
        });
        self.settle(wakes);
    }

    /// N3: grant head waiters in order while their requests fit (INV-2).
    fn settle(&mut self, wakes: &mut WakeList) {
        while let Some(&needed) = self.waiters.front() {
            if needed > self.permits {
                break;
            }
            self.permits -= needed;
            self.waiters.grant_front(wakes);
        }
    }
}

impl BatchSemaphore {
    /// A semaphore with `permits` free permits.
    pub(crate) fn new(permits: usize) -> Self {
        BatchSemaphore {
            state: Mutex::new(SemState {
                permits,
                forgotten: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Free permits right now (ignores queued waiters).
    pub(crate) fn available(&self) -> usize {
        self.state.lock().permits
    }

    /// Takes `needed` permits if they are free and nobody is queued.
    pub(crate) fn try_acquire(&self, needed: usize) -> bool {
        self.state.lock().try_take(needed)
    }

    /// Waits in FIFO order for `needed` permits (the unit tests' way in;
    /// the public futures hold an [`AcquireState`] themselves).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn acquire(&self, needed: usize) -> Acquire<'_, usize> {
        Acquire {
            semaphore: self,
            state: AcquireState::new(needed),
        }
    }

    /// Returns `count` permits, waking the waiters they satisfy.
    pub(crate) fn release(&self, count: usize) {
        if count == 0 {
            return;
        }
        let mut wakes = WakeList::new();
        self.state.lock().add(count, &mut wakes);
        wakes.wake_all();
    }

    /// Records that `count` held permits were forgotten (INV-3).
    pub(crate) fn forget(&self, count: usize) {
        let mut state = self.state.lock();
        state.forgotten = state.forgotten.saturating_add(count);
    }

    /// Puts back one forgotten permit; `false` if none was forgotten (INV-3).
    pub(crate) fn release_forgotten(&self) -> bool {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if state.forgotten == 0 {
            return false;
        }
        state.forgotten -= 1;
        state.add(1, &mut wakes);
        drop(state);
        wakes.wake_all();
        true
    }
}

/// How many permits an acquire asks for: the count itself, or [`One`],
/// which takes no room in the future (`Lock::lock`, `Semaphore::acquire`).
pub(crate) trait Need: Copy + Unpin {
    /// The number of permits.
    fn count(self) -> usize;
}

/// A request for exactly one permit, known from the type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct One;

impl Need for One {
    #[inline]
    fn count(self) -> usize {
        1
    }
}

impl Need for usize {
    #[inline]
    fn count(self) -> usize {
        self
    }
}

/// Where an acquire is in the waiter protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcquireStep {
    /// Not polled yet: will try the fast path (R2).
    Start,
    /// Queued under this key (R3).
    Queued(WaiterKey),
    /// Returned `Ready`; the permits belong to the caller now.
    Done,
}

/// The waiter-protocol state of one acquire, without the semaphore: each
/// future that waits for permits keeps it next to the reference it already
/// has (a `&Lock`, an `Arc<Semaphore>`), passes the semaphore in on every
/// poll, and calls [`AcquireState::cancel`] from its `Drop`. A future that
/// holds both this and a separate `&BatchSemaphore` would carry the same
/// pointer twice, and an `async fn` around the unit tests' `Acquire`
/// carries it three times plus its own state: every parked waiter pays for
/// the future.
#[derive(Debug)]
pub(crate) struct AcquireState<N> {
    need: N,
    /// The [`AcquireStep`] in one 4-byte key: `None` is `Start`,
    /// [`WaiterKey::NOT_ISSUED`] is `Done`, any other key `Queued`.
    step: Option<WaiterKey>,
}

impl<N: Need> AcquireState<N> {
    /// A request for `need` permits, not yet polled.
    pub(crate) fn new(need: N) -> Self {
        AcquireState { need, step: None }
    }

    /// Where this acquire is (see `step`).
    fn step(&self) -> AcquireStep {
        match self.step {
            None => AcquireStep::Start,
            Some(WaiterKey::NOT_ISSUED) => AcquireStep::Done,
            Some(key) => AcquireStep::Queued(key),
        }
    }

    /// The number of permits asked for (and, once `Ready`, held).
    pub(crate) fn count(&self) -> usize {
        self.need.count()
    }

    /// R1-R4 against `semaphore`, which must be the same one on every call.
    /// `Ready` means the permits are the caller's.
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    pub(crate) fn poll(&mut self, semaphore: &BatchSemaphore, cx: &mut Context<'_>) -> Poll<()> {
        crate::budget::budgeted(cx, |cx| {
            let mut state = semaphore.state.lock();
            match self.step() {
                AcquireStep::Start => {
                    let needed = self.need.count();
                    if state.try_take(needed) {
                        self.step = Some(WaiterKey::NOT_ISSUED);
                        return Poll::Ready(());
                    }
                    self.step = Some(state.waiters.push_back(needed, cx.waker()));
                    Poll::Pending
                }
                AcquireStep::Queued(key) => match state.waiters.poll(key, cx.waker()) {
                    Grant::Waiting => Poll::Pending,
                    Grant::Granted => {
                        state.waiters.remove(key);
                        self.step = Some(WaiterKey::NOT_ISSUED);
                        Poll::Ready(())
                    }
                    Grant::Closed => unreachable!("a semaphore never closes its waiters"),
                },
                AcquireStep::Done => panic!("semaphore acquire future polled after it completed; poll it only until it returns Ready"),
            }
        })
    }

    /// C1-C3, for the owning future's `Drop`: a queued waiter leaves; a
    /// granted one hands its permits on. Does nothing unless queued.
    pub(crate) fn cancel(&mut self, semaphore: &BatchSemaphore) {
        let AcquireStep::Queued(key) = self.step() else {
            return;
        };
        self.step = Some(WaiterKey::NOT_ISSUED);
        let mut wakes = WakeList::new();
        let mut state = semaphore.state.lock();
        match state.waiters.remove(key) {
            (Grant::Granted, needed) => state.add(needed, &mut wakes),
            // A large request leaving the head may unblock smaller ones (INV-2).
            (Grant::Waiting, _) => state.settle(&mut wakes),
            (Grant::Closed, _) => {}
        }
        drop(state);
        wakes.wake_all();
    }
}

/// Future of [`BatchSemaphore::acquire`]; resolves once the permits are the
/// caller's. Dropping it before then returns any permits it was granted.
#[cfg(all(test, not(loom)))]
#[derive(Debug)]
pub(crate) struct Acquire<'a, N: Need> {
    semaphore: &'a BatchSemaphore,
    state: AcquireState<N>,
}

#[cfg(all(test, not(loom)))]
impl<N: Need> Future for Acquire<'_, N> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.state.poll(this.semaphore, cx)
    }
}

#[cfg(all(test, not(loom)))]
impl<N: Need> Drop for Acquire<'_, N> {
    fn drop(&mut self) {
        self.state.cancel(self.semaphore);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(Noop));
        Pin::new(future).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn large_request_at_the_head_is_not_overtaken() {
        let sem = BatchSemaphore::new(2);
        let mut big = sem.acquire(3);
        assert!(poll_once(&mut big).is_pending());
        let mut small = sem.acquire(1);
        assert!(
            poll_once(&mut small).is_pending(),
            "a small request must queue behind the big one"
        );
        assert!(
            !sem.try_acquire(1),
            "try_acquire must not barge past the queue"
        );
        sem.release(1);
        assert!(poll_once(&mut big).is_ready());
        assert!(poll_once(&mut small).is_pending());
        sem.release(3);
        assert!(poll_once(&mut small).is_ready());
        assert_eq!(sem.available(), 2);
    }

    #[test]
    fn dropping_a_queued_head_unblocks_the_requests_behind_it() {
        let sem = BatchSemaphore::new(1);
        let mut big = sem.acquire(5);
        let mut small = sem.acquire(1);
        assert!(poll_once(&mut big).is_pending());
        assert!(poll_once(&mut small).is_pending());
        drop(big);
        assert!(poll_once(&mut small).is_ready());
        assert_eq!(sem.available(), 0);
    }

    #[test]
    fn dropping_a_granted_waiter_returns_its_permits() {
        let sem = BatchSemaphore::new(0);
        let mut first = sem.acquire(2);
        assert!(poll_once(&mut first).is_pending());
        sem.release(2);
        drop(first);
        assert_eq!(sem.available(), 2);
    }

    #[test]
    fn forgotten_permits_are_the_only_ones_release_forgotten_restores() {
        let sem = BatchSemaphore::new(1);
        assert!(!sem.release_forgotten());
        assert!(sem.try_acquire(1));
        sem.forget(1);
        assert!(sem.release_forgotten());
        assert_eq!(sem.available(), 1);
        assert!(!sem.release_forgotten());
    }
}
