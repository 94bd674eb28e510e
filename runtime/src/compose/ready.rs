//! The ready list: which children of a combinator were woken since its last poll.
//!
//! # Summary
//! Every child of `gather`, `try_gather`, `race` and `TaskGroup` gets its own
//! waker, a [`ChildWaker`] that knows the child's index. Waking it appends the
//! index to a shared queue (once, however often it is woken) and wakes the
//! parent task. When the parent is polled it drains the queue and polls exactly
//! those children.
//!
//! # Role
//! Called in by: `children.rs` (a fixed set of pinned futures) and
//! `task_group.rs` (a growing set of join handles). Calls out to: the parent's
//! `Waker` only.
//!
//! # Design
//! This is the `FuturesUnordered` technique written in safe code: the child
//! waker is an `Arc<ChildWaker>` turned into a `Waker` through
//! [`std::task::Wake`], and the queue is a `Vec<usize>` behind a mutex instead
//! of an intrusive atomic list. Rejected alternatives:
//! - handing every child the parent's waker and polling all of them on each
//!   wake (what a naive `join_all` does): with N children that wake one at a
//!   time that is N polls per wake, O(N²) in all;
//! - an intrusive lock-free list: faster under heavy contention, but it needs
//!   `unsafe` outside the modules STYLE §4 allows, and the mutex here is held
//!   for a push or a swap only.
//!
//! # Invariants
//! - INV-1: an index is in the queue at most once: it is pushed only by the
//!   wake that flips its `queued` flag from false to true, and the flag is
//!   cleared only by [`ReadyList::begin_poll`], after the index left the queue.
//!   So the queue never holds more entries than there are children.
//! - INV-2: the parent registers its waker ([`ReadyList::register`]) *before*
//!   it drains the queue ([`ReadyList::drain_into`]). A wake that lands after
//!   the drain therefore finds the new waker, and no wake is lost.
//! - INV-3: a child's flag is cleared *before* the child is polled, so a wake
//!   that happens during the poll queues the child again.
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

use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

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

/// The waker handed to one child: waking it marks that child ready.
pub(crate) struct ChildWaker {
    /// Position of the child in its combinator's storage.
    index: usize,
    /// True while `index` is in the queue (INV-1).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.mark_ready();
    }
}

impl ChildWaker {
    /// Queues this child unless it is queued already, then wakes the parent.
    fn mark_ready(&self) {
        // AcqRel: pairs with the Release store in `begin_poll`; the queue
        // itself is ordered by the mutex below.
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // INV-1: already in the queue
        }
        let parent = {
            let mut state = self.shared.state.lock();
            state.queue.push(self.index);
            state.parent.clone()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

/// The per-combinator ready list: one [`ChildWaker`] per child slot and the
/// shared queue they push to.
pub(crate) struct ReadyList {
    shared: Arc<Shared>,
    /// `children[i]` is the waker of child slot `i`, both as the `Arc` (to
    /// reach its flag) and as the `Waker` handed to the child's `poll`.
    children: Vec<(Arc<ChildWaker>, Waker)>,
}

impl ReadyList {
    /// An empty ready list with no child slots.
    pub(crate) fn new() -> ReadyList {
        ReadyList {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: Vec::new(),
                    parent: None,
                }),
            }),
            children: Vec::new(),
        }
    }

    /// An empty ready list with room for `capacity` child slots.
    pub(crate) fn with_capacity(capacity: usize) -> ReadyList {
        let list = ReadyList::new();
        list.shared.state.lock().queue.reserve(capacity);
        ReadyList {
            children: Vec::with_capacity(capacity),
            ..list
        }
    }

    /// Adds child slot number `self.len()`, already marked ready so that its
    /// first poll happens on the parent's next poll.
    pub(crate) fn push_slot(&mut self) -> usize {
        let index = self.children.len();
        let child = Arc::new(ChildWaker {
            index,
            queued: AtomicBool::new(false),
            shared: Arc::clone(&self.shared),
        });
        let waker = Waker::from(Arc::clone(&child));
        self.children.push((child, waker));
        self.mark_ready(index);
        index
    }

    /// Marks slot `index` ready, as if its child had woken (used when a slot
    /// gets a new child).
    pub(crate) fn mark_ready(&self, index: usize) {
        self.children[index].0.mark_ready();
    }

    /// Records the parent's waker; call before [`ReadyList::drain_into`] (INV-2).
    pub(crate) fn register(&self, parent: &Waker) {
        let mut state = self.shared.state.lock();
        match &state.parent {
            Some(old) if old.will_wake(parent) => {}
            _ => state.parent = Some(parent.clone()),
        }
    }

    /// Moves the queued indices into `batch` (which is cleared first) in the
    /// order they were woken. Swapping buffers keeps both allocations alive,
    /// so steady-state polling allocates nothing.
    pub(crate) fn drain_into(&self, batch: &mut Vec<usize>) {
        batch.clear();
        std::mem::swap(&mut self.shared.state.lock().queue, batch);
    }

    /// Clears slot `index`'s queued flag and returns the waker to poll it with
    /// (INV-3: a wake during the poll queues it again).
    pub(crate) fn begin_poll(&self, index: usize) -> &Waker {
        let (child, waker) = &self.children[index];
        // Release: pairs with the AcqRel swap in `mark_ready`.
        child.queued.store(false, Ordering::Release);
        waker
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts how often the parent was woken.
    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn drained(list: &ReadyList) -> Vec<usize> {
        let mut batch = Vec::new();
        list.drain_into(&mut batch);
        batch
    }

    #[test]
    fn new_slots_start_ready_in_order() {
        let mut list = ReadyList::with_capacity(3);
        for expected in 0..3 {
            assert_eq!(list.push_slot(), expected);
        }
        assert_eq!(drained(&list), vec![0, 1, 2]);
        assert_eq!(drained(&list), Vec::<usize>::new());
    }

    #[test]
    fn repeated_wakes_queue_a_child_once_and_wake_the_parent_once() {
        let mut list = ReadyList::new();
        let slot = list.push_slot();
        let parent = Arc::new(CountingWaker(AtomicUsize::new(0)));
        list.register(&Waker::from(Arc::clone(&parent)));
        drained(&list);
        let waker = list.begin_poll(slot).clone();
        for _ in 0..5 {
            waker.wake_by_ref();
        }
        assert_eq!(drained(&list), vec![slot]);
        assert_eq!(parent.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_wake_during_the_poll_queues_the_child_again() {
        let mut list = ReadyList::new();
        let slot = list.push_slot();
        drained(&list);
        let waker = list.begin_poll(slot).clone();
        waker.wake(); // as if the child woke itself while being polled
        assert_eq!(drained(&list), vec![slot]);
    }

    /// Many threads wake many children concurrently: every child ends up in
    /// the queue exactly once.
    #[test]
    fn stampede_of_wakes_queues_each_child_exactly_once() {
        const CHILDREN: usize = 64;
        const THREADS: usize = 4;
        let mut list = ReadyList::new();
        for _ in 0..CHILDREN {
            list.push_slot();
        }
        drained(&list);
        let wakers: Vec<Waker> = (0..CHILDREN).map(|i| list.begin_poll(i).clone()).collect();
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| wakers.iter().for_each(Waker::wake_by_ref));
            }
        });
        let mut batch = drained(&list);
        batch.sort_unstable();
        assert_eq!(batch, (0..CHILDREN).collect::<Vec<_>>());
    }
}
