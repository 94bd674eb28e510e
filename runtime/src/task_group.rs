//! `TaskGroup`: a set of spawned tasks, joined in completion order.
//!
//! # Summary
//! [`TaskGroup<T>`] owns the [`JoinHandle`]s of the tasks spawned into it.
//! [`join_next`](TaskGroup::join_next) yields each task's result as it
//! finishes (asyncio's `as_completed`); [`join_all`](TaskGroup::join_all)
//! collects them all; dropping the group aborts whatever is still running,
//! so no task outlives the scope that owns its group (structured
//! concurrency, as with `async with asyncio.TaskGroup()`).
//!
//! # Role
//! Public API (`weft_runtime::compose::TaskGroup`, `weft::task::TaskGroup`).
//! Spawns on the current runtime (`Handle::try_current`, not `lib.rs`'s
//! `spawn`, so this file only points down) and polls the join handles
//! through weft-compose's [`ReadyList`]. It is the one piece of the
//! combinators that spawns, so it stays in the runtime while `gather`,
//! `race` and the ready list it shares with them live in weft-compose,
//! which knows no runtime (the arrow points from here down to
//! weft-compose, never back).
//!
//! # Design
//! Like `gather`, the group polls only the handles that were woken: each
//! handle is polled with its slot's own child waker, so a group of N tasks
//! finishing one by one costs O(N) handle polls in total, not O(N²).
//! Unlike `gather`, the set grows while it is being joined, so the handles
//! live in a `Vec` of slots with a free list; a slot is reused after its
//! task has been joined. A stale wake for a reused slot only causes one
//! spurious poll of the new handle, which is harmless. `JoinHandle` is
//! `Unpin`, so no pinned storage is needed here.
//!
//! Unlike `asyncio.TaskGroup`, a failing (or panicking) task does not cancel
//! its siblings by itself: every result is handed back and the caller
//! decides. The fail-fast recipe is three lines (see [`TaskGroup`]).
//!
//! # Invariants
//! - INV-1: `slots[i]` is `Some` iff slot `i` holds a task not yet joined,
//!   and `len` counts those slots; `free` lists exactly the `None` slots.
//! - INV-2: a woken handle that was not polled yet stays queued in the
//!   ready list (weft-compose's `ready.rs`, INV-4), so no wake is lost between two calls of
//!   `join_next`, even when the `join_next` future is dropped.
//!
//! # Concurrency
//! The group is owned by one task (`&mut self` everywhere); the tasks in it
//! run anywhere on the runtime and wake their slots from any thread.

use crate::handle::Handle;
use crate::task::{AbortHandle, JoinError, JoinHandle};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use weft_compose::ready::{ReadyList, Step};

/// A set of spawned tasks that are joined in the order they finish and
/// aborted together (asyncio's `TaskGroup` and `as_completed`).
///
/// Dropping the group aborts every task still in it.
///
/// # Fail fast, as `asyncio.TaskGroup` does
/// A failing member does not cancel the others by itself. To stop at the
/// first failure, abort the rest and return the error:
/// ```
/// use weft_runtime::compose::TaskGroup;
/// let first_error = weft_runtime::run(async {
///     let mut group = TaskGroup::new();
///     for id in 0..4u32 {
///         group.spawn(async move {
///             if id == 2 {
///                 return Err(format!("task {id} failed"));
///             }
///             std::future::pending::<()>().await; // the others would run forever
///             Ok(id)
///         });
///     }
///     while let Some(joined) = group.join_next().await {
///         // A JoinError (panic, abort) counts as a failure too.
///         if let Err(err) = joined.unwrap_or_else(|join_error| Err(join_error.to_string())) {
///             group.abort_all(); // cancel the siblings
///             return Some(err);
///         }
///     }
///     None
/// });
/// assert_eq!(first_error.as_deref(), Some("task 2 failed"));
/// ```
///
/// # Examples
/// `join_next` in a loop is `asyncio.as_completed`:
/// ```
/// weft_runtime::run(async {
///     let mut group = weft_runtime::compose::TaskGroup::new();
///     for (name, yields) in [("slow", 50), ("fast", 0)] {
///         group.spawn(async move {
///             for _ in 0..yields {
///                 weft_runtime::yield_now().await;
///             }
///             name
///         });
///     }
///     assert_eq!(group.len(), 2);
///     let mut finished = Vec::new();
///     while let Some(result) = group.join_next().await {
///         finished.push(result.expect("no task panics"));
///     }
///     finished.sort();
///     assert_eq!(finished, ["fast", "slow"]);
///     assert!(group.is_empty());
/// });
/// ```
pub struct TaskGroup<T> {
    /// INV-1: the join handles, `None` in free slots.
    slots: Vec<Option<JoinHandle<T>>>,
    /// INV-1: indices of the `None` slots, reused before growing.
    free: Vec<usize>,
    /// INV-1: number of `Some` slots.
    len: usize,
    ready: ReadyList,
}

impl<T> TaskGroup<T> {
    /// An empty group.
    pub fn new() -> TaskGroup<T> {
        TaskGroup {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: ReadyList::with_slots(0),
        }
    }

    /// Number of tasks in the group that have not been joined yet (finished
    /// or not).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if every task spawned into the group has been joined.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Spawns `future` on the current runtime as a member of this group, and
    /// returns a handle that can abort it.
    ///
    /// # Panics
    /// Panics outside a runtime, saying so, as [`crate::spawn`] does.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let handle = match Handle::try_current() {
            Some(runtime) => runtime.spawn(future),
            None => panic!("TaskGroup::spawn called outside a runtime: spawn into the group inside Runtime::block_on, weft::run or a task"),
        };
        let abort = handle.abort_handle();
        self.insert(handle);
        abort
    }

    /// Puts `handle` in a free slot (or a new one) and marks it ready so its
    /// first poll registers the slot's waker.
    fn insert(&mut self, handle: JoinHandle<T>) {
        let index = match self.free.pop() {
            Some(index) => {
                self.ready.mark_ready(index);
                index
            }
            None => {
                self.slots.push(None);
                self.ready.push_slot()
            }
        };
        self.slots[index] = Some(handle);
        self.len += 1;
    }

    /// Waits for the next task to finish and returns its result; `None`
    /// once the group is empty.
    ///
    /// Results come in completion order. A task that was aborted yields
    /// `Err(JoinError)` with `is_cancelled()`, one that panicked
    /// `Err(JoinError)` with `is_panic()`.
    ///
    /// Cancel-safe: if the returned future is dropped before it completes,
    /// no result is lost; the next call returns it.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Waits for every task and returns all results in completion order,
    /// leaving the group empty. Errors and panics are returned, not raised.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let mut group = weft_runtime::compose::TaskGroup::new();
    ///     group.spawn(async { Ok(1) });
    ///     group.spawn(async { Err("no luck") });
    ///     let results = group.join_all().await;
    ///     let failures = results.iter().filter(|r| matches!(r, Ok(Err(_)))).count();
    ///     assert_eq!((results.len(), failures), (2, 1));
    ///     assert!(group.is_empty());
    /// });
    /// ```
    pub async fn join_all(&mut self) -> Vec<Result<T, JoinError>> {
        let mut results = Vec::with_capacity(self.len);
        while let Some(result) = self.join_next().await {
            results.push(result);
        }
        results
    }

    /// Aborts every task in the group. They stay in the group until joined:
    /// each then yields its output if it had already finished, or a
    /// cancelled `JoinError`.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let mut group = weft_runtime::compose::TaskGroup::new();
    ///     for _ in 0..3 {
    ///         group.spawn(std::future::pending::<()>());
    ///     }
    ///     group.abort_all();
    ///     let results = group.join_all().await;
    ///     assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.is_cancelled())));
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for handle in self.slots.iter().flatten() {
            handle.abort();
        }
    }

    /// Polls the woken handles until one has finished.
    fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        let slots = &mut self.slots;
        let joined = self.ready.poll_woken(cx, |index, waker| {
            // A slot joined earlier may still be woken by a stale waker.
            let Some(handle) = slots[index].as_mut() else {
                return Step::Finished;
            };
            match Pin::new(handle).poll(&mut Context::from_waker(waker)) {
                Poll::Pending => Step::Pending,
                Poll::Ready(result) => {
                    slots[index] = None;
                    Step::Stop((index, result))
                }
            }
        });
        match joined {
            Some((index, result)) => {
                self.free.push(index); // INV-1
                self.len -= 1;
                Poll::Ready(Some(result))
            }
            None => Poll::Pending,
        }
    }
}

impl<T> Default for TaskGroup<T> {
    fn default() -> TaskGroup<T> {
        TaskGroup::new()
    }
}

impl<T> Drop for TaskGroup<T> {
    /// Aborts every task still in the group: no member outlives it.
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for TaskGroup<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    /// Compile-time check: a group is `Send`, `Sync` and `Unpin` when its
    /// output is `Send`, so a task may hold one across `.await`.
    #[test]
    fn task_group_is_send_sync_unpin() {
        fn send_sync_unpin<T: Send + Sync + Unpin>() {}
        send_sync_unpin::<super::TaskGroup<u8>>();
    }
}
