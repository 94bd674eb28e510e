//! The ready list: which children of a combinator were woken since its last poll.
//!
//! # Summary
//! Every child of `gather`, `try_gather`, `race` and `TaskGroup` is polled
//! with its own waker, a `ChildWaker` that knows the child's index. Waking
//! it appends the index to a shared queue (once, however often it is woken)
//! and wakes the parent task. When the parent is polled it drains the queue
//! and polls exactly those children, plus any slot never polled yet.
//!
//! # Role
//! Called in by: `children.rs` (a fixed set of pinned futures) and
//! weft-runtime's `task_group.rs` (a growing set of join handles), through
//! [`ReadyList::poll_woken`]. Calls out to: the parent's `Waker` only.
//! Public for that second caller: `TaskGroup` spawns, so it lives in the
//! runtime, and it joins its handles with this list rather than a copy of
//! it. Any combinator over a set of futures may use it the same way.
//!
//! # Design
//! This is the `FuturesUnordered` technique written in safe code: the child
//! waker is an `Arc<ChildWaker>` turned into a `Waker` through
//! [`std::task::Wake`], and the queue is a `Vec<usize>` behind a mutex instead
//! of an intrusive atomic list.
//!
//! Wakers are made lazily. A new slot costs nothing: it is ready because it
//! was never polled (INV-6), not because its index sits in the queue. A
//! waker is made for a slot when it is first polled, and kept only while its
//! child may still wake; when a child finishes and nobody cloned its waker,
//! the waker is recycled as the spare for the next slot (INV-7). So
//! `gather` over N futures that finish on their first poll allocates one
//! waker, not N, and takes the queue's lock once, not N times
//! (`gather_ready` in `benches/compare` went from 16 ms to under 4 ms for
//! 100k futures).
//!
//! Rejected alternatives:
//! - handing every child the parent's waker and polling all of them on each
//!   wake (what a naive `join_all` does): with N children that wake one at a
//!   time that is N polls per wake, O(N²) in all;
//! - an intrusive lock-free list: faster under heavy contention, but it needs
//!   `unsafe` outside the modules STYLE §4 allows, and the mutex here is held
//!   for a push or a swap only.
//!
//! # Invariants
//! - INV-1: a child waker's index is in the queue at most once per waker: it
//!   is pushed only by the wake that flips the waker's `queued` flag from
//!   false to true, and the flag is cleared only by [`ReadyList::poll_woken`]
//!   after the index left the queue (or by recycling, INV-7). So the queue
//!   never holds more entries than there are live child wakers. (A slot that
//!   got a new child and a new waker may briefly be queued twice, once by a
//!   stale waker of its old child; that costs one spurious poll, which every
//!   future must tolerate.)
//! - INV-2: the parent registers its waker (`ReadyList::register`) *before*
//!   it drains the queue (both in [`ReadyList::poll_woken`]). A wake that lands after
//!   the drain therefore finds the new waker, and no wake is lost.
//! - INV-3: a child's flag is cleared *before* the child is polled, so a wake
//!   that happens during the poll queues the child again.
//! - INV-4: indices drained from the queue but not yet polled stay in
//!   `batch[cursor..]` (their flags still set) until a later poll takes
//!   them, so stopping early never loses a wake.
//! - INV-5: every parent poll that does not stop early drains the queue once.
//!   An index queued while the parent was not draining woke the parent, and
//!   that wake-up may be the very poll now running; if it only worked
//!   through leftovers, the index would wait for a wake-up that never comes.
//! - INV-6: slots `fresh..len` have never been polled and count as ready
//!   without being queued; `poll_woken` polls them, in slot order, after the
//!   leftovers and before the drain, so a never-polled slot is not starved by
//!   children that keep waking themselves.
//! - INV-7: a child waker changes index (is recycled) only while the list is
//!   its sole holder (`Arc::get_mut` succeeds): no clone exists through
//!   which a wake could still name the old index.
//!
//! # Concurrency
//! Child wakers run on any thread. `Shared::state` (queue and parent waker) is
//! only touched under its mutex; the parent waker is cloned out and woken
//! after the mutex is released, so a waker that re-enters another combinator
//! never runs under this lock. The `queued` flag is a plain deduplication
//! bit: the mutex orders the queue itself.
//!
//! # References
//! futures-util `FuturesUnordered` (ready-to-run queue with per-task wakers).

// The queue, its flags and the shared block come from loom under
// `--cfg loom`, so `tests::loom_*` explores this very code. The child waker
// itself stays a `std::sync::Arc`: `Waker::from` needs one.
#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex, MutexGuard,
};
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex, MutexGuard,
};
use std::task::{Context, Wake, Waker};

/// The queue of woken child indices and the waker of the task that owns them.
struct State {
    /// Indices woken since the parent last drained; each at most once (INV-1).
    queue: Vec<usize>,
    /// The parent task's waker, refreshed on every parent poll (INV-2).
    parent: Option<Waker>,
}

/// What the parent and all its child wakers share.
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Locks the state. A panic elsewhere cannot leave `State` half-updated
    /// (every critical section is a push, a swap or a clone), so a poisoned
    /// lock is still consistent and is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The waker handed to one child: waking it marks that child ready.
struct ChildWaker {
    /// Position of the child in its combinator's storage; changed only
    /// while the list is this waker's sole holder (INV-7).
    index: usize,
    /// True while `index` is in the queue (INV-1).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.mark_ready();
    }
}

impl ChildWaker {
    /// Queues this child unless it is queued already, then wakes the parent.
    fn mark_ready(&self) {
        // AcqRel: pairs with the Release store in `poll_woken`; the queue
        // itself is ordered by the mutex below.
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // INV-1: already in the queue
        }
        let parent = {
            let mut state = self.shared.lock();
            state.queue.push(self.index);
            state.parent.clone()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// What polling one child gave, as reported to [`ReadyList::poll_woken`].
pub enum Step<B> {
    /// The child is still running.
    Pending,
    /// The child finished and its output was taken; keep going.
    Finished,
    /// Stop polling now and hand `B` to the caller.
    Stop(B),
}

/// How many children may wake themselves during their own poll before the
/// parent stops and yields to its executor. One self-wake is a child doing
/// `yield_now`; repeated ones mean a cooperative budget (tokio-style) ran
/// out, and the children can only progress after the parent task yields.
/// Continuing would poll the whole batch for nothing, and repeating that on
/// every parent poll is quadratic. futures-util's `FuturesUnordered` uses
/// the same threshold.
const SELF_WAKE_LIMIT: usize = 2;

/// The per-combinator ready list: the child slots, the wakers of the
/// children that may still wake, the shared queue they push to, and the
/// batch being worked through.
///
/// The caller keeps the children (slot `i` is whatever it stores at index
/// `i`); the list says which slots to poll and hands out the waker to poll
/// each with. A set that grows and reuses slots, as a task group does:
///
/// ```
/// use std::future::{poll_fn, ready, Future, Ready};
/// use std::pin::Pin;
/// use weft_compose::ready::{ReadyList, Step};
///
/// let mut list = ReadyList::with_slots(0);
/// let mut slots: Vec<Option<Ready<u32>>> = Vec::new();
/// for n in [3, 4] {
///     slots.push(Some(ready(n)));
///     assert_eq!(list.push_slot(), slots.len() - 1);
/// }
/// let next = poll_fn(|cx| {
///     let first = list.poll_woken(cx, |index, waker| {
///         let Some(child) = slots[index].as_mut() else { return Step::Finished };
///         match Pin::new(child).poll(&mut std::task::Context::from_waker(waker)) {
///             std::task::Poll::Pending => Step::Pending,
///             std::task::Poll::Ready(value) => {
///                 slots[index] = None;
///                 Step::Stop(value)
///             }
///         }
///     });
///     first.map_or(std::task::Poll::Pending, std::task::Poll::Ready)
/// });
/// assert_eq!(smol::block_on(next), 3);
/// ```
pub struct ReadyList {
    shared: Arc<Shared>,
    /// Number of child slots.
    len: usize,
    /// INV-6: slots `fresh..len` have never been polled; each is ready.
    fresh: usize,
    /// `children[i]` is the waker of slot `i` if the slot's child may still
    /// wake (INV-7), both as the `Arc` (to reach its flag) and as the
    /// `Waker` handed to the child's `poll`. Grows only as far as the last
    /// slot that needs one.
    children: Vec<Option<(std::sync::Arc<ChildWaker>, Waker)>>,
    /// A child waker nobody else holds, kept for the next slot (INV-7).
    spare: Option<std::sync::Arc<ChildWaker>>,
    /// INV-4: indices drained from the queue; `batch[cursor..]` are still
    /// to be polled.
    batch: Vec<usize>,
    cursor: usize,
}

impl ReadyList {
    /// A ready list with `slots` child slots, all ready (INV-6).
    pub fn with_slots(slots: usize) -> ReadyList {
        ReadyList {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: Vec::new(),
                    parent: None,
                }),
            }),
            len: slots,
            fresh: 0,
            children: Vec::new(),
            spare: None,
            batch: Vec::new(),
            cursor: 0,
        }
    }

    /// Adds child slot number `len`, ready, so that its first poll happens
    /// on the parent's next poll (INV-6). Allocates nothing.
    pub fn push_slot(&mut self) -> usize {
        self.len += 1;
        self.len - 1
    }

    /// Marks slot `index` ready, as if its child had woken (used when a slot
    /// gets a new child).
    pub fn mark_ready(&mut self, index: usize) {
        if index >= self.fresh {
            return; // INV-6: never polled, so already ready
        }
        let (child, waker) = self.waker_for(index);
        child.mark_ready();
        self.store(index, child, waker);
    }

    /// Records the parent's waker; done before draining (INV-2).
    fn register(&self, parent: &Waker) {
        let mut state = self.shared.lock();
        match &state.parent {
            Some(old) if old.will_wake(parent) => {}
            _ => state.parent = Some(parent.clone()),
        }
    }

    /// Refills the batch with the queued indices, in the order they were
    /// woken. Swapping buffers keeps both allocations alive, so
    /// steady-state polling allocates nothing.
    fn drain(&mut self) {
        self.batch.clear();
        self.cursor = 0;
        std::mem::swap(&mut self.shared.lock().queue, &mut self.batch);
    }

    /// The waker of slot `index`: the one it has, else the spare, else a new
    /// one. The caller hands it back with [`ReadyList::store`] or
    /// [`ReadyList::release`].
    fn waker_for(&mut self, index: usize) -> (std::sync::Arc<ChildWaker>, Waker) {
        if let Some(Some(pair)) = self.children.get_mut(index).map(Option::take) {
            return pair;
        }
        let child = match self.spare.take() {
            Some(mut spare) => {
                // INV-7: the spare has no other holder, so it may change index.
                let spare_mut = std::sync::Arc::get_mut(&mut spare)
                    .expect("INV-7: the spare child waker has no other holder");
                spare_mut.index = index;
                spare
            }
            None => std::sync::Arc::new(ChildWaker {
                index,
                queued: AtomicBool::new(false),
                shared: Arc::clone(&self.shared),
            }),
        };
        let waker = Waker::from(std::sync::Arc::clone(&child));
        (child, waker)
    }

    /// Keeps `child` as the waker of slot `index`.
    fn store(&mut self, index: usize, child: std::sync::Arc<ChildWaker>, waker: Waker) {
        if index >= self.children.len() {
            self.children.resize_with(index + 1, || None);
        }
        self.children[index] = Some((child, waker));
    }

    /// Slot `index`'s child finished: its waker is dropped, or kept as the
    /// spare if nobody else holds a clone of it (INV-7).
    fn release(&mut self, mut child: std::sync::Arc<ChildWaker>, waker: Waker) {
        drop(waker);
        if self.spare.is_none() && std::sync::Arc::get_mut(&mut child).is_some() {
            // Sole holder: no wake can reach the old index through it any
            // more, so clearing its flag loses nothing.
            child.queued.store(false, Ordering::Relaxed);
            self.spare = Some(child);
        }
    }

    /// The next slot to poll: leftovers of an earlier batch (INV-4), then
    /// never-polled slots (INV-6), then one fresh drain of the queue
    /// (INV-5); `None` when all three are done.
    fn next_index(&mut self, has_drained: &mut bool) -> Option<usize> {
        loop {
            if let Some(&index) = self.batch.get(self.cursor) {
                self.cursor += 1;
                return Some(index);
            }
            if self.fresh < self.len {
                self.fresh += 1;
                return Some(self.fresh - 1);
            }
            if *has_drained {
                return None;
            }
            // INV-5: drain once, since the wakes queued meanwhile may have
            // spent their parent wake-up on this poll.
            self.drain();
            *has_drained = true;
        }
    }

    /// One parent poll's worth of work: calls `poll_child(index, waker)` for
    /// each woken child, in wake order, until `poll_child` returns
    /// [`Step::Stop`] (its value is returned) or the batch is done.
    ///
    /// Children left over from a previous call come first (INV-4), then
    /// never-polled slots in slot order (INV-6), then exactly one fresh
    /// drain (INV-5). If children keep waking themselves
    /// (`SELF_WAKE_LIMIT`, 2) the call wakes the parent and returns early,
    /// leaving the rest for the next poll.
    pub fn poll_woken<B>(
        &mut self,
        cx: &Context<'_>,
        mut poll_child: impl FnMut(usize, &Waker) -> Step<B>,
    ) -> Option<B> {
        self.register(cx.waker()); // INV-2: before draining
        let mut has_drained = false;
        let mut self_wakes = 0;
        while let Some(index) = self.next_index(&mut has_drained) {
            let (child, waker) = self.waker_for(index);
            // INV-3: cleared before the poll. Release pairs with the AcqRel
            // swap in `mark_ready`.
            child.queued.store(false, Ordering::Release);
            match poll_child(index, &waker) {
                Step::Finished => self.release(child, waker),
                Step::Stop(value) => {
                    self.store(index, child, waker);
                    return Some(value);
                }
                Step::Pending => {
                    // Acquire: pairs with the swap of a wake during the poll.
                    let woke_itself = child.queued.load(Ordering::Acquire);
                    self.store(index, child, waker);
                    if woke_itself {
                        self_wakes += 1;
                        if self_wakes == SELF_WAKE_LIMIT {
                            cx.waker().wake_by_ref();
                            return None;
                        }
                    }
                }
            }
        }
        None
    }
}

impl std::fmt::Debug for ReadyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyList")
            .field("slots", &self.len)
            .field("never_polled", &(self.len - self.fresh))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadyList, Step};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};

    /// Counts how often the parent was woken.
    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn parent() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    /// One parent poll in which every woken child stays pending; returns
    /// the indices polled and their wakers.
    fn poll_all(list: &mut ReadyList, parent: &Waker) -> (Vec<usize>, Vec<Waker>) {
        let mut polled = (Vec::new(), Vec::new());
        let cx = Context::from_waker(parent);
        let stopped: Option<()> = list.poll_woken(&cx, |index, waker| {
            polled.0.push(index);
            polled.1.push(waker.clone());
            Step::Pending
        });
        assert!(stopped.is_none());
        polled
    }

    #[test]
    fn new_slots_start_ready_in_order() {
        let (_, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        for expected in 0..3 {
            assert_eq!(list.push_slot(), expected);
        }
        assert_eq!(poll_all(&mut list, &parent).0, vec![0, 1, 2]);
        assert_eq!(poll_all(&mut list, &parent).0, Vec::<usize>::new());
    }

    #[test]
    fn repeated_wakes_queue_a_child_once_and_wake_the_parent_once() {
        let (count, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        let slot = list.push_slot();
        let (_, wakers) = poll_all(&mut list, &parent);
        for _ in 0..5 {
            wakers[0].wake_by_ref();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_all(&mut list, &parent).0, vec![slot]);
    }

    #[test]
    fn a_wake_during_the_poll_queues_the_child_again() {
        let (_, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        let slot = list.push_slot();
        let cx = Context::from_waker(&parent);
        let _: Option<()> = list.poll_woken(&cx, |_, waker| {
            waker.wake_by_ref(); // as if the child woke itself while polled
            Step::Pending
        });
        assert_eq!(poll_all(&mut list, &parent).0, vec![slot]);
    }

    #[test]
    fn stop_returns_its_value_and_keeps_the_rest_of_the_batch() {
        let (_, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        for _ in 0..3 {
            list.push_slot();
        }
        let cx = Context::from_waker(&parent);
        let stopped = list.poll_woken(&cx, |index, _| Step::Stop(index));
        assert_eq!(stopped, Some(0));
        assert_eq!(
            poll_all(&mut list, &parent).0,
            vec![1, 2],
            "INV-4: no wake lost"
        );
    }

    /// INV-7: children that finish on their first poll, with nobody keeping
    /// their waker, keep no waker in the list: the one waker is recycled
    /// from slot to slot and ends as the spare.
    #[test]
    fn children_that_finish_at_once_keep_no_waker_but_the_spare() {
        let (_, parent) = parent();
        let cx = Context::from_waker(&parent);
        let mut list = ReadyList::with_slots(100);
        let mut polled = Vec::new();
        let _: Option<()> = list.poll_woken(&cx, |index, _| {
            polled.push(index);
            Step::Finished
        });
        assert_eq!(polled, (0..100).collect::<Vec<_>>());
        assert!(list.children.iter().all(Option::is_none));
        assert!(list.spare.is_some(), "the last waker is kept for reuse");

        // A waker somebody cloned is never recycled (it could still wake).
        let mut list = ReadyList::with_slots(3);
        let mut kept = Vec::new();
        let _: Option<()> = list.poll_woken(&cx, |_, waker| {
            kept.push(waker.clone());
            Step::Finished
        });
        assert!(list.spare.is_none());
        assert!(!kept[0].will_wake(&kept[1]) && !kept[1].will_wake(&kept[2]));
    }

    /// A finished child's waker that someone still holds keeps its index: a
    /// late wake through it polls that (finished) slot, never another one.
    #[test]
    fn a_stale_waker_of_a_finished_child_names_its_own_slot() {
        let (_, parent) = parent();
        let mut list = ReadyList::with_slots(2);
        let cx = Context::from_waker(&parent);
        let mut stale = None;
        let _: Option<()> = list.poll_woken(&cx, |index, waker| {
            if index == 0 {
                stale = Some(waker.clone());
                Step::Finished
            } else {
                Step::Pending
            }
        });
        stale.expect("slot 0 was polled").wake();
        assert_eq!(poll_all(&mut list, &parent).0, vec![0]);
    }

    /// A slot whose child finished can get a new child (`TaskGroup` reuses
    /// slots): marking it ready queues it again.
    #[test]
    fn a_released_slot_marked_ready_is_polled_again() {
        let (count, parent) = parent();
        let mut list = ReadyList::with_slots(1);
        let cx = Context::from_waker(&parent);
        let _: Option<()> = list.poll_woken(&cx, |_, _| Step::Finished);
        assert_eq!(poll_all(&mut list, &parent).0, Vec::<usize>::new());
        list.mark_ready(0);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the parent was woken");
        assert_eq!(poll_all(&mut list, &parent).0, vec![0]);
    }

    /// Children that keep waking themselves (an exhausted cooperative
    /// budget) make the parent yield after `SELF_WAKE_LIMIT` of them, and
    /// the next poll resumes where this one stopped.
    #[test]
    fn children_that_keep_waking_themselves_make_the_parent_yield() {
        let (count, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        for _ in 0..5 {
            list.push_slot();
        }
        let cx = Context::from_waker(&parent);
        let mut rounds = Vec::new();
        for _ in 0..3 {
            let mut polled = Vec::new();
            let _: Option<()> = list.poll_woken(&cx, |index, waker| {
                polled.push(index);
                waker.wake_by_ref();
                Step::Pending
            });
            rounds.push(polled);
        }
        // Round three finishes the leftovers (4), then drains (INV-5) and
        // meets the second self-wake at child 0.
        assert_eq!(rounds, vec![vec![0, 1], vec![2, 3], vec![4, 0]]);
        assert!(
            count.0.load(Ordering::SeqCst) >= 2,
            "the parent was woken to continue"
        );
    }

    /// Many threads wake many children concurrently: every child ends up in
    /// the queue exactly once.
    #[test]
    fn stampede_of_wakes_queues_each_child_exactly_once() {
        const CHILDREN: usize = 64;
        const THREADS: usize = 4;
        let (_, parent) = parent();
        let mut list = ReadyList::with_slots(0);
        for _ in 0..CHILDREN {
            list.push_slot();
        }
        let (_, wakers) = poll_all(&mut list, &parent);
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| wakers.iter().for_each(Waker::wake_by_ref));
            }
        });
        let mut polled = poll_all(&mut list, &parent).0;
        polled.sort_unstable();
        assert_eq!(polled, (0..CHILDREN).collect::<Vec<_>>());
    }

    /// Loom: a child woken on another thread while the parent is polling is
    /// never lost: either that poll saw it, or it is still queued and the
    /// parent's *current* waker was woken (INV-2, INV-3, INV-5). The parent
    /// polls with a new waker, as a task moved to another executor would, so
    /// a wake delivered to the stale waker counts as lost.
    #[cfg(loom)]
    #[test]
    fn loom_wake_racing_a_parent_poll_is_never_lost() {
        use loom::sync::atomic::{AtomicUsize as LoomCount, Ordering as LoomOrdering};
        struct LoomParent(loom::sync::Arc<LoomCount>);
        impl Wake for LoomParent {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, LoomOrdering::SeqCst);
            }
        }
        fn loom_parent() -> (loom::sync::Arc<LoomCount>, Waker) {
            let count = loom::sync::Arc::new(LoomCount::new(0));
            let waker = Waker::from(Arc::new(LoomParent(loom::sync::Arc::clone(&count))));
            (count, waker)
        }
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(3);
        model.check(|| {
            let (_, old_parent) = loom_parent();
            let (woken, parent) = loom_parent();
            let mut list = ReadyList::with_slots(0);
            list.push_slot();
            list.push_slot();
            let (_, wakers) = poll_all(&mut list, &old_parent);
            let child = wakers[1].clone();
            let waking = loom::thread::spawn(move || child.wake());
            let first = poll_all(&mut list, &parent).0;
            waking.join().expect("the waking thread does not panic");
            let woken_after_first = woken.load(LoomOrdering::SeqCst);
            let second = poll_all(&mut list, &parent).0;
            assert!(
                first.contains(&1) || (second.contains(&1) && woken_after_first > 0),
                "lost wake: first {first:?}, second {second:?}, parent woken {woken_after_first}"
            );
        });
    }
}
