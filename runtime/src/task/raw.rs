//! Summary: the task's single heap block (`Header` + scheduler + stage + join
//! waker), the type-erased pointer to it (`RawTask`), its vtable, and the
//! waker that is the task pointer itself.
//!
//! Role: `task::spawn` creates tasks through `harness::new_raw`, which
//! builds the vtable and calls [`RawTask::new`]; the owning handles
//! (`Task`, `Notified`, `JoinHandle`, `AbortHandle`, `Waker`) each hold a
//! `RawTask` plus one reference, and call through the vtable into
//! `task::harness`, which holds the typed code. This file does not know
//! the harness: the vtable is a table of function pointers the harness
//! fills in, so the arrow points one way (harness uses raw).
//!
//! Design: one allocation per task, exactly `Cell<F, S>` (rounded up to
//! the allocator's 16 bytes), taken from this thread's cache of freed
//! blocks when it has one (`blocks.rs`), laid out `#[repr(C)]` with the header
//! first, so a `NonNull<Header>` is both the erased handle and, cast back
//! with the right types, a pointer to the whole `Cell<F, S>`. The vtable
//! (built once per `F`/`S` pair, in static memory) is how erased handles
//! reach the typed code. An `Arc<dyn ...>` per task was rejected: it cannot
//! put the refcount inside the state word (see `state.rs`), and would need a
//! second allocation or a fat pointer per queue entry. The waker's data
//! pointer is the header pointer, so cloning a waker is one atomic increment
//! and waking never allocates.
//!
//! Invariants (continuing the task numbering of `state.rs`):
//!
//! - INV-6: A `RawTask` points to a live `Cell<F, S>` whose `header` is its
//!   first field and whose `header.vtable` was built for that same `F` and
//!   `S`, for as long as the code using it owns a reference (INV-4).
//! - INV-7: A [`JoinRaw<T>`] is only made by `task::new_task_at` or
//!   `task::new_local_task` for a task whose `F::Output` is `T`.
//! - INV-8: A `Waker` built on [`WAKER_VTABLE`] has a task header pointer
//!   as its data and owns one reference, except the [`WakerRef`] lent to a
//!   poll, which borrows the runner's reference and is never dropped.
//! - INV-9: The future in the stage never moves. The `Cell` is
//!   allocated once (from `blocks.rs`, in `RawTask::new`) and freed only
//!   by `dealloc`, and the future is dropped where it lies, never moved
//!   out. A `&mut F` borrowed from the stage may therefore be pinned.
//! - INV-10: A task whose future or output is not `Send` (a *local* task,
//!   made only by `task::new_local_task`) has its future polled, cancelled
//!   and dropped, and its unread output dropped by `complete`, only on the
//!   thread that spawned it: its scheduler runs it nowhere else (a
//!   `LocalRuntime`'s core is driven only by its owner thread). Other
//!   threads touch only its header (the state word: wake, abort, reference
//!   counts) and move its pointer through the scheduler's thread-safe
//!   queues; its `JoinHandle` crosses threads only when the output is `Send`.
//! - INV-11: The stage has no tag of its own (a [`Stage`] is a union);
//!   which member is live follows from the state word (`state.rs`) and
//!   from who is asking. From `RawTask::new` until the runner drops it
//!   (`harness.rs`: a `Ready` or panicking poll, or a cancel), the stage
//!   holds the future; the runner then writes the output before it sets
//!   COMPLETE and holds its reference until the output has been handed
//!   over. Once COMPLETE, the output is live until exactly one party
//!   consumes it: the task itself in `complete` if JOIN_INTEREST was clear
//!   when COMPLETE was set, else the JoinHandle, by moving it out (and
//!   then clearing JOIN_INTEREST, `transition_to_output_read`) or by
//!   dropping it on its own drop. So a runner (INV-1) finds the future; a
//!   JoinHandle that finds COMPLETE with JOIN_INTEREST still set finds the
//!   output, and with it clear has already taken it; and `dealloc` (no
//!   reference left, so no runner and no JoinHandle) finds the future if
//!   COMPLETE is clear and nothing if it is set.
//!
//! Concurrency: the header's immutable fields are written before the task
//! is published and only read afterwards; `state` is the atomic of
//! `state.rs`; `owned_key` and `polls` are side channels described on their
//! fields. The stage and join waker are `UnsafeCell`s guarded by INV-1..3 (the
//! future's address by INV-9, the stage's live member by INV-11).
//!
//! References: tokio `runtime/task/{core,raw}.rs`; async-task `raw.rs`.

use super::blocks;
use super::error::JoinError;
use super::id::Id;
use super::meta::{Site, TaskMeta};
use super::state::State;
use crate::loom::UnsafeCell;
use crate::trace::WakerOp;
use std::alloc::Layout;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

/// The first, type-independent part of every task (48 bytes on 64-bit
/// targets: every idle task pays for the header). The two 32-bit counters
/// share one word, and the spawn time is an 8-byte stamp from a coarse
/// clock (`stamp.rs`) instead of a 16-byte `Instant`.
#[repr(C)]
pub(crate) struct Header {
    /// The state word (`state.rs`).
    pub(crate) state: State,
    /// The functions for this task's concrete `F` and `S` (INV-6).
    pub(super) vtable: &'static Vtable,
    /// The task's identity, for `task::id()`, dumps and errors.
    pub(crate) id: Id,
    /// Where `spawn` was called (it is `#[track_caller]`), and the task's
    /// name and other extras when it has any (`meta.rs`, TAG-1): one word.
    pub(crate) site: Site,
    /// When the task was spawned (`stamp.rs`, STAMP-1).
    pub(crate) spawned: u64,
    /// The task's key in the owned-tasks list. Relaxed: it is only written
    /// and read while holding that list's mutex, which orders it.
    pub(crate) owned_key: AtomicU32,
    /// How many times the future was polled, saturating at `u32::MAX`.
    /// Relaxed: only the runner (INV-1) writes it; dumps read an
    /// approximate value.
    pub(crate) polls: AtomicU32,
}

impl Header {
    /// The view of this task that hooks and panic reports are given.
    pub(crate) fn meta(&self) -> TaskMeta<'_> {
        TaskMeta::new(self.id, self.site.name(), self.site.spawned_at())
    }

    /// How long ago the task was spawned, on its runtime's `clock`.
    pub(crate) fn age(&self, clock: &super::stamp::SpawnClock) -> Duration {
        clock.age_since(self.spawned)
    }
}

/// What a task is running: its future, then its output, then nothing.
///
/// A union, not an enum: an enum's tag took 8 bytes beside the future
/// (the future's alignment), and those 8 bytes moved every task block up one
/// 16-byte malloc size class. Which member is live is INV-11's to say; a
/// member is only read, dropped or overwritten by its owner (INV-1, INV-2).
pub(super) union Stage<F: Future> {
    /// The future, not yet complete (owned per INV-1).
    pub(super) future: ManuallyDrop<F>,
    /// The output, waiting for the JoinHandle (owned per INV-2).
    pub(super) output: ManuallyDrop<Result<F::Output, JoinError>>,
}

impl<F: Future> Stage<F> {
    /// The stage of a new task: its future (INV-11).
    fn running(future: F) -> Stage<F> {
        Stage {
            future: ManuallyDrop::new(future),
        }
    }
}

/// The whole heap block of one task.
#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    /// First, so that a `NonNull<Header>` is a `NonNull<Cell>` (INV-6).
    pub(super) header: Header,
    /// The scheduler the task submits itself to when woken.
    pub(super) scheduler: S,
    /// # Invariant
    /// Touched only by the owner named in INV-1 and INV-2; which member is
    /// live is INV-11's.
    pub(super) stage: UnsafeCell<Stage<F>>,
    /// # Invariant
    /// Touched only by the owner named in INV-3.
    pub(super) join_waker: UnsafeCell<Option<Waker>>,
}

/// The typed operations of a task, reached from erased handles.
pub(super) struct Vtable {
    /// Runs the task, consuming a `Notified` reference.
    pub(super) poll: unsafe fn(NonNull<Header>),
    /// Submits the task to its scheduler, handing over one reference.
    pub(super) schedule: unsafe fn(NonNull<Header>),
    /// Frees the block.
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output to `dst` (a `*mut Poll<Result<F::Output, JoinError>>`)
    /// if complete, else registers the waker.
    pub(super) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The JoinHandle's drop, consuming its reference.
    pub(super) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Cancels the task at runtime shutdown, consuming a reference.
    pub(super) shutdown: unsafe fn(NonNull<Header>),
}

/// An erased, non-owning pointer to a task. The handle that holds it owns
/// the reference (INV-6).
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a RawTask is a pointer to a block whose shared parts are atomics
// and whose cells are guarded by INV-1..3; the future and output it may
// carry to another thread are `Send` (required by `task::new_task`), or
// are never touched off their owner thread (INV-10, local tasks); the
// scheduler is `Send + Sync` (required by `Schedule`).
unsafe impl Send for RawTask {}
// SAFETY: as for Send: all shared access goes through the state word.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task with the initial state (three references: see
    /// `state.rs`). `vtable` must be the one built for this `F` and `S`
    /// (INV-6): only `harness::new_raw` calls this, with its own. A future
    /// that is not `Send` makes a local task (INV-10): only
    /// `task::new_local_task` passes one.
    pub(super) fn new<F: Future, S>(
        future: F,
        scheduler: S,
        vtable: &'static Vtable,
        id: Id,
        site: Site,
        spawned: u64,
    ) -> RawTask {
        let cell = Cell {
            header: Header {
                state: State::new(),
                vtable,
                id,
                site,
                spawned,
                owned_key: AtomicU32::new(u32::MAX),
                polls: AtomicU32::new(0),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::running(future)),
            join_waker: UnsafeCell::new(None),
        };
        let block = blocks::alloc(Layout::new::<Cell<F, S>>()).cast::<Cell<F, S>>();
        // SAFETY: INV-9: `blocks::alloc` returned a block with at least the
        // size and alignment of `Cell<F, S>` (BLOCK-2), unused; the cell is
        // written once, here, and never moved out of it.
        unsafe { block.as_ptr().write(cell) };
        RawTask {
            ptr: block.cast::<Header>(),
        }
    }

    /// The header. The caller holds a reference (INV-6).
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: INV-6: the block is live while the caller owns a reference,
        // and the header is only read through shared references.
        unsafe { self.ptr.as_ref() }
    }

    /// Rebuilds a `RawTask` from a header pointer the harness was given.
    pub(super) fn from_header(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    /// Polls the task, consuming one `Notified` reference.
    pub(super) fn poll(self) {
        // SAFETY: INV-6: the vtable matches the block; the caller hands over
        // its Notified reference, which `poll` consumes.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Submits the task to its scheduler, handing over one reference.
    pub(super) fn schedule(self) {
        // SAFETY: INV-6; the caller hands over one reference.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Cancels the task for shutdown, consuming one reference.
    pub(super) fn shutdown(self) {
        // SAFETY: INV-6; the caller hands over one reference.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Drops the JoinHandle's interest and its reference.
    pub(super) fn drop_join_handle(self) {
        // SAFETY: INV-6; called once, from `JoinHandle::drop`, with its reference.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    /// Adds a reference (INV-4).
    pub(super) fn ref_inc(self) {
        self.header().state.ref_inc();
    }

    /// Drops one reference, freeing the task if it was the last (INV-4).
    pub(super) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// Frees the block. The caller took the count to zero (INV-4).
    pub(super) fn dealloc(self) {
        // SAFETY: INV-4: no reference is left, so nothing else can reach the
        // block; INV-6: the vtable matches it.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// Wakes the task, consuming the waker's reference.
    fn wake_by_val(self) {
        use super::state::TransitionToNotifiedByVal::*;
        match self.header().state.transition_to_notified_by_val() {
            Submit => self.schedule(),
            Dealloc => self.dealloc(),
            DoNothing => {}
        }
    }

    /// Wakes the task, keeping the waker's reference.
    fn wake_by_ref(self) {
        use super::state::TransitionToNotifiedByRef::*;
        match self.header().state.transition_to_notified_by_ref() {
            Submit => self.schedule(),
            DoNothing => {}
        }
    }

    /// Reports a waker operation to the task's tracing span; nothing unless
    /// the `tracing` feature is built in (`trace/mod.rs`).
    #[inline]
    fn trace(self, op: WakerOp) {
        if let Some(span) = self.header().site.span() {
            span.waker(op);
        }
    }

    /// A waker that borrows the caller's reference, for the duration of a poll.
    pub(super) fn waker_ref(&self) -> WakerRef<'_> {
        let raw = RawWaker::new(self.ptr.as_ptr() as *const (), &WAKER_VTABLE);
        // SAFETY: INV-8: the data is this task's header pointer and the
        // vtable is WAKER_VTABLE; ManuallyDrop keeps it from dropping the
        // reference it borrows.
        let waker = unsafe { Waker::from_raw(raw) };
        WakerRef {
            waker: ManuallyDrop::new(waker),
            _task: PhantomData,
        }
    }
}

/// A `Waker` lent to `poll`, tied to the runner's reference (INV-8).
pub(super) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a RawTask>,
}

impl std::ops::Deref for WakerRef<'_> {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// The JoinHandle's typed access to the output (INV-7).
pub(super) struct JoinRaw<T> {
    raw: RawTask,
    /// Not `Send`/`Sync` by itself: the impls below add them when `T: Send`.
    _output: PhantomData<*const T>,
}

// SAFETY: the JoinHandle moves the output to its own thread (or drops it
// there), which is sound when `T: Send`; everything else it does goes
// through the state word. A local task's output that is not `Send` thus
// keeps its JoinHandle on the owner thread (INV-10).
unsafe impl<T: Send> Send for JoinRaw<T> {}
// SAFETY: through `&JoinHandle` only the state word is reached (abort,
// is_finished, id); the output is only touched through `&mut`, so
// sharing needs nothing of `T` beyond what `Send` above requires.
unsafe impl<T: Send> Sync for JoinRaw<T> {}

impl<T> JoinRaw<T> {
    //! - INV-7: A [`JoinRaw<T>`] is only made by `task::new_task_at` or
    //!   `task::new_local_task` for a task whose `F::Output` is `T`.
    pub(super) fn new(raw: RawTask) -> JoinRaw<T> {
        JoinRaw {
            raw,
            _output: PhantomData,
        }
    }

    /// The erased task.
    pub(super) fn raw(&self) -> RawTask {
        self.raw
    }

    /// The output if the task is complete, else registers `waker` for it.
    pub(super) fn poll_output(&self, waker: &Waker) -> Poll<Result<T, JoinError>> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: INV-7: the task's output type is T, so `out` has the type
        // `try_read_output` writes; INV-6 for the vtable; the JoinHandle
        // holds a reference for the call.
        unsafe {
            (self.raw.header().vtable.try_read_output)(
                self.raw.ptr,
                &mut out as *mut _ as *mut (),
                waker,
            );
        }
        out
    }
}

/// The waker functions: the data pointer is a task header (INV-8).
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// # Safety
/// `ptr` is the data of a waker built on `WAKER_VTABLE` (INV-8).
unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    let task = task_of(ptr);
    task.trace(WakerOp::Clone);
    task.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

/// # Safety
/// As [`clone_waker`]; consumes the waker's reference.
unsafe fn wake_by_val(ptr: *const ()) {
    let task = task_of(ptr);
    // Before the wake: it may hand the waker's reference to a queue.
    task.trace(WakerOp::Wake);
    task.wake_by_val();
}

/// # Safety
/// As [`clone_waker`].
unsafe fn wake_by_ref(ptr: *const ()) {
    let task = task_of(ptr);
    task.trace(WakerOp::WakeByRef);
    task.wake_by_ref();
}

/// # Safety
/// As [`clone_waker`]; consumes the waker's reference.
unsafe fn drop_waker(ptr: *const ()) {
    let task = task_of(ptr);
    // Before the drop: it may free the task.
    task.trace(WakerOp::Drop);
    task.drop_reference();
}

/// The task behind a waker's data pointer (INV-8: never null).
fn task_of(ptr: *const ()) -> RawTask {
    let ptr =
        NonNull::new(ptr as *mut Header).expect("a task waker's data is a non-null task pointer");
    RawTask { ptr }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Cell, Header, Stage};
    use std::future::Future;
    use std::mem::size_of;

    /// The block of a task running `F`, with a pointer-sized scheduler
    /// reference (the runtime's is an `Arc`).
    fn block_size<F: Future>(_: &F) -> usize {
        size_of::<Cell<F, std::sync::Arc<u8>>>()
    }

    /// The header's budget: 48 bytes, memory every idle task pays.
    #[test]
    fn header_fits_in_48_bytes() {
        assert!(
            size_of::<Header>() <= 48,
            "Header is {} bytes",
            size_of::<Header>()
        );
    }

    /// A no-op task's whole block stays well under tokio's 256 bytes.
    #[test]
    fn noop_task_block_is_at_most_128_bytes() {
        let size = block_size(&async {});
        assert!(size <= 128, "a no-op task takes {size} bytes");
        println!(
            "no-op task block: {size} bytes, header: {} bytes",
            size_of::<Header>()
        );
    }

    /// The stage adds nothing to the future (INV-11: no tag): a task
    /// block is the header, the scheduler, the future and the join waker,
    /// nothing more. With a 64-byte future (a parked task in
    /// `benches/wait_memory.rs`) that is 136 bytes, which glibc serves from
    /// a 144-byte chunk; with an 8-byte tag it was 144, a 160-byte chunk.
    #[test]
    fn the_stage_adds_no_tag_to_the_future() {
        let future = async {
            let held = [0u64; 7];
            std::future::pending::<()>().await;
            std::hint::black_box(held);
        };
        fn stage_size<F: Future>(_: &F) -> usize {
            size_of::<Stage<F>>()
        }
        assert_eq!(std::mem::size_of_val(&future), 64);
        assert_eq!(stage_size(&future), 64);
        assert_eq!(block_size(&future), 48 + 8 + 64 + 16);
        // A future smaller than the output leaves the output's size.
        assert_eq!(
            size_of::<Stage<std::future::Pending<()>>>(),
            size_of::<Result<(), super::JoinError>>()
        );
    }
}
