//! Summary: how every future of weft-sync spends the cooperative budget.
//!
//! Role: the `poll` of each waiting future (`Acquire` under `Lock`,
//! `RwLock` and `Semaphore`; `EventWait`; `Condition`'s notification;
//! `BarrierWait`; the queue's `Put`, `Get` and `Join`) runs its body
//! through [`budgeted`]; oneshot's `Receiver`, which can tell from one load
//! whether it will complete, calls [`spend_then`] only when it takes the
//! value, through [`budgeted`] too, which calls out to `weft_coop`.
//!
//! Design: the budget is asked for *before* the body runs, so a future told
//! to yield has taken nothing (no permit, no item, no arrival) and has
//! changed no state: cancel-safety is untouched, and a granted waiter keeps
//! its grant in its node until the next poll (waitlist INV-3). The unit is
//! kept only when the body returns `Ready`; a body that finds it must wait
//! refunds it. Under an executor that is not weft's there is no budget
//! scope, so every poll proceeds (weft-coop INV-1): weft-sync keeps
//! depending on no runtime crate, only on the std-only `weft-coop`.
//!
//! [`spend_then`] is the same rule for a future that knows it is ready
//! before it takes anything: it asks for the unit only then, so a poll
//! that waits costs nothing (no unit taken and refunded). Every future
//! could be written so; the others find out whether they complete only
//! under their lock, half-way through the body, and the take-and-refund
//! of [`budgeted`] keeps that body in one piece.
//!
//! Rejected: spending in the waitlist kernel (`WaitList::poll`): the fast
//! paths (a free permit, a queued item) never reach the list, and they are
//! exactly the always-ready operations the budget exists for.
//!
//! Invariants: none of its own (see weft-coop's).
//!
//! Concurrency: thread-local only.

use std::task::{Context, Poll};

/// One poll of a leaf future under the cooperative budget: yields (after
/// waking the task) when the budget is spent, else runs `body` and keeps
/// the unit if `body` completed (`weft_coop::poll_budgeted`, the guard-free
/// form of `poll_proceed`: no refund flag kept across `body`).
#[inline(always)]
pub(crate) fn budgeted<T>(
    cx: &mut Context<'_>,
    body: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    weft_coop::poll_budgeted(cx, body)
}

/// The step of a leaf future that has found its operation ready and has
/// taken nothing yet: spends one unit and runs `take`, or, with the budget
/// spent, wakes the task and returns `Pending` with nothing taken. It is
/// [`budgeted`] around a body that always completes, so the refund test
/// folds away and every weft-sync future still spends through that one
/// helper.
#[inline(always)]
pub(crate) fn spend_then<T>(cx: &mut Context<'_>, take: impl FnOnce() -> T) -> Poll<T> {
    budgeted(cx, |_| Poll::Ready(take()))
}
