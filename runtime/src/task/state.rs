//! Summary: the task state word, one `AtomicUsize` that says who may touch a
//! task's future, output and join waker, and how many references keep the
//! task's memory alive.
//!
//! Role: `task::harness` (the poll/complete/cancel/join paths) and the waker
//! functions in `task::raw` are the only callers. Every mutation is a named
//! `transition_to_*` method (plus `ref_inc`/`ref_dec`, which touch only the
//! count) built on the single CAS helper [`State::fetch_update_action`].
//!
//! Design: lifecycle flags and the reference count share one word so that
//! "become idle and drop my reference" or "mark notified and take a reference
//! for the queue" are single atomic steps; a separate refcount would open a
//! window in which a task is idle with no queue reference and a racing waker
//! cannot tell whether to submit it. This is tokio's layout, trimmed: no
//! LIFO-slot or "join waker being written" bits.
//!
//! ```text
//! bit   0  RUNNING        a thread owns the future (polling or cancelling it)
//! bit   1  COMPLETE       the future is gone; the stage holds the output
//! bit   2  NOTIFIED       a Notified reference exists (queued) or the runner must requeue
//! bit   3  JOIN_INTEREST  a JoinHandle exists and owns the output once COMPLETE
//! bit   4  JOIN_WAKER     the join waker slot is written and owned by the task
//! bit   5  CANCELLED      abort() or shutdown asked for the future to be dropped
//! bits 6.. REF_COUNT      references: Task (owned list), Notified, JoinHandle,
//!                         AbortHandle, Waker; the last one frees the task
//! ```
//!
//! Invariants:
//!
//! - INV-1: Only the thread that set RUNNING (by `transition_to_running` or
//!   `transition_to_shutdown`) touches the stage, until it clears RUNNING.
//!   RUNNING and COMPLETE are never both set.
//! - INV-2: Once COMPLETE is set it is never cleared, and the future has been
//!   dropped before it is set. After COMPLETE the output belongs to the
//!   JoinHandle if JOIN_INTEREST was set at that moment, else to the task.
//!   After COMPLETE only the JoinHandle clears JOIN_INTEREST: when it moves
//!   the output out (`transition_to_output_read`) or when it is dropped, so
//!   a JoinHandle that finds JOIN_INTEREST clear has taken the output
//!   already (what the stage holds when is `raw.rs` INV-11).
//! - INV-3: While JOIN_WAKER is clear (and the task is not COMPLETE) only the
//!   JoinHandle touches the join waker slot; while it is set only the task
//!   reads it, and only after COMPLETE. JOIN_WAKER is only set while
//!   JOIN_INTEREST is set. Outside a poll of the JoinHandle, a clear
//!   JOIN_WAKER means the slot is empty (the JoinHandle writes a waker only
//!   to set JOIN_WAKER at once, and empties the slot if that fails).
//! - INV-4: The count is the number of live references. Every reference owns
//!   exactly one `REF_ONE`; the memory is freed exactly once, by whoever takes
//!   the count to zero.
//! - INV-5: NOTIFIED set on an idle (not RUNNING, not COMPLETE) task means a
//!   `Notified` for it exists, so a second wake must not submit another one
//!   (no double poll).
//!
//! State machine (lifecycle only; reference changes are in the table below):
//!
//! ```text
//!          spawn (NOTIFIED | JOIN_INTEREST, 3 refs)
//!                 |
//!                 v        transition_to_running
//!   +-------> Notified --------------------------------> Running ------+
//!   |          ^  |  (CANCELLED set: the runner drops   |  |  ^       | wake while running:
//!   |          |  |   the future instead of polling it) |  |  +-------+ sets NOTIFIED only
//!   | wake /   |  |                                      |  |
//!   | abort    |  +-- transition_to_shutdown ---------+  |  | Pending and NOTIFIED:
//!   |          |      (claims RUNNING to cancel)      |  |  | transition_to_idle,
//!   |          +--------------------------------------|--|--+ the runner requeues it
//!   |                                                 |  |
//!  Idle <---- Pending, not NOTIFIED: transition_to_idle --+
//!   |                                                 |  | Ready, panicked, or cancelled:
//!   +-- transition_to_shutdown (claims RUNNING) ------+  | transition_to_complete
//!                                                     v  v
//!                                                   Complete --(last reference)--> freed
//! ```
//!
//! | from             | method                              | to                    | refs | caller's duty                  |
//! |------------------|-------------------------------------|-----------------------|------|--------------------------------|
//! | Notified         | `transition_to_running`             | Running               |  0   | poll (or cancel if CANCELLED)  |
//! | Running/Complete | `transition_to_running`             | unchanged             | -1   | nothing (or free at 0)         |
//! | Running          | `transition_to_idle` (not notified) | Idle                  | -1   | nothing (or free at 0)         |
//! | Running          | `transition_to_idle` (notified)     | Notified              |  0   | requeue with its own reference |
//! | Running          | `transition_to_complete`            | Complete              |  0   | hand over output, then `transition_to_terminal` |
//! | Idle             | `transition_to_notified_by_ref`     | Notified              | +1   | submit                         |
//! | Idle             | `transition_to_notified_by_val`     | Notified              |  0   | submit (the waker's reference) |
//! | Running          | `transition_to_notified_by_*`       | Running + NOTIFIED    | 0/-1 | nothing                        |
//! | Idle             | `transition_to_notified_and_cancel` | Notified + CANCELLED  | +1   | submit                         |
//! | Idle/Notified    | `transition_to_shutdown`            | Running + CANCELLED   |  0   | drop the future, complete      |
//! | Complete         | `transition_to_output_read`         | Complete, no interest |  0   | nothing (the output was moved) |
//!
//! Who owns the future: the thread holding RUNNING (INV-1); nobody while
//! Idle or Notified (the queue holds a reference, not the future); after
//! COMPLETE there is no future, and the output belongs as INV-2 says.
//!
//! Concurrency: every method is one atomic read-modify-write. Orderings are
//! AcqRel on transitions that hand over the stage or the join waker (so the
//! writes before the release are visible to the acquirer), and the refcount
//! follows `Arc`: Relaxed increment (the caller already holds a reference),
//! AcqRel decrement (the last owner must see every other owner's writes).
//!
//! References: tokio `runtime/task/state.rs`; async-task `state.rs`.

use crate::loom::{AtomicUsize, Ordering};
use std::fmt;

/// A thread owns the future. Set by `transition_to_running` or
/// `transition_to_shutdown`, cleared by `transition_to_idle` or
/// `transition_to_complete`. Excludes COMPLETE.
const RUNNING: usize = 0b00_0001;

/// The future has been dropped and the stage holds the output (or nothing,
/// once read). Set by `transition_to_complete`, never cleared. Excludes RUNNING.
const COMPLETE: usize = 0b00_0010;

/// The task has been woken. Set by wakes and by `transition_to_notified_and_cancel`,
/// cleared by `transition_to_running`.
const NOTIFIED: usize = 0b00_0100;

/// A JoinHandle is alive. Set at spawn, cleared once by
/// `transition_to_join_handle_dropped`.
const JOIN_INTEREST: usize = 0b00_1000;

/// The join waker slot holds the JoinHandle's waker and belongs to the task.
/// Set by `transition_to_join_waker_set`, cleared by
/// `transition_to_join_waker_unset` or `transition_to_join_handle_dropped`;
/// requires JOIN_INTEREST.
const JOIN_WAKER: usize = 0b01_0000;

/// The task should stop: its future is dropped at the next poll instead of
/// being polled. Set by `transition_to_notified_and_cancel` and
/// `transition_to_shutdown`, never cleared.
const CANCELLED: usize = 0b10_0000;

/// Every lifecycle bit, from the constants above.
const LIFECYCLE_MASK: usize =
    RUNNING | COMPLETE | NOTIFIED | JOIN_INTEREST | JOIN_WAKER | CANCELLED;

/// The reference count lives in the bits above the lifecycle bits.
const REF_COUNT_SHIFT: u32 = LIFECYCLE_MASK.count_ones();

/// One reference.
const REF_ONE: usize = 1 << REF_COUNT_SHIFT;

/// The reference count bits.
const REF_COUNT_MASK: usize = !LIFECYCLE_MASK;

/// A new task starts with three references, one for each handle `new_task`
/// returns: the `Task` (held by the owned-tasks list), the `Notified` (held
/// by the run queue) and the `JoinHandle`. It starts NOTIFIED because that
/// `Notified` exists (INV-5), and with JOIN_INTEREST because the JoinHandle does.
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// Refuse to count past this many references: wrapping would free a live task.
const MAX_REFS: usize = isize::MAX as usize;

/// The atomic state word of one task.
pub(crate) struct State {
    /// The packed word described in the module doc.
    value: AtomicUsize,
}

/// A copy of the state word, read through `is_*` and changed through
/// `set_*`/`unset_*` before being stored back by a transition.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the caller of [`State::transition_to_running`] must do next.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Success,
    /// Drop the future: the task was aborted.
    Cancelled,
    /// The task is running elsewhere or complete; the caller's reference was dropped.
    Failed,
    /// As `Failed`, and it was the last reference: free the task.
    Dealloc,
}

/// What the caller of [`State::transition_to_idle`] must do next.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Nothing: the runner's reference was dropped.
    Ok,
    /// Woken while running: requeue the task, reusing the runner's reference.
    OkNotified,
    /// The runner's reference was the last one: free the task.
    OkDealloc,
    /// Aborted while running: the caller still owns the future and must drop it.
    Cancelled,
}

/// What a waker that consumes its reference must do next.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByVal {
    /// Nothing more: the waker's reference was dropped or absorbed.
    DoNothing,
    /// Submit the task, transferring the waker's reference to the queue.
    Submit,
    /// The waker's reference was the last: free the task.
    Dealloc,
}

/// What a waker that keeps its reference must do next.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByRef {
    /// Nothing.
    DoNothing,
    /// Submit the task with the reference this transition added.
    Submit,
}

/// What a dropped JoinHandle must clean up (INV-2, INV-3).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TransitionToJoinHandleDropped {
    /// The task is complete and nobody else will drop the output.
    pub(crate) drop_output: bool,
    /// The join waker slot came back to the JoinHandle: clear it.
    pub(crate) drop_waker: bool,
    /// The transition also dropped the JoinHandle's reference: there was
    /// nothing to clean up (not complete, the slot empty by INV-3; or the
    /// output already read) and it was not the last one. Otherwise the
    /// caller drops it after cleaning.
    pub(crate) released: bool,
}

impl State {
    /// A state word for a new task: see [`INITIAL_STATE`].
    pub(crate) fn new() -> State {
        State {
            value: AtomicUsize::new(INITIAL_STATE),
        }
    }

    /// Reads the word. Acquire: the caller may go on to touch what a
    /// transition released (the output, the join waker).
    ///
    /// Inlined, as the two transitions of every poll below are: the task's
    /// poll (`harness.rs`) is generic, compiled in the crate that spawns
    /// the task, and a call from there into these went through the GOT.
    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.value.load(Ordering::Acquire))
    }

    /// Notified -> Running, or Notified(CANCELLED) -> Running to cancel.
    /// Consumes the caller's `Notified` reference if the task cannot run.
    #[inline]
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_notified(), "a queued task must be notified (INV-5)");
            if !next.is_idle() {
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            next.set_running();
            next.unset_notified();
            let action = if next.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Running -> Idle after a `Pending` poll, dropping the runner's
    /// reference unless the task was woken meanwhile (then the runner's
    /// reference becomes the queue's).
    #[inline]
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_running(), "only the runner goes idle (INV-1)");
            if next.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            next.unset_running();
            let action = if next.is_notified() {
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// Running -> Complete. The caller has already stored the output (INV-2);
    /// AcqRel publishes it to the JoinHandle and acquires its join waker write.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.value.fetch_xor(DELTA, Ordering::AcqRel));
        debug_assert!(prev.is_running(), "only the runner completes (INV-1)");
        debug_assert!(!prev.is_complete(), "a task completes once (INV-2)");
        Snapshot(prev.0 ^ DELTA)
    }

    /// Drops `count` references after completion; true if the task must be freed.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.value.fetch_sub(count * REF_ONE, Ordering::AcqRel));
        assert!(
            prev.ref_count() >= count,
            "task reference count underflow (INV-4)"
        );
        prev.ref_count() == count
    }

    /// A waker that owns a reference wakes the task.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotifiedByVal {
        self.fetch_update_action(|mut next| {
            let action = if next.is_running() {
                // The runner requeues it (transition_to_idle); our ref is not needed.
                next.set_notified();
                next.ref_dec();
                debug_assert!(next.ref_count() > 0, "the runner holds a reference (INV-4)");
                TransitionToNotifiedByVal::DoNothing
            } else if next.is_complete() || next.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotifiedByVal::Dealloc
                } else {
                    TransitionToNotifiedByVal::DoNothing
                }
            } else {
                next.set_notified();
                TransitionToNotifiedByVal::Submit
            };
            (action, Some(next))
        })
    }

    /// A waker that keeps its reference wakes the task.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotifiedByRef {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotifiedByRef::DoNothing, None)
            } else if next.is_running() {
                next.set_notified();
                (TransitionToNotifiedByRef::DoNothing, Some(next))
            } else {
                next.set_notified();
                next.ref_inc();
                (TransitionToNotifiedByRef::Submit, Some(next))
            }
        })
    }

    /// `abort()`: marks the task cancelled; true if the caller must submit it
    /// (it was idle, so a reference for the queue was added).
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(|mut next| {
            if next.is_cancelled() || next.is_complete() {
                (false, None)
            } else if next.is_running() || next.is_notified() {
                // The runner, or the queued poll, sees CANCELLED and drops the future.
                next.set_notified();
                next.set_cancelled();
                (false, Some(next))
            } else {
                next.set_cancelled();
                next.set_notified();
                next.ref_inc();
                (true, Some(next))
            }
        })
    }

    /// Runtime shutdown: marks the task cancelled and, if nobody runs it,
    /// takes RUNNING so the caller can drop the future right now. True if the
    /// caller now owns the future.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|mut next| {
            let claimed = next.is_idle();
            if claimed {
                next.set_running();
            }
            next.set_cancelled();
            (claimed, Some(next))
        })
    }

    /// The JoinHandle gives up its interest. If the task is not complete the
    /// join waker comes back to the JoinHandle (INV-3); if it is, the output
    /// is the JoinHandle's to drop (INV-2), unless it read it already
    /// (JOIN_INTEREST clear: `transition_to_output_read`). With nothing to
    /// clean up and other references left, its reference goes in the same
    /// step (`released`).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDropped {
        self.fetch_update_action(|mut next| {
            if !next.is_join_interested() {
                // INV-2: the output was read (only then does a live
                // JoinHandle find its interest gone); the join waker slot
                // is the task's (JOIN_WAKER set) or empty (INV-3).
                debug_assert!(next.is_complete(), "one JoinHandle per task");
                let released = next.ref_count() >= 2;
                let done = TransitionToJoinHandleDropped {
                    drop_output: false,
                    drop_waker: false,
                    released,
                };
                if !released {
                    // The last reference: the caller drops it and frees.
                    return (done, None);
                }
                next.ref_dec();
                return (done, Some(next));
            }
            next.unset_join_interested();
            let done = if next.is_complete() {
                // INV-2: the output is the JoinHandle's; the join waker slot
                // is the task's while JOIN_WAKER stays set (INV-3).
                TransitionToJoinHandleDropped {
                    drop_output: true,
                    drop_waker: !next.is_join_waker_set(),
                    released: false,
                }
            } else if !next.is_join_waker_set() && next.0 >= 2 * REF_ONE {
                // Nothing to clean up (INV-3: the slot is empty), and not the
                // last reference: drop it in the same step (a detached spawn
                // pays one read-modify-write for its JoinHandle, not two).
                next.ref_dec();
                TransitionToJoinHandleDropped {
                    drop_output: false,
                    drop_waker: false,
                    released: true,
                }
            } else {
                // The join waker comes back to the JoinHandle (INV-3).
                next.unset_join_waker();
                TransitionToJoinHandleDropped {
                    drop_output: false,
                    drop_waker: true,
                    released: false,
                }
            };
            (done, Some(next))
        })
    }

    /// The `released` case of
    /// [`transition_to_join_handle_dropped`](Self::transition_to_join_handle_dropped)
    /// alone, which needs no typed code: `JoinHandle::drop` tries it before
    /// going through the vtable. True if the JoinHandle's interest and
    /// reference are gone; false, with the word unchanged, if the full
    /// transition is needed (the task is complete with its output unread,
    /// the join waker is set, or this is the last reference).
    ///
    /// A handle that has read the output (its interest already gone,
    /// `transition_to_output_read`) has nothing to clean up either, so an
    /// awaited handle's drop is also released here unless it holds the
    /// last reference.
    ///
    /// Its own compare-and-swap loop rather than `fetch_update_action`:
    /// a refusal is then a load and a few tests.
    #[inline]
    pub(crate) fn try_release_join_handle(&self) -> bool {
        let mut curr = self.load();
        loop {
            // INV-2: a live JoinHandle without interest has read the output.
            let read = !curr.is_join_interested();
            debug_assert!(!read || curr.is_complete(), "one JoinHandle per task");
            if curr.0 < 2 * REF_ONE || (!read && (curr.is_complete() || curr.is_join_waker_set())) {
                return false;
            }
            // INV-3: not complete and JOIN_WAKER clear, so the slot is empty;
            // or INV-2: the output was read, and the slot is the task's
            // (JOIN_WAKER set) or empty. Nothing to clean up, and not the
            // last reference.
            let mut next = curr;
            next.unset_join_interested();
            next.ref_dec();
            match self
                .value
                .compare_exchange(curr.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Complete -> Complete without JOIN_INTEREST: the JoinHandle has moved
    /// the output out of the stage (INV-2, `raw.rs` INV-11), so a second
    /// read panics and its drop finds nothing to drop. Relaxed: only the
    /// JoinHandle itself reads the bit back (no other party reads
    /// JOIN_INTEREST after COMPLETE), and its move out of the stage is
    /// ordered before the block's free by its own reference's AcqRel
    /// decrement, which comes after this.
    pub(crate) fn transition_to_output_read(&self) {
        let prev = Snapshot(self.value.fetch_and(!JOIN_INTEREST, Ordering::Relaxed));
        debug_assert!(
            prev.is_complete() && prev.is_join_interested(),
            "the JoinHandle reads a complete task's output once (INV-2)"
        );
    }

    /// The JoinHandle has written its waker and hands the slot to the task
    /// (INV-3). `Err` with the current snapshot if the task completed first.
    pub(crate) fn transition_to_join_waker_set(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_join_interested() && !next.is_join_waker_set());
            if next.is_complete() {
                return (Err(next), None);
            }
            next.set_join_waker();
            (Ok(next), Some(next))
        })
    }

    /// The JoinHandle takes the join waker slot back to replace the waker
    /// (INV-3). `Err` with the current snapshot if the task completed first.
    pub(crate) fn transition_to_join_waker_unset(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_join_interested() && next.is_join_waker_set());
            if next.is_complete() {
                return (Err(next), None);
            }
            next.unset_join_waker();
            (Ok(next), Some(next))
        })
    }

    /// Adds a reference. Relaxed, as `Arc::clone`: the caller already holds a
    /// reference, so the task cannot be freed concurrently; the decrement
    /// that pairs with it is AcqRel.
    pub(crate) fn ref_inc(&self) {
        let prev = self.value.fetch_add(REF_ONE, Ordering::Relaxed);
        // Wrapping the count would free a live task: abort, as `Arc` does.
        if prev > MAX_REFS {
            std::process::abort();
        }
    }

    /// Drops a reference; true if it was the last and the task must be freed.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.value.fetch_sub(REF_ONE, Ordering::AcqRel));
        assert!(
            prev.ref_count() >= 1,
            "task reference count underflow (INV-4)"
        );
        prev.ref_count() == 1
    }

    /// The one CAS loop: `f` maps the current snapshot to an action and an
    /// optional new value (`None` = leave the word unchanged).
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self
                .value
                .compare_exchange(curr.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }
}

impl Snapshot {
    /// Neither running nor complete.
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
    /// See [`RUNNING`].
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    fn set_running(&mut self) {
        self.0 |= RUNNING;
    }
    fn unset_running(&mut self) {
        self.0 &= !RUNNING;
    }
    /// See [`COMPLETE`].
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    /// See [`NOTIFIED`].
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    fn set_notified(&mut self) {
        self.0 |= NOTIFIED;
    }
    fn unset_notified(&mut self) {
        self.0 &= !NOTIFIED;
    }
    /// See [`JOIN_INTEREST`].
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    fn unset_join_interested(&mut self) {
        self.0 &= !JOIN_INTEREST;
    }
    /// See [`JOIN_WAKER`].
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    fn set_join_waker(&mut self) {
        self.0 |= JOIN_WAKER;
    }
    fn unset_join_waker(&mut self) {
        self.0 &= !JOIN_WAKER;
    }
    /// See [`CANCELLED`].
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    fn set_cancelled(&mut self) {
        self.0 |= CANCELLED;
    }
    /// The number of live references (INV-4).
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_COUNT_MASK) >> REF_COUNT_SHIFT
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0, "reference count underflow (INV-4)");
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("cancelled", &self.is_cancelled())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn state(bits: usize, refs: usize) -> State {
        State {
            value: AtomicUsize::new(bits | (refs * REF_ONE)),
        }
    }

    fn word(state: &State) -> usize {
        state.value.load(Ordering::Relaxed)
    }

    /// Runs one transition over a table of
    /// `(bits before, refs before, expected result, bits after, refs after)`
    /// rows, printing the starting word on any mismatch.
    fn check_table<R: PartialEq + std::fmt::Debug>(
        table: &[(usize, usize, R, usize, usize)],
        transition: impl Fn(&State) -> R,
    ) {
        for (bits, refs, expected, after, after_refs) in table {
            let s = state(*bits, *refs);
            let from = Snapshot(bits | (refs * REF_ONE));
            assert_eq!(&transition(&s), expected, "from {from:?}");
            assert_eq!(word(&s), after | (after_refs * REF_ONE), "from {from:?}");
        }
    }

    #[test]
    fn initial_state_is_notified_with_join_interest_and_three_refs() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested() && s.is_idle());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn transition_to_running_table() {
        use TransitionToRunning::*;
        // (bits before, refs before, expected action, bits after, refs after)
        let table = [
            (NOTIFIED, 2, Success, RUNNING, 2),
            (NOTIFIED | CANCELLED, 2, Cancelled, RUNNING | CANCELLED, 2),
            (NOTIFIED | RUNNING, 2, Failed, NOTIFIED | RUNNING, 1),
            (NOTIFIED | COMPLETE, 2, Failed, NOTIFIED | COMPLETE, 1),
            (NOTIFIED | COMPLETE, 1, Dealloc, NOTIFIED | COMPLETE, 0),
        ];
        check_table(&table, State::transition_to_running);
    }

    #[test]
    fn transition_to_idle_table() {
        use TransitionToIdle::*;
        let table = [
            (RUNNING, 2, Ok, 0, 1),
            (RUNNING, 1, OkDealloc, 0, 0),
            (RUNNING | NOTIFIED, 2, OkNotified, NOTIFIED, 2),
            (RUNNING | CANCELLED, 2, Cancelled, RUNNING | CANCELLED, 2),
            (
                RUNNING | CANCELLED | NOTIFIED,
                2,
                Cancelled,
                RUNNING | CANCELLED | NOTIFIED,
                2,
            ),
        ];
        check_table(&table, State::transition_to_idle);
    }

    #[test]
    fn transition_to_notified_by_val_table() {
        use TransitionToNotifiedByVal::*;
        let table = [
            (0, 2, Submit, NOTIFIED, 2),
            (RUNNING, 2, DoNothing, RUNNING | NOTIFIED, 1),
            (NOTIFIED, 2, DoNothing, NOTIFIED, 1),
            (COMPLETE, 2, DoNothing, COMPLETE, 1),
            (COMPLETE, 1, Dealloc, COMPLETE, 0),
        ];
        check_table(&table, State::transition_to_notified_by_val);
    }

    #[test]
    fn transition_to_notified_by_ref_table() {
        use TransitionToNotifiedByRef::*;
        let table = [
            (0, 1, Submit, NOTIFIED, 2),
            (RUNNING, 1, DoNothing, RUNNING | NOTIFIED, 1),
            (NOTIFIED, 1, DoNothing, NOTIFIED, 1),
            (COMPLETE, 1, DoNothing, COMPLETE, 1),
        ];
        check_table(&table, State::transition_to_notified_by_ref);
    }

    #[test]
    fn transition_to_notified_and_cancel_table() {
        let table = [
            (0, 1, true, NOTIFIED | CANCELLED, 2),
            (NOTIFIED, 1, false, NOTIFIED | CANCELLED, 1),
            (RUNNING, 1, false, RUNNING | NOTIFIED | CANCELLED, 1),
            (COMPLETE, 1, false, COMPLETE, 1),
            (CANCELLED | NOTIFIED, 1, false, CANCELLED | NOTIFIED, 1),
        ];
        check_table(&table, State::transition_to_notified_and_cancel);
    }

    #[test]
    fn transition_to_shutdown_claims_only_idle_tasks() {
        let table = [
            (0, true, RUNNING | CANCELLED),
            (NOTIFIED, true, NOTIFIED | RUNNING | CANCELLED),
            (RUNNING, false, RUNNING | CANCELLED),
            (COMPLETE, false, COMPLETE | CANCELLED),
        ];
        for (bits, claimed, after) in table {
            let s = state(bits, 1);
            assert_eq!(
                s.transition_to_shutdown(),
                claimed,
                "from {:?}",
                Snapshot(bits | REF_ONE)
            );
            assert_eq!(
                word(&s),
                after | REF_ONE,
                "from {:?}",
                Snapshot(bits | REF_ONE)
            );
        }
    }

    #[test]
    fn join_handle_dropped_table() {
        // (bits before, refs before, drop_output, drop_waker, released,
        //  bits after, refs after)
        let table = [
            (JOIN_INTEREST, 1, false, true, false, 0, 1),
            (JOIN_INTEREST, 3, false, false, true, 0, 2),
            (JOIN_INTEREST | NOTIFIED, 3, false, false, true, NOTIFIED, 2),
            (JOIN_INTEREST | RUNNING, 2, false, false, true, RUNNING, 1),
            (JOIN_INTEREST | JOIN_WAKER, 2, false, true, false, 0, 2),
            (JOIN_INTEREST | COMPLETE, 2, true, true, false, COMPLETE, 2),
            (
                JOIN_INTEREST | JOIN_WAKER | COMPLETE,
                2,
                true,
                false,
                false,
                JOIN_WAKER | COMPLETE,
                2,
            ),
        ];
        for (bits, refs, drop_output, drop_waker, released, after, after_refs) in table {
            let s = state(bits, refs);
            let from = Snapshot(bits | (refs * REF_ONE));
            let t = s.transition_to_join_handle_dropped();
            assert_eq!(
                t,
                TransitionToJoinHandleDropped {
                    drop_output,
                    drop_waker,
                    released
                },
                "from {from:?}"
            );
            assert_eq!(word(&s), after | (after_refs * REF_ONE), "from {from:?}");
        }
    }

    /// `try_release_join_handle` does exactly what the full transition does
    /// where that says `released`, and leaves the word alone everywhere
    /// else (the full transition then runs from the same word).
    #[test]
    fn try_release_join_handle_is_the_released_case_alone() {
        let starts = [
            (JOIN_INTEREST, 1),
            (JOIN_INTEREST, 2),
            (JOIN_INTEREST, 3),
            (JOIN_INTEREST | NOTIFIED, 3),
            (JOIN_INTEREST | RUNNING, 2),
            (JOIN_INTEREST | RUNNING | NOTIFIED | CANCELLED, 2),
            (JOIN_INTEREST | JOIN_WAKER, 2),
            (JOIN_INTEREST | JOIN_WAKER | RUNNING, 3),
            (JOIN_INTEREST | COMPLETE, 2),
            (JOIN_INTEREST | JOIN_WAKER | COMPLETE, 2),
            // The output was read (`transition_to_output_read`).
            (COMPLETE, 2),
            (COMPLETE | JOIN_WAKER, 3),
            (COMPLETE, 1),
        ];
        for (bits, refs) in starts {
            let from = Snapshot(bits | (refs * REF_ONE));
            let full = state(bits, refs);
            let released = full.transition_to_join_handle_dropped().released;
            let fast = state(bits, refs);
            assert_eq!(fast.try_release_join_handle(), released, "from {from:?}");
            if released {
                assert_eq!(word(&fast), word(&full), "from {from:?}");
            } else {
                assert_eq!(word(&fast), from.0, "unchanged from {from:?}");
            }
        }
    }

    #[test]
    fn output_read_then_join_handle_dropped() {
        let s = state(JOIN_INTEREST | COMPLETE | JOIN_WAKER, 2);
        s.transition_to_output_read();
        assert_eq!(word(&s), COMPLETE | JOIN_WAKER | (2 * REF_ONE));
        // Not the last reference: dropped in the same step.
        let t = s.transition_to_join_handle_dropped();
        assert_eq!(
            t,
            TransitionToJoinHandleDropped {
                drop_output: false,
                drop_waker: false,
                released: true
            }
        );
        assert_eq!(word(&s), COMPLETE | JOIN_WAKER | REF_ONE);
        // The last reference: left to the caller, who frees the task.
        let s = state(JOIN_INTEREST | COMPLETE, 1);
        s.transition_to_output_read();
        let t = s.transition_to_join_handle_dropped();
        assert_eq!(
            t,
            TransitionToJoinHandleDropped {
                drop_output: false,
                drop_waker: false,
                released: false
            }
        );
        assert_eq!(word(&s), COMPLETE | REF_ONE);
    }

    #[test]
    fn join_waker_transitions_fail_once_complete() {
        let s = state(JOIN_INTEREST, 1);
        assert!(s.transition_to_join_waker_set().is_ok());
        assert!(s.transition_to_join_waker_unset().is_ok());
        let s = state(JOIN_INTEREST | COMPLETE, 1);
        assert!(s.transition_to_join_waker_set().is_err());
        let s = state(JOIN_INTEREST | JOIN_WAKER | COMPLETE, 1);
        assert!(s.transition_to_join_waker_unset().is_err());
    }

    #[test]
    fn complete_and_terminal_free_on_last_reference() {
        let s = state(RUNNING | JOIN_INTEREST, 2);
        let snap = s.transition_to_complete();
        assert!(snap.is_complete() && !snap.is_running());
        assert!(!s.transition_to_terminal(1));
        assert!(s.transition_to_terminal(1));
    }
}
