//! Summary: the typed code behind a task's vtable: poll, complete, cancel,
//! read the output, drop the JoinHandle, shut down, free.
//!
//! Role: [`new_raw`] allocates a task with the vtable built here for its
//! future and scheduler (`spawn.rs` calls it); everything else is reached
//! only through that `raw::Vtable`, from the scheduler (`Notified::run`,
//! `Task::shutdown`), from wakers and from `JoinHandle`.
//!
//! Design: each path is a short sequence of named steps around one state
//! transition: the transition decides who owns what (INV-1..3), the steps
//! touch only what the caller now owns. User code (the future's `poll` and
//! `drop`, the output's `drop`, the join waker) runs under `catch_unwind`, so
//! a panic can never unwind out of the middle of a transition and leave the
//! state word torn; a panic in `poll` becomes `JoinError::Panic`.
//!
//! Invariants: relies on INV-1..5 (`state.rs`) and INV-6..11 (`raw.rs`);
//! owns none. The stage is a union without a tag (INV-11): each access
//! below names the member it touches and why that member is the live one.
//!
//! Concurrency: see `state.rs`; every access to `stage` and `join_waker`
//! below cites the invariant that grants it.

use super::blocks;
use super::error::JoinError;
use super::id::{CurrentTaskGuard, Id};
use super::meta::Site;
use super::raw::{Cell, Header, RawTask, Vtable};
use super::schedule::{Notified, Schedule, Task};
use super::state::{TransitionToIdle, TransitionToRunning};
use std::alloc::Layout;
use std::any::Any;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

/// Typed access to one task's block.
struct Harness<F: Future, S> {
    cell: NonNull<Cell<F, S>>,
}

impl<F, S> Harness<F, S>
where
    F: Future + 'static,
    S: Schedule,
{
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>` (INV-6) on which the
    /// caller owns a reference.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: INV-6: `from_raw`'s caller owns a reference, so the block is
        // live; its UnsafeCells are only touched through `with`/`with_mut`.
        unsafe { self.cell.as_ref() }
    }

    fn raw(&self) -> RawTask {
        RawTask::from_header(self.cell.cast())
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    // ---- poll --------------------------------------------------------------

    /// Runs the task once, consuming the `Notified` reference.
    fn poll(self) {
        match self.header().state.transition_to_running() {
            TransitionToRunning::Success => {
                if self.poll_future().is_ready() {
                    return self.complete();
                }
                match self.header().state.transition_to_idle() {
                    TransitionToIdle::Ok => {}
                    TransitionToIdle::OkNotified => {
                        // The runner's reference becomes the queue's (state.rs).
                        self.cell()
                            .scheduler
                            .yield_now(Notified::from_raw_task(self.raw()));
                    }
                    TransitionToIdle::OkDealloc => self.raw().dealloc(),
                    TransitionToIdle::Cancelled => {
                        self.cancel_future();
                        self.complete();
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                self.cancel_future();
                self.complete();
            }
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.raw().dealloc(),
        }
    }

    /// Polls the future once; on `Ready` the output (or the panic) is
    /// stored and the future dropped. Requires RUNNING (INV-1).
    fn poll_future(&self) -> Poll<()> {
        let header = self.header();
        // Relaxed: only the runner writes the count (INV-1); dumps read it
        // approximately (the field's doc in raw.rs).
        let polls = header.polls.load(Ordering::Relaxed);
        header
            .polls
            .store(polls.saturating_add(1), Ordering::Relaxed);
        let raw = self.raw();
        let waker = raw.waker_ref();
        let mut cx = Context::from_waker(&waker);
        let _current = CurrentTaskGuard::enter(header.id);
        // The poll is the task span's time entered (`trace/mod.rs`).
        let _entered = header.site.span().map(|span| span.enter());
        let polled = catch_unwind(AssertUnwindSafe(|| {
            self.cell().stage.with_mut(|stage| {
                // SAFETY: INV-1: we set RUNNING, so the stage is ours; INV-11:
                // a runner that has not dropped the future finds it there.
                let future: &mut F = unsafe { &mut (*stage).future };
                // Every task poll, whatever runs it, gets a fresh cooperative
                // budget: the leaf futures it awaits yield once it is spent.
                weft_coop::with_budget(|| {
                    // SAFETY: INV-9: the future never moves until the stage is
                    // overwritten in place, so pinning this borrow is sound.
                    unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
                })
            })
        }));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => match self.drop_future() {
                Ok(()) => Ok(output),
                Err(payload) => Err(JoinError::panic(header.id, payload)),
            },
            Err(payload) => {
                self.cell()
                    .scheduler
                    .unhandled_panic(header.meta(), &*payload);
                // A second panic from the future's destructor is dropped: the
                // first one is the one the user needs to see.
                let _ = self.drop_future();
                Err(JoinError::panic(header.id, payload))
            }
        };
        self.store_output(result);
        Poll::Ready(())
    }

    /// Drops the future instead of polling it (abort or shutdown), storing
    /// `JoinError::Cancelled`. Requires RUNNING (INV-1).
    fn cancel_future(&self) {
        let id = self.header().id;
        let result = match self.drop_future() {
            Ok(()) => Err(JoinError::cancelled(id)),
            Err(payload) => Err(JoinError::panic(id, payload)),
        };
        self.store_output(result);
    }

    /// Drops the future where it lies (INV-9), catching a panicking
    /// destructor; either way the future is gone and the stage holds
    /// nothing until `store_output`. Requires RUNNING (INV-1) with the
    /// future not yet dropped, and is called once per task (INV-11).
    fn drop_future(&self) -> Result<(), Box<dyn Any + Send>> {
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: INV-1: the caller holds RUNNING, so the stage is ours;
            // INV-11: the future is live until this one drop.
            self.cell()
                .stage
                .with_mut(|stage| unsafe { ManuallyDrop::drop(&mut (*stage).future) });
        }))
    }

    /// Drops the output, catching a panicking destructor. The caller is
    /// the one party INV-11 lets consume it: the task in `complete` with
    /// JOIN_INTEREST clear at COMPLETE, or the JoinHandle's drop with the
    /// output not yet read (INV-2).
    fn drop_output(&self) -> Result<(), Box<dyn Any + Send>> {
        catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: INV-2: the caller owns the output; INV-11: it is live
            // and nobody else consumes it.
            self.cell()
                .stage
                .with_mut(|stage| unsafe { ManuallyDrop::drop(&mut (*stage).output) });
        }))
    }

    /// Stores the output. Requires RUNNING (INV-1) with the future already
    /// dropped, so the write overwrites nothing live (INV-11).
    fn store_output(&self, result: Result<F::Output, JoinError>) {
        // SAFETY: INV-1: we hold RUNNING; INV-11: the future was dropped, so
        // no member is live and writing one drops nothing.
        self.cell()
            .stage
            .with_mut(|stage| unsafe { (*stage).output = ManuallyDrop::new(result) });
    }

    /// Running -> Complete, then hands the output over and drops the
    /// runner's reference (and the owned list's, if it gave it back).
    ///
    /// The task leaves the owned list, and its terminate hook (both in
    /// `Schedule::release`) and span close run, *before*
    /// `transition_to_complete` makes the output visible: a `JoinHandle`
    /// that has returned its output must never find its task still listed
    /// by `Handle::dump` or counted as alive.
    fn complete(&self) {
        let header = self.header();
        let task = ManuallyDrop::new(Task::from_raw(self.raw()));
        let released = self.cell().scheduler.release(&task);
        // The released Task's reference is dropped by the count below.
        let count = if let Some(released) = released {
            std::mem::forget(released);
            2
        } else {
            1
        };
        if let Some(span) = header.site.span() {
            span.close();
        }
        let snapshot = header.state.transition_to_complete();
        if !snapshot.is_join_interested() {
            // INV-2: nobody will read the output; it is ours to drop
            // (INV-11: the task's, as JOIN_INTEREST was clear at COMPLETE).
            let _ = self.drop_output();
        } else if snapshot.is_join_waker_set() {
            // INV-3: JOIN_WAKER was set when we completed, so the slot is ours
            // to read and the JoinHandle will not write it again. A panicking
            // waker must not unwind through the refcount steps below.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: INV-3 as above.
                self.cell()
                    .join_waker
                    .with(|waker| match unsafe { &*waker } {
                        Some(waker) => waker.wake_by_ref(),
                        None => unreachable!("JOIN_WAKER set with an empty slot (INV-3)"),
                    })
            }));
        }
        if self.header().state.transition_to_terminal(count) {
            self.raw().dealloc();
        }
    }

    // ---- join --------------------------------------------------------------

    /// True if the output can be read now; otherwise `waker` is registered.
    /// Panics if the output was read already.
    fn can_read_output(&self, waker: &Waker) -> bool {
        let snapshot = self.header().state.load();
        if snapshot.is_complete() {
            // INV-11: only this JoinHandle clears JOIN_INTEREST while it is
            // alive, and only once it has moved the output out.
            assert!(
                snapshot.is_join_interested(),
                "JoinHandle polled after it returned Ready; poll it to completion only once"
            );
            return true;
        }
        let registered = if !snapshot.is_join_waker_set() {
            self.set_join_waker(waker.clone())
        } else {
            let same = self.cell().join_waker.with(|slot| {
                // SAFETY: INV-3: JOIN_WAKER is set, so nobody writes the slot;
                // the task may read it concurrently, a shared read like ours.
                unsafe { &*slot }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(waker))
            });
            if same {
                return false;
            }
            self.header()
                .state
                .transition_to_join_waker_unset()
                .and_then(|_| self.set_join_waker(waker.clone()))
        };
        match registered {
            Ok(_) => false,
            Err(snapshot) => {
                debug_assert!(snapshot.is_complete());
                true
            }
        }
    }

    /// Writes the join waker and hands the slot to the task (INV-3).
    fn set_join_waker(
        &self,
        waker: Waker,
    ) -> Result<super::state::Snapshot, super::state::Snapshot> {
        // SAFETY: INV-3: JOIN_WAKER is clear and we are the JoinHandle.
        self.cell()
            .join_waker
            .with_mut(|slot| unsafe { *slot = Some(waker) });
        let result = self.header().state.transition_to_join_waker_set();
        if result.is_err() {
            // SAFETY: INV-3: the task completed without JOIN_WAKER, so it will
            // never read the slot; it is still ours.
            self.cell()
                .join_waker
                .with_mut(|slot| unsafe { *slot = None });
        }
        result
    }

    /// Moves the output into `dst` if complete.
    ///
    /// # Safety
    /// `dst` points to a `Poll<Result<F::Output, JoinError>>` (INV-7).
    unsafe fn try_read_output(self, dst: *mut Poll<Result<F::Output, JoinError>>, waker: &Waker) {
        if !self.can_read_output(waker) {
            return;
        }
        let output = self.cell().stage.with_mut(|stage| {
            // SAFETY: INV-2: complete with JOIN_INTEREST set (we are the
            // JoinHandle), so the output is ours; INV-11: not read yet
            // (`can_read_output` checked JOIN_INTEREST), so it is live, and
            // we move it out once: clearing JOIN_INTEREST right after
            // records that it is gone.
            unsafe { ManuallyDrop::take(&mut (*stage).output) }
        });
        self.header().state.transition_to_output_read();
        // SAFETY: INV-7: `dst` comes from the `JoinRaw<F::Output>` made for
        // this task, so it is a valid `Poll<Result<F::Output, JoinError>>`.
        unsafe { *dst = Poll::Ready(output) };
    }

    /// The JoinHandle goes away: drop what the transition hands back, then
    /// its reference.
    fn drop_join_handle(self) {
        let dropped = self.header().state.transition_to_join_handle_dropped();
        if dropped.released {
            // INV-3: nothing was ours to clean, and the reference is gone.
            return;
        }
        if dropped.drop_output {
            // INV-2: complete while we were interested: the output is ours;
            // INV-11: JOIN_INTEREST was still set, so we had not read it.
            let _ = self.drop_output();
        }
        if dropped.drop_waker {
            // SAFETY: INV-3: JOIN_WAKER is clear (or was never read), so the
            // slot is the JoinHandle's.
            self.cell()
                .join_waker
                .with_mut(|slot| unsafe { *slot = None });
        }
        self.raw().drop_reference();
    }

    // ---- shutdown ----------------------------------------------------------

    /// Cancels the task if nobody is running it; consumes a reference.
    fn shutdown(self) {
        if self.header().state.transition_to_shutdown() {
            self.cancel_future();
            self.complete();
        } else {
            self.raw().drop_reference();
        }
    }
}

/// The vtable for `Cell<F, S>`; promoted to a `'static` constant.
fn vtable<F, S>() -> &'static Vtable
where
    F: Future + 'static,
    S: Schedule,
{
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

/// Allocates a task for `future` on `scheduler` with this file's vtable
/// for them (so INV-6 holds from the start). A future that is not `Send`
/// makes a local task (INV-10): only `task::new_local_task` passes one.
pub(super) fn new_raw<F, S>(future: F, scheduler: S, id: Id, site: Site, spawned: u64) -> RawTask
where
    F: Future + 'static,
    S: Schedule,
{
    RawTask::new(future, scheduler, vtable::<F, S>(), id, site, spawned)
}

/// Vtable entry: see [`Harness::poll`].
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` (INV-6); consumes the caller's reference.
pub(super) unsafe fn poll<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: INV-6: this function's contract is `from_raw`'s (a live
    // `Cell<F, S>` on which the caller owns a reference).
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

/// Vtable entry: submits the task to its scheduler.
///
/// # Safety
/// As [`poll`]; hands one reference to the queue.
pub(super) unsafe fn schedule<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: INV-6: this function's contract is `from_raw`'s (a live
    // `Cell<F, S>` on which the caller owns a reference).
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    harness
        .cell()
        .scheduler
        .schedule(Notified::from_raw_task(harness.raw()));
}

/// Vtable entry: frees the block.
///
/// # Safety
/// `ptr` is a live `Cell<F, S>` whose reference count reached zero (INV-4).
pub(super) unsafe fn dealloc<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    let cell = ptr.cast::<Cell<F, S>>();
    // SAFETY: INV-4: no reference is left, so nothing else reaches the
    // block, and its header is live until the free below.
    let complete = unsafe { ptr.as_ref() }.state.load().is_complete();
    if !complete {
        // INV-11: never completed, so the future is still in the stage (no
        // runner holds it: a runner holds a reference).
        // SAFETY: INV-4 as above; INV-11: the future is the live member,
        // dropped here once.
        unsafe {
            (*cell.as_ptr())
                .stage
                .with_mut(|stage| ManuallyDrop::drop(&mut (*stage).future))
        };
    }
    // INV-11: a complete task's output was consumed before the last
    // reference went, so the stage holds nothing and has no drop glue.
    // SAFETY: INV-4: no reference is left, so nothing else reaches the
    // block; INV-6: it holds a `Cell<F, S>`, written once by `RawTask::new`
    // (INV-9) and dropped here once.
    unsafe { std::ptr::drop_in_place(cell.as_ptr()) };
    // SAFETY: INV-9: the block came from `blocks::alloc` for
    // `Layout::new::<Cell<F, S>>()` in `RawTask::new`; INV-4: this is its
    // only free.
    unsafe { blocks::free(cell.cast(), Layout::new::<Cell<F, S>>()) };
}

/// Vtable entry: see [`Harness::try_read_output`].
///
/// # Safety
/// As [`poll`], but borrowing the JoinHandle's reference; `dst` points to a
/// `Poll<Result<F::Output, JoinError>>` (INV-7).
pub(super) unsafe fn try_read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: INV-6 and INV-7: this function's contract is `from_raw`'s (a
    // live `Cell<F, S>` on which the caller owns a reference) and
    // `Harness::try_read_output`'s (`dst` of the output's type).
    unsafe { Harness::<F, S>::from_raw(ptr).try_read_output(dst.cast(), waker) }
}

/// Vtable entry: see [`Harness::drop_join_handle`].
///
/// # Safety
/// As [`poll`]; consumes the JoinHandle's reference.
pub(super) unsafe fn drop_join_handle<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: INV-6: this function's contract is `from_raw`'s (a live
    // `Cell<F, S>` on which the caller owns a reference).
    unsafe { Harness::<F, S>::from_raw(ptr) }.drop_join_handle();
}

/// Vtable entry: see [`Harness::shutdown`].
///
/// # Safety
/// As [`poll`]; consumes one reference.
pub(super) unsafe fn shutdown<F, S>(ptr: NonNull<Header>)
where
    F: Future + 'static,
    S: Schedule,
{
    // SAFETY: INV-6: this function's contract is `from_raw`'s (a live
    // `Cell<F, S>` on which the caller owns a reference).
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown();
}
