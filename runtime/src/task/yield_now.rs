//! Summary: `yield_now`, which lets the other ready tasks run before the
//! calling task continues.
//!
//! Role: user code awaits it; it wakes its own task while that task is
//! running, so the runner requeues it behind the waiting work
//! (`Schedule::yield_now`, via `TransitionToIdle::OkNotified`).
//!
//! Design: the future is pending exactly once. Waking by reference during
//! the poll only sets NOTIFIED (the task is RUNNING); the runner then hands
//! the task to `Schedule::yield_now`, which on a weft runtime puts it at
//! the back of its core's deque behind a "turn" (`scheduler/core.rs`):
//! never the LIFO slot, and polled again only after every task runnable
//! now (the core's queues and the injector) has run and the drivers were
//! polled.
//!
//! Invariants: none of its own.
//!
//! Concurrency: single-task.

/// Returns once, after giving every other ready task a turn
/// (asyncio's `await asyncio.sleep(0)`).
///
/// Every task that is runnable when `yield_now` is called runs before the
/// caller runs again, and the I/O and timer drivers are polled first, on
/// both flavours (on the multi-thread flavour, "runnable" means on the
/// caller's worker or in the runtime's global queue; other workers run
/// their own tasks meanwhile).
///
/// ```
/// weft_runtime::run(async {
///     for _ in 0..3 {
///         weft_runtime::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    // Pending once after waking itself; the requeue rule above is the
    // scheduler's, applied because the wake came during the poll.
    weft_coop::pending_once().await
}
