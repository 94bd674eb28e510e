//! weft-coop: the cooperative budget, a per-poll allowance of operations
//! that makes a task which loops over always-ready futures yield.
//!
//! Summary: every poll of a weft task runs inside [`with_budget`], which
//! grants it [`BUDGET_PER_POLL`] units. Every leaf future of weft (socket
//! reads, writes and accepts, sleeps and timeouts, `JoinHandle`, oneshot,
//! every weft-sync primitive) calls [`poll_proceed`] before it does its
//! work, and spends one unit when it completes. Once the units are spent,
//! `poll_proceed` wakes the task and returns `Pending`, so the task goes to
//! the back of the run queue and the timers, the sockets and the other tasks
//! get their turn. asyncio switches at every `await` that suspends; a Rust
//! future that is always ready never suspends, which is why the budget exists.
//!
//! Role: the runtime (`weft-runtime`) calls [`with_budget`] around each task
//! poll and around `block_on`'s poll of its main future. Leaf futures in
//! `weft-sync`, `weft-timer`, `weft-io` and `weft-runtime` call
//! [`poll_proceed`] or its guard-free form [`poll_budgeted`]. User code
//! reaches this crate through
//! `weft::task::{consume_budget, unconstrained, coop}`. It depends on
//! nothing but `std`, so `weft-sync` can spend the budget while still
//! depending on no runtime crate. Beside the budget it holds
//! [`pending_once`], the one-step yield that `weft::yield_now` and the
//! paused clock's `advance` both await: the one crate below both of them.
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//!
//! // Outside `with_budget` there is no budget: everything proceeds.
//! let mut cx = Context::from_waker(Waker::noop());
//! assert!(weft_coop::poll_proceed(&mut cx).is_ready());
//!
//! // Inside, the 129th operation of one poll is told to yield.
//! weft_coop::with_budget(|| {
//!     for _ in 0..weft_coop::BUDGET_PER_POLL {
//!         let Poll::Ready(guard) = weft_coop::poll_proceed(&mut cx) else { unreachable!() };
//!         guard.made_progress();
//!     }
//!     assert!(!weft_coop::has_budget_remaining());
//!     assert!(weft_coop::poll_proceed(&mut cx).is_pending());
//!
//!     // `unconstrained` opts a future out.
//!     let mut free = pin!(weft_coop::unconstrained(async { weft_coop::has_budget_remaining() }));
//!     assert_eq!(free.as_mut().poll(&mut cx), Poll::Ready(true));
//! });
//! ```
//!
//! # Design
//!
//! The budget is a thread-local `Cell<i64>` of units left: a task poll runs
//! on one thread from start to end, so a thread-local is exactly "the budget
//! of the poll in progress", and reading it costs one load, no atomics.
//! [`with_budget`] saves the previous value and restores it on exit (also on
//! unwind), so nested scopes (an `unconstrained` future inside a task) see
//! their own budget and the outer one comes back afterwards. The default, on
//! every thread and outside any scope, is *unconstrained*: under smol, a
//! plain `block_on` or a test harness, `poll_proceed` always proceeds, so
//! weft-sync keeps working with no limit. Unconstrained is not a separate
//! state but a count no thread can spend (`i64::MAX / 2`), so the fast path
//! has no branch for it.
//!
//! The fast path of a leaf is one read-modify-write and a branch: take a
//! unit by decrementing the count, and go out of line only if it went
//! negative, where the refused take is undone before the task is woken. On
//! x86-64 that is `dec qword ptr fs:[reg]; js` plus one instruction for the
//! thread-local's offset, half of what a load, a test for zero and a store
//! of the decrement cost. A signed count is what makes it one instruction:
//! with an unsigned one, "none left" is a test before the store.
//! `docs/performance.md` ("What the budget costs") has the instruction
//! counts.
//!
//! A leaf future asks before it works and confirms after: the guard
//! [`RestoreOnPending`] gives the unit back when it is dropped without
//! [`RestoreOnPending::made_progress`], so a future that polled and found
//! nothing to do (a lock still held, a socket with no data) does not count.
//! [`poll_budgeted`] is the same ask-run-confirm step around a closure, for
//! leaves that can hand over their whole poll: no guard flag lives across
//! the operation, so it costs a few instructions less per operation.
//! Asking first is what keeps the leaves cancel-safe: a future told to yield
//! has not taken a permit, an item or the lock yet.
//!
//! Rejected: a counter in the task header (tokio keeps its budget in its
//! thread-local runtime context, for the same reason as here: the leaf
//! futures of weft-sync cannot see a task header, they only see a
//! `Context`). Rejected: a budget in time rather than operations; reading a
//! clock on every operation costs more than the operations it guards, and an
//! operation count is deterministic, which tests and the schedule explorer
//! rely on. Rejected: restoring the saved value (tokio's `RestoreOnPending`)
//! instead of adding the unit back; with nested leaves (a future that polls
//! another one before it decides), restoring would also refund the inner
//! future's real progress.
//!
//! `unconstrained` needs one `unsafe` block to project a pin onto its field
//! (this crate depends on no pin-projection crate); the field is never moved
//! and `Unconstrained` implements no `Drop` and no `Unpin` of its own, which
//! is what structural pinning requires. The block carries its `SAFETY:`.
//!
//! # Invariants
//!
//! - INV-1: outside every [`with_budget`] scope the thread's budget is
//!   unconstrained, so code not run by weft is never throttled.
//! - INV-2: a scope restores the budget it found when it exits, by return or
//!   by unwind.
//! - INV-3: [`poll_proceed`] returns `Pending` only after it has woken the
//!   task (by reference), so a `Pending` for budget is never a lost wakeup.
//! - INV-4: a unit is spent only by a [`RestoreOnPending`] on which
//!   `made_progress` was called; any other guard refunds it when dropped.
//!
//! # Concurrency
//!
//! Thread-local state only; nothing here is shared between threads.
//! [`RestoreOnPending`] is `!Send`: it refunds the thread it was taken on.
//!
//! # References
//!
//! tokio `runtime/coop.rs` (the per-poll budget of 128 operations, and the
//! "Reducing tail latencies with automatic cooperative task yielding" post
//! that measured it).

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Units granted to every task poll: after this many completed operations
/// the next leaf future yields. tokio's figure, which its authors measured
/// to cut tail latency without costing throughput.
pub const BUDGET_PER_POLL: u8 = 128;

/// The budget of "no budget" (INV-1): a count no poll can spend. At one
/// operation per nanosecond it lasts 146 years, so an unconstrained thread
/// counts down like a constrained one and never goes negative, and the hot
/// path has no branch for it. Half of `i64::MAX`, so the refunds of guards
/// dropped inside an unconstrained scope (each adds one) cannot overflow.
const UNCONSTRAINED: i64 = i64::MAX / 2;

thread_local! {
    /// The units left to the poll in progress on this thread. A `const`
    /// initializer and a `Copy` value with no destructor: every access is
    /// one thread-local load or store, no lazy-initialization check, and it
    /// stays readable while the thread exits (wakers and drops that run in
    /// thread-local destructors may call in).
    static CURRENT: Cell<i64> = const { Cell::new(UNCONSTRAINED) };
}

/// Runs `f` with a fresh budget of [`BUDGET_PER_POLL`] units on this thread,
/// restoring the previous budget afterwards (also if `f` unwinds).
///
/// The runtime wraps every task poll (and `block_on`'s poll of its main
/// future) in it; other executors may do the same to throttle weft's leaf
/// futures.
///
/// ```
/// weft_coop::with_budget(|| assert!(weft_coop::has_budget_remaining()));
/// ```
#[inline]
pub fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    scoped(i64::from(BUDGET_PER_POLL), f)
}

/// Runs `f` with `budget`, restoring the previous one on exit (INV-2).
#[inline]
fn scoped<R>(budget: i64, f: impl FnOnce() -> R) -> R {
    /// Restores on drop, so an unwinding `f` cannot leave its budget behind.
    struct Reset(i64);
    impl Drop for Reset {
        #[inline]
        fn drop(&mut self) {
            CURRENT.set(self.0);
        }
    }
    let _reset = Reset(CURRENT.replace(budget));
    f()
}

/// Asks for one unit of the current poll's budget.
///
/// Returns `Ready(guard)` if the operation may proceed: call
/// [`RestoreOnPending::made_progress`] on the guard once the operation
/// completes, otherwise dropping the guard gives the unit back. Returns
/// `Pending` when the budget is spent, after waking the task (by reference),
/// so the caller returns `Pending` too and the task runs again after the
/// others had their turn. Outside [`with_budget`] (another executor, a plain
/// thread) it always proceeds.
///
/// Call it before taking anything (a permit, an item, bytes), so a future
/// told to yield stays cancel-safe.
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
///
/// /// Always ready, but a good citizen: spends the budget like weft's own leaves.
/// struct Tick;
///
/// impl Future for Tick {
///     type Output = ();
///     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
///         let coop = ready!(weft_coop::poll_proceed(cx));
///         coop.made_progress();
///         Poll::Ready(())
///     }
/// }
///
/// let mut cx = Context::from_waker(std::task::Waker::noop());
/// weft_coop::with_budget(|| {
///     let ready = (0..200).filter(|_| Pin::new(&mut Tick).poll(&mut cx).is_ready()).count();
///     assert_eq!(ready, weft_coop::BUDGET_PER_POLL as usize);
/// });
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    if !take_unit() {
        spent(cx);
        return Poll::Pending;
    }
    Poll::Ready(RestoreOnPending {
        refund: Cell::new(true),
        _not_send: PhantomData,
    })
}

/// Polls one leaf operation under the budget: [`poll_proceed`], then `op`,
/// keeping the unit if `op` completed and refunding it otherwise. The same
/// contract as the guard, in fewer instructions: no guard state to carry
/// across `op` (weft's own leaf futures use it).
///
/// ```
/// use std::task::{Context, Poll, Waker};
///
/// let mut cx = Context::from_waker(Waker::noop());
/// weft_coop::with_budget(|| {
///     // A leaf that must wait does not spend; one that completes does.
///     for _ in 0..1_000 {
///         assert!(weft_coop::poll_budgeted(&mut cx, |_| Poll::<()>::Pending).is_pending());
///     }
///     let completed = (0..200)
///         .filter(|_| weft_coop::poll_budgeted(&mut cx, |_| Poll::Ready(())).is_ready())
///         .count();
///     assert_eq!(completed, weft_coop::BUDGET_PER_POLL as usize);
/// });
/// ```
#[inline(always)]
pub fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if !take_unit() {
        spent(cx);
        return Poll::Pending;
    }
    let poll = op(cx);
    if poll.is_pending() {
        refund_unit();
    }
    poll
}

/// Takes one unit; false if none is left. The unit is taken before the
/// operation and refunded if it does not complete, so the completed case,
/// the common one, is a decrement of the thread-local and a branch on its
/// sign: one read-modify-write instruction and a jump on x86-64. A refused
/// take is undone out of line, in [`spent`].
#[inline(always)]
fn take_unit() -> bool {
    let left = CURRENT.get() - 1;
    CURRENT.set(left);
    left >= 0
}

/// Gives back a unit taken by [`take_unit`] (INV-4). Adds rather than
/// restoring a saved value (see the module doc); [`UNCONSTRAINED`] leaves
/// room above it for the refunds of guards dropped in an unconstrained
/// scope.
#[inline(always)]
fn refund_unit() {
    CURRENT.set(CURRENT.get() + 1);
}

/// The budget is spent: undoes the refused take, then wakes the task so
/// the caller may return `Pending` (INV-3). Out of line, so the leaves
/// inline only the fast path.
#[cold]
#[inline(never)]
fn spent(cx: &mut Context<'_>) {
    refund_unit();
    // INV-3: the wake comes before the Pending it explains.
    cx.waker().wake_by_ref();
}

/// True unless the current poll has spent its whole budget. Always true
/// outside [`with_budget`] and inside [`unconstrained`].
///
/// Combinators use it to stop polling children once the budget is gone
/// (each child would only yield).
///
/// ```
/// assert!(weft_coop::has_budget_remaining());
/// ```
#[inline]
pub fn has_budget_remaining() -> bool {
    CURRENT.get() > 0
}

/// The unit taken by [`poll_proceed`]; refunded on drop unless
/// [`made_progress`](Self::made_progress) was called (INV-4).
#[derive(Debug)]
#[must_use = "dropping the guard at once refunds the unit; call made_progress() when the operation completes"]
pub struct RestoreOnPending {
    /// True while the unit is still to be refunded.
    refund: Cell<bool>,
    /// The refund goes to this thread's budget, so the guard stays here.
    _not_send: PhantomData<*const ()>,
}

impl RestoreOnPending {
    /// Marks the operation as completed: the unit stays spent.
    #[inline]
    pub fn made_progress(&self) {
        self.refund.set(false);
    }
}

impl Drop for RestoreOnPending {
    #[inline]
    fn drop(&mut self) {
        if self.refund.get() {
            refund_unit();
        }
    }
}

/// Spends one unit of the current task's budget, yielding first if it is
/// already spent.
///
/// For loops that do their work without awaiting a weft leaf future (a
/// CPU-bound loop over data, a custom always-ready future), so they still
/// let the other tasks run every [`BUDGET_PER_POLL`] iterations.
///
/// ```
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # use std::future::Future;
/// let mut work = std::pin::pin!(async {
///     let mut sum = 0u64;
///     for n in 0..1_000u64 {
///         sum += n;
///         weft_coop::consume_budget().await;
///     }
///     sum
/// });
/// // On a weft runtime the loop yields every 128 iterations; here, with no
/// // budget, it runs to the end in one poll.
/// assert_eq!(work.as_mut().poll(&mut cx), std::task::Poll::Ready(499_500));
/// ```
pub async fn consume_budget() {
    let mut done = false;
    std::future::poll_fn(move |cx| {
        if done {
            return Poll::Ready(());
        }
        let coop = std::task::ready!(poll_proceed(cx));
        coop.made_progress();
        done = true;
        Poll::Ready(())
    })
    .await
}

/// Pending once, after waking its task, then ready: the step that gives the
/// other ready tasks a turn. `weft::yield_now` is this behind the
/// scheduler's requeue rule, and the paused clock's `advance` ends with it
/// so the tasks its timers woke run before it returns. It spends no budget.
///
/// ```
/// # use std::future::Future;
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// let mut step = std::pin::pin!(weft_coop::pending_once());
/// assert!(step.as_mut().poll(&mut cx).is_pending());
/// assert!(step.as_mut().poll(&mut cx).is_ready());
/// ```
pub async fn pending_once() {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Runs `future` with no budget: the leaf futures it awaits never yield
/// for budget (tokio's `unconstrained`).
///
/// For a future that must not be interrupted between operations, or that
/// does its own fairness. A long loop inside it can starve the other tasks
/// on its worker: use it with care.
///
/// ```
/// # let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// # use std::future::Future;
/// weft_coop::with_budget(|| {
///     let mut free = std::pin::pin!(weft_coop::unconstrained(async {
///         for _ in 0..1_000 {
///             weft_coop::consume_budget().await;
///         }
///     }));
///     assert!(free.as_mut().poll(&mut cx).is_ready());
///     assert!(weft_coop::has_budget_remaining(), "the outer budget is untouched");
/// });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

/// Future of [`unconstrained`]: polls `F` with no budget.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Unconstrained<F> {
    /// Structurally pinned: never moved out while `self` is pinned.
    inner: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved while
        // `self` is pinned (no method hands it out by value or by `&mut`),
        // `Unconstrained` has no `Drop` impl, and it is `Unpin` only when
        // `F` is (the auto impl), as the module doc's design note requires.
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.inner) };
        scoped(UNCONSTRAINED, || inner.poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            // Relaxed: a test counter read on the same thread.
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The units left, `None` when unconstrained.
    fn left() -> Option<u8> {
        u8::try_from(CURRENT.get())
            .ok()
            .filter(|&left| left <= BUDGET_PER_POLL)
    }

    #[test]
    fn pending_once_wakes_its_task_once_and_spends_no_budget() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        with_budget(|| {
            let mut step = std::pin::pin!(pending_once());
            assert!(step.as_mut().poll(&mut cx).is_pending());
            assert_eq!(
                counter.0.load(Ordering::Relaxed),
                1,
                "woken during the first poll"
            );
            assert!(step.as_mut().poll(&mut cx).is_ready());
            assert_eq!(
                counter.0.load(Ordering::Relaxed),
                1,
                "the second poll wakes nobody"
            );
            assert_eq!(left(), Some(BUDGET_PER_POLL), "no unit spent");
        });
    }

    #[test]
    fn outside_a_scope_every_operation_proceeds() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1_000 {
            let Poll::Ready(guard) = poll_proceed(&mut cx) else {
                panic!("no budget outside with_budget (INV-1)");
            };
            guard.made_progress();
        }
        assert_eq!(left(), None);
    }

    #[test]
    fn spent_budget_wakes_then_returns_pending() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        with_budget(|| {
            for spent in 0..BUDGET_PER_POLL {
                let Poll::Ready(guard) = poll_proceed(&mut cx) else {
                    panic!("operation {spent} was refused before the budget ran out");
                };
                guard.made_progress();
            }
            assert_eq!(counter.0.load(Ordering::Relaxed), 0);
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(counter.0.load(Ordering::Relaxed), 1, "INV-3: woken");
            for _ in 0..3 {
                assert!(poll_proceed(&mut cx).is_pending());
            }
            assert_eq!(left(), Some(0), "a refused take is undone");
            assert_eq!(
                counter.0.load(Ordering::Relaxed),
                4,
                "INV-3: woken each time"
            );
        });
    }

    #[test]
    fn a_guard_refunded_in_an_unconstrained_scope_leaves_it_unconstrained() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let guards: Vec<_> = (0..3)
                .map(|_| match poll_proceed(&mut cx) {
                    Poll::Ready(guard) => guard,
                    Poll::Pending => unreachable!("the budget is fresh"),
                })
                .collect();
            scoped(UNCONSTRAINED, || {
                drop(guards);
                assert_eq!(left(), None);
                assert!(has_budget_remaining());
            });
            assert_eq!(left(), Some(BUDGET_PER_POLL - 3), "INV-2");
        });
        assert_eq!(left(), None, "INV-1");
    }

    #[test]
    fn a_guard_without_progress_refunds_its_unit() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..1_000 {
                let guard = poll_proceed(&mut cx);
                assert!(guard.is_ready());
                drop(guard);
            }
            assert_eq!(left(), Some(BUDGET_PER_POLL));
        });
    }

    #[test]
    fn a_refund_does_not_return_a_nested_leafs_progress() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let Poll::Ready(outer) = poll_proceed(&mut cx) else {
                unreachable!()
            };
            let Poll::Ready(inner) = poll_proceed(&mut cx) else {
                unreachable!()
            };
            inner.made_progress();
            drop(inner);
            drop(outer);
            assert_eq!(left(), Some(BUDGET_PER_POLL - 1));
        });
    }

    #[test]
    fn scopes_restore_the_outer_budget_also_on_unwind() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let Poll::Ready(guard) = poll_proceed(&mut cx) else {
                unreachable!()
            };
            guard.made_progress();
            let unwound = std::panic::catch_unwind(|| {
                with_budget(|| {
                    assert_eq!(left(), Some(BUDGET_PER_POLL));
                    panic!("inside a nested scope");
                })
            });
            assert!(unwound.is_err());
            assert_eq!(left(), Some(BUDGET_PER_POLL - 1), "INV-2");
        });
        assert_eq!(left(), None, "INV-1");
    }

    #[test]
    fn unconstrained_runs_past_the_budget_and_leaves_it_alone() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let mut free = std::pin::pin!(unconstrained(async {
                for _ in 0..10 * BUDGET_PER_POLL as usize {
                    consume_budget().await;
                }
            }));
            assert!(free.as_mut().poll(&mut cx).is_ready());
            assert_eq!(left(), Some(BUDGET_PER_POLL));
        });
    }

    #[test]
    fn consume_budget_yields_once_the_budget_is_spent() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            let mut spend = std::pin::pin!(async {
                for _ in 0..BUDGET_PER_POLL as usize + 1 {
                    consume_budget().await;
                }
            });
            assert!(spend.as_mut().poll(&mut cx).is_pending());
            assert!(!has_budget_remaining());
        });
        with_budget(|| assert!(has_budget_remaining()));
    }
}
