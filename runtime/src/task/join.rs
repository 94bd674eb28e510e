//! Summary: `JoinHandle` (await a task's output, abort it) and
//! `AbortHandle` (abort it from anywhere).
//!
//! Role: returned by `spawn`/`spawn_blocking`; calls into `harness.rs`
//! through `raw::JoinRaw` and the vtable.
//!
//! Design: both handles own one task reference (INV-4). Aborting is one
//! transition (`transition_to_notified_and_cancel`) and, if the task was
//! idle, one submit, so the cancellation runs on the scheduler like a poll:
//! the future is dropped by whichever thread next "polls" it, which means
//! the JoinHandle yields `JoinError` only after the future is gone (INV-2).
//!
//! Dropping a `JoinHandle` with nothing to clean up is one transition
//! here (`State::try_release_join_handle`); only otherwise does the drop
//! call through the vtable.
//!
//! Invariants: relies on INV-2, INV-3, INV-7.
//!
//! Concurrency: any thread may abort or drop either handle at any time.

use super::error::JoinError;
use super::id::Id;
use super::raw::{JoinRaw, RawTask};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or `Err(JoinError)` if the task was
/// aborted, panicked, or was dropped by runtime shutdown. Dropping it
/// detaches the task: it keeps running and its output is dropped.
///
/// ```
/// weft_runtime::run(async {
///     let handle = weft_runtime::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: JoinRaw<T>,
}

impl<T> JoinHandle<T> {
    pub(super) fn new(raw: JoinRaw<T>) -> JoinHandle<T> {
        JoinHandle { raw }
    }

    /// Cancels the task: a task not yet polled never runs, a running task
    /// has its future dropped at its next `.await` that returns `Pending`,
    /// and a finished task is left alone (its output is kept).
    ///
    /// Awaiting the handle then yields `JoinError::Cancelled` only after
    /// the future has been dropped, so every destructor it ran (a guard
    /// unlocked, a file flushed) has taken effect by then.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let handle = weft_runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.raw.raw());
    }

    /// True once the task's future has finished, been aborted or dropped;
    /// awaiting the handle then returns without waiting.
    pub fn is_finished(&self) -> bool {
        self.raw.raw().header().state.load().is_complete()
    }

    /// A handle that can abort the task but not await it.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle::new(self.raw.raw())
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.raw().header().id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// Spends one unit of the cooperative budget when the output is taken;
    /// with the budget spent, wakes the task and yields instead.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        weft_coop::poll_budgeted(cx, |cx| self.raw.poll_output(cx.waker()))
    }
}

impl<T> Drop for JoinHandle<T> {
    /// A handle dropped with nothing to clean up (no join waker registered,
    /// and the task not complete, as for a detached spawn, or its output
    /// already read, as after an `.await`) gives up its interest and
    /// reference in one step here, unless it holds the last reference;
    /// anything else goes through the vtable to the typed code that drops
    /// the output, the waker or the block.
    fn drop(&mut self) {
        drop_join_handle(self.raw.raw());
    }
}

/// The body of `JoinHandle::drop`, out of line and not generic: one copy
/// for every output type, so the code that drops a handle (an `.await`
/// loop's) stays as small as a call to the vtable would keep it.
#[inline(never)]
fn drop_join_handle(raw: RawTask) {
    if !raw.header().state.try_release_join_handle() {
        raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Aborts a task without owning its output. Clone it freely.
///
/// ```
/// weft_runtime::run(async {
///     let handle = weft_runtime::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(handle.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct AbortHandle {
    raw: RawTask,
}

impl AbortHandle {
    fn new(raw: RawTask) -> AbortHandle {
        raw.ref_inc();
        AbortHandle { raw }
    }

    /// Cancels the task, as [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// True once the task has finished, as [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        AbortHandle::new(self.raw)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Marks the task cancelled; submits it if it was idle, so the cancellation
/// runs on the scheduler (the reference for the queue was added by the
/// transition).
fn abort(raw: RawTask) {
    if raw.header().state.transition_to_notified_and_cancel() {
        raw.schedule();
    }
}
