//! Summary: `LifoSlot`, a worker's one-task "run next" slot, in an atomic
//! so that a task stranded there can be rescued by another worker.
//!
//! Role: the owning `Core` fills it with a task woken by the task it polls
//! (`Core::push_woken`) and empties it when it looks for the next task;
//! the driver holder's stall check (`Core::rescue_stranded`) takes the task
//! of a worker stuck in one long poll.
//!
//! Design: the slot is one `AtomicPtr` to the task's header (the queued
//! reference given up by `Notified::into_raw`). Only the owner ever stores
//! a task; a rescuer only swaps the slot to null. So the owner fills an
//! empty slot with a plain store (a rescuer racing it finds null and takes
//! nothing, or the new task, whole), and every take is a swap, so owner
//! and rescuer race on one word and exactly one of them gets the task. The
//! owner's common cases cost: an empty slot after a poll, one load; a wake
//! into an empty slot, a load and a store; running the woken task, one
//! swap.
//!
//! Rejected: a plain `Option` only the owner touches (tokio's slot, and
//! weft's before): a task woken into it by a poll that then blocks the
//! thread waits for the whole poll, with other workers idle (tokio issue
//! 4941). Flushing the slot to the deque before each poll does not help:
//! the wake that fills it happens during the poll. A stealable slot that
//! any searching worker empties (Go's `runnext`, tokio's reverted attempt)
//! moves request/response pairs across workers and loses the cache benefit
//! the slot exists for, so only a worker stuck in one poll for
//! `STALL_CHECK_INTERVAL` is rescued (`core.rs`).
//!
//! Invariants:
//!
//! - LIFO-1: a non-null `task` owns one queued reference (INV-6 of
//!   `task/mod.rs`); whoever swaps it out owns it, so it is run or dropped
//!   exactly once.
//!
//! Concurrency: `replace` only on the owning thread (SCHED-1); `take` on
//! the owner or a rescuer. Release stores and AcqRel swaps: the taker sees
//! the task as the thread that put it there left it.

use crate::loom::{AtomicPtr, Ordering};
use crate::task::{Header, Notified};
use std::ptr::{self, NonNull};

/// A one-task slot another worker can take from (see the module doc).
pub(crate) struct LifoSlot<S: 'static> {
    /// LIFO-1. Null when empty.
    task: AtomicPtr<Header>,
    _task: std::marker::PhantomData<Notified<S>>,
}

// SAFETY: the slot holds at most one `Notified<S>` reference, moved in and
// out whole by atomic swaps (LIFO-1); a `Notified` is `Send` (it is queued
// across threads), so sharing the slot shares nothing else.
unsafe impl<S: 'static> Sync for LifoSlot<S> where Notified<S>: Send {}

impl<S: 'static> LifoSlot<S> {
    pub(crate) fn new() -> LifoSlot<S> {
        LifoSlot {
            task: AtomicPtr::new(ptr::null_mut()),
            _task: std::marker::PhantomData,
        }
    }

    /// Puts `task` in; returns the previous occupant, if any. Owner only.
    #[inline]
    pub(crate) fn replace(&self, task: Notified<S>) -> Option<Notified<S>> {
        let new = task.into_raw().as_ptr();
        // Relaxed: only this thread stores non-null, so null stays null
        // until the store below (a rescuer can only swap null for null).
        if self.task.load(Ordering::Relaxed).is_null() {
            // Release: publishes the task to a rescuer's swap.
            self.task.store(new, Ordering::Release);
            return None;
        }
        // AcqRel: publishes the new task and takes the previous occupant,
        // unless a rescuer swapped it out first (then null comes back).
        let previous = self.task.swap(new, Ordering::AcqRel);
        // SAFETY: LIFO-1: a non-null value came from `into_raw` in this
        // function, and the swap made us its only owner.
        NonNull::new(previous).map(|previous| unsafe { Notified::from_raw(previous) })
    }

    /// Takes the task, if any.
    #[inline]
    pub(crate) fn take(&self) -> Option<Notified<S>> {
        // Acquire: a load that sees null skips the read-modify-write (the
        // common case after a poll); a stale non-null is settled by the swap.
        if self.task.load(Ordering::Acquire).is_null() {
            return None;
        }
        let task = self.task.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: LIFO-1, as in `replace`.
        NonNull::new(task).map(|task| unsafe { Notified::from_raw(task) })
    }

    /// True if a task waits in the slot (a snapshot).
    #[inline]
    pub(crate) fn is_occupied(&self) -> bool {
        !self.task.load(Ordering::Acquire).is_null()
    }
}

impl<S: 'static> Drop for LifoSlot<S> {
    fn drop(&mut self) {
        // SCHED-2: the queued reference is released, not leaked.
        drop(self.take());
    }
}
