//! Summary: `Barrier` (asyncio.Barrier) — `n` tasks wait until all arrive.
//!
//! Role: an arrival count and a [`WaitList`] under one mutex. The task whose
//! arrival completes the group is the leader; it grants everyone queued and
//! the barrier starts the next round at once (it is reusable).
//!
//! # Design
//!
//! Arrival is counted when the `wait()` future is first polled, not when it
//! is created, and a waiter dropped before the group completes takes its
//! arrival back: a dropped `wait()` does not count as arrived. Once granted,
//! dropping costs nothing: the round is already complete.
//!
//! # Invariants
//!
//! - INV-1: `arrived` equals the number of queued (Waiting) nodes, and is
//!   always below `parties`.
//!
//! # Concurrency
//!
//! The waitlist protocol of `waitlist.rs`; "resource" = the round completing.

use crate::loom::Mutex;
use crate::waitlist::{Grant, WaitList, WaiterKey, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Makes `n` tasks wait until all of them have called
/// [`wait`](Barrier::wait) (asyncio.Barrier).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_sync::Barrier;
/// smol::block_on(async {
///     let barrier = Arc::new(Barrier::new(2));
///     let other = barrier.clone();
///     let task = smol::spawn(async move { other.wait().await.is_leader() });
///     let me = barrier.wait().await.is_leader();
///     assert!(me ^ task.await, "exactly one leader per round");
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<BarrierState>,
}

struct BarrierState {
    /// Tasks queued in the current round (INV-1).
    arrived: usize,
    waiters: WaitList<()>,
}

/// What [`Barrier::wait`] returns; one task per round is the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    is_leader: bool,
}

impl BarrierWaitResult {
    /// True for exactly one task per round: the one whose arrival completed it.
    pub fn is_leader(&self) -> bool {
        self.is_leader
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0.
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "a barrier needs at least one party, got 0");
        Barrier {
            parties,
            state: Mutex::new(BarrierState {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// How many tasks each round waits for.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        self.state.lock().arrived
    }

    /// Arrives and waits until `parties` tasks have arrived.
    ///
    /// Cancel-safe: dropping the future before the round completes takes the
    /// arrival back.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            key: None,
            is_done: false,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// Future of [`Barrier::wait`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Set while queued in the current round.
    key: Option<WaiterKey>,
    /// Set once `Ready` was returned: a second poll must not arrive again.
    is_done: bool,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            assert!(
                !this.is_done,
                "barrier wait future polled after it completed; call wait() again for the next round"
            );
            let mut state = this.barrier.state.lock();
            match this.key {
                None if state.arrived + 1 == this.barrier.parties => {
                    this.is_done = true;
                    let mut wakes = WakeList::new();
                    state.arrived = 0;
                    state.waiters.grant_all(&mut wakes);
                    drop(state);
                    wakes.wake_all();
                    Poll::Ready(BarrierWaitResult { is_leader: true })
                }
                None => {
                    state.arrived += 1;
                    this.key = Some(state.waiters.push_back((), cx.waker()));
                    Poll::Pending
                }
                Some(key) => match state.waiters.poll(key, cx.waker()) {
                    Grant::Waiting => Poll::Pending,
                    Grant::Granted | Grant::Closed => {
                        state.waiters.remove(key);
                        this.key = None;
                        this.is_done = true;
                        Poll::Ready(BarrierWaitResult { is_leader: false })
                    }
                },
            }
        })
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut state = self.barrier.state.lock();
        if let (Grant::Waiting, ()) = state.waiters.remove(key) {
            state.arrived -= 1;
        }
    }
}

impl fmt::Debug for BarrierState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierState")
            .field("arrived", &self.arrived)
            .finish_non_exhaustive()
    }
}
