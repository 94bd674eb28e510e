//! Summary: the fair FIFO waiter kernel every primitive of weft-sync sits on.
//!
//! Role: `Semaphore` (and through it `Lock` and `RwLock`), `Event`,
//! `Condition`, the `Queue` family and `Barrier` each keep one or more
//! [`WaitList`]s inside their own state, under their own mutex. Their
//! futures call [`WaitList::push_back`] when they must wait,
//! [`WaitList::poll`] when polled again and [`WaitList::remove`] when they
//! finish or are dropped; the primitive's notify paths call
//! [`WaitList::grant_front`], [`WaitList::grant_all`] and
//! [`WaitList::close_all`]. Wakers are collected into a [`WakeList`] and woken
//! after the mutex is released.
//!
//! # Design
//!
//! A waiter is a [`Waiter`] node in a vector of nodes (a slab with its own
//! free list), linked into a doubly linked FIFO list by index, so push,
//! grant and cancel are all O(1). Keys and links are 4-byte [`WaiterKey`]s
//! rather than `usize`s: every parked waiter holds three (one in its future,
//! two in its node), and the 36 bytes saved are about a tenth of what a
//! parked task costs in all. Each node holds its `Waker`, its two links and
//! a payload chosen by the primitive (the number of permits a semaphore
//! waiter asks for, `()` for an event waiter): 24 bytes for `()`, 32 for a
//! `usize`. The [`Grant`] state is not stored: it follows from the fields
//! (NODE-1 below), because a state byte would round the node up by a whole
//! word, and so would the vacant/occupied tag of `slab::Slab`'s entries,
//! which is why the nodes live in a plain `Vec` here. The list has no lock of its own: it lives inside the
//! primitive's state, so one `parking_lot::Mutex` covers the resource (the
//! permit count, the queued items) and its waiters, and "check the resource,
//! then queue up" is a single critical section.
//!
//! Rejected alternatives: an intrusive list with the node inside the future
//! (tokio's `batch_semaphore`) saves one slab slot per waiter but needs
//! `unsafe` and pinning discipline; the uncontended path never touches the
//! list, and the contended path is dominated by the wakeup, so the safe slab
//! costs little. A `VecDeque` of keys would make cancel O(n).
//!
//! # Invariants
//!
//! - INV-1: a node is linked into the FIFO list iff its state is
//!   [`Grant::Waiting`]; `waiting` counts exactly the linked nodes.
//! - INV-2: a node is created by exactly one future, which alone removes it.
//!   The notify side only changes a node's state, never frees it, so a key is
//!   never reused while its future still holds it (no ABA; no generation
//!   counter needed).
//! - INV-3: a [`Grant::Granted`] node owns what it was granted (permits, a
//!   reserved item, a notification) until its future removes it; the future
//!   then either consumes the grant (it completes) or hands it back to the
//!   primitive, which re-grants it to the next waiter (it was dropped).
//! - INV-4: wakers are woken only after the primitive's mutex is released
//!   ([`WakeList`] collects them), so a waker that re-enters the primitive
//!   cannot deadlock.
//! - NODE-1 (how a node's state is read): a node is Waiting iff it holds a
//!   waker (`push_back` stores one, `poll` only replaces it, and the grant
//!   or close takes it out). An unlinked node's `next` is [`CLOSED`] if it
//!   was closed and `None` if it was granted; a vacant slot's `prev` is
//!   [`VACANT`] and its `next` is the next vacant slot. Neither marker is a
//!   key: keys stop at 2^32 - 2 waiters, so [`CLOSED`] and [`VACANT`] are
//!   the two values above the last one.
//!
//! # State machine (one waiter)
//!
//! ```text
//!            push_back           grant_front / grant_all
//!   (none) -----------> Waiting -------------------------> Granted --remove--> (none)
//!                          |  \         close_all                  (consume or hand back)
//!                          |   +------------------------> Closed  --remove--> (none)
//!                          +--remove (cancelled: nothing owned)--> (none)
//! ```
//!
//! # Concurrency: register / notify / cancel
//!
//! All three sides run under the primitive's mutex; the mutex is the fence.
//!
//! ```text
//!   waiter (register, poll)               notifier (release, put, set)
//!   R1. lock the primitive                N1. lock the primitive
//!   R2. resource ready and nobody         N2. add to the resource (permits,
//!       queued? take it, unlock, Ready        items, the "set" flag)
//!   R3. else push_back(payload, waker)    N3. while the head's request fits:
//!       (Waiting), unlock, Pending            move it into the node, mark it
//!   R4. on each later poll: lock;             Granted, unlink it, take its waker
//!       Granted -> remove, Ready(grant)   N4. unlock
//!       Closed  -> remove, Ready(closed)  N5. wake the taken wakers
//!       Waiting -> refresh waker, Pending
//!
//!   canceller (the waiting future is dropped)
//!   C1. lock the primitive
//!   C2. remove the node: Waiting -> nothing is owned (INV-1);
//!       Granted -> the grant is handed back (INV-3): run N2 and N3 with it
//!   C3. unlock, then wake the taken wakers (N5)
//! ```
//!
//! Why no wakeup is lost: R3 and N3 are serialised by the mutex. If R3 came
//! first, N3 sees the node and takes the waker stored by the latest R3/R4;
//! if N3 came first, R2 sees the resource. A Granted node is never ignored:
//! either its future polls (R4) or drops (C2), and both settle the grant.
//!
//! # References
//!
//! tokio `sync/batch_semaphore.rs` (the FIFO batch-permit design);
//! CPython `asyncio/locks.py` (the cancel-after-wake hand-off rules).

use std::num::NonZeroU32;
use std::task::{Poll, Waker};

/// Where one waiter stands; see the state machine in the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Queued, linked into the FIFO list (INV-1).
    Waiting,
    /// Unlinked and handed its grant; its future must consume or return it (INV-3).
    Granted,
    /// Unlinked because the primitive shut down; owns nothing.
    Closed,
}

/// Identifies one waiter; owned by the future that pushed it (INV-2).
///
/// The node's slab index plus one in a `NonZeroU32`, so that the future's
/// `Option<WaiterKey>` and the nodes' links are 4 bytes each where an
/// `Option<usize>` is 16: every parked waiter holds one in its future and
/// two in its node, so this is 36 bytes less per parked waiter, for a
/// limit of 2^32 - 2 waiters per list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaiterKey(NonZeroU32);

impl WaiterKey {
    /// A key no list ever issues (NODE-1's [`CLOSED`] marker), for a future
    /// that keeps its own "done" state in its 4-byte key field.
    pub(crate) const NOT_ISSUED: WaiterKey = CLOSED;

    /// The key of the node at slab index `index`.
    ///
    /// # Panics
    ///
    /// If `index` does not fit: a list of more than 2^32 - 3 waiters.
    fn new(index: usize) -> WaiterKey {
        let plus_one = u32::try_from(index + 1)
            .ok()
            .filter(|&key| key < VACANT.0.get())
            .and_then(NonZeroU32::new)
            .expect("a weft-sync wait list holds at most 2^32 - 3 waiters at once");
        WaiterKey(plus_one)
    }

    /// The node's slab index.
    fn index(self) -> usize {
        // Lossless: a u32 fits usize on every target weft supports (32 and
        // 64 bit).
        (self.0.get() - 1) as usize
    }
}

/// A link between nodes (a key, or none).
type Link = Option<WaiterKey>;

/// In an unlinked node's `next`: the node was closed, not granted (NODE-1).
const CLOSED: WaiterKey = WaiterKey(NonZeroU32::MAX);

/// In a vacant slot's `prev` (NODE-1): catches a key used after its node
/// was removed, as `slab::Slab` did with its entry tag.
const VACANT: WaiterKey = match NonZeroU32::new(u32::MAX - 1) {
    Some(marker) => WaiterKey(marker),
    None => unreachable!(),
};

/// One queued future, or a vacant slot (NODE-1).
#[derive(Debug)]
struct Waiter<P> {
    /// The waker from the future's latest poll; `Some` iff Waiting.
    waker: Option<Waker>,
    /// Linked: the previous node in FIFO order (towards the head).
    /// Vacant: [`VACANT`].
    prev: Link,
    /// Linked: the next node in FIFO order (towards the tail). Unlinked:
    /// [`CLOSED`] or `None` (granted). Vacant: the next vacant slot.
    next: Link,
    /// What the primitive stores per waiter (e.g. the permits asked for).
    payload: P,
}

impl<P> Waiter<P> {
    /// The state NODE-1 encodes.
    fn state(&self) -> Grant {
        if self.waker.is_some() {
            Grant::Waiting
        } else if self.next == Some(CLOSED) {
            Grant::Closed
        } else {
            Grant::Granted
        }
    }
}

/// A FIFO list of waiters with O(1) push, grant and cancel.
#[derive(Debug)]
pub(crate) struct WaitList<P> {
    /// Every node, occupied or vacant (NODE-1); indexed by `WaiterKey`.
    nodes: Vec<Waiter<P>>,
    /// The first vacant slot, reused before the vector grows.
    vacant: Link,
    head: Link,
    tail: Link,
    /// Number of linked (Waiting) nodes (INV-1).
    waiting: usize,
}

impl<P: Copy> WaitList<P> {
    /// An empty list; allocates nothing until the first waiter.
    pub(crate) fn new() -> Self {
        WaitList {
            nodes: Vec::new(),
            vacant: None,
            head: None,
            tail: None,
            waiting: 0,
        }
    }

    /// True if any waiter is queued (Waiting).
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiting > 0
    }

    /// How many waiters are queued (Waiting).
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// R3: queue a new waiter at the tail.
    pub(crate) fn push_back(&mut self, payload: P, waker: &Waker) -> WaiterKey {
        let node = Waiter {
            waker: Some(waker.clone()),
            prev: self.tail,
            next: None,
            payload,
        };
        let key = match self.vacant {
            Some(slot) => {
                let reused = &mut self.nodes[slot.index()];
                self.vacant = reused.next;
                *reused = node;
                slot
            }
            None => {
                let key = WaiterKey::new(self.nodes.len());
                self.nodes.push(node);
                key
            }
        };
        match self.tail {
            Some(tail) => self.nodes[tail.index()].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.waiting += 1;
        key
    }

    /// The occupied node of `key` (INV-2: its future still holds the key).
    ///
    /// # Panics
    ///
    /// If the node was already removed: a bug in the primitive, which must
    /// forget a key when it removes its node.
    fn node(&mut self, key: WaiterKey) -> &mut Waiter<P> {
        let node = &mut self.nodes[key.index()];
        assert!(
            node.prev != Some(VACANT),
            "a weft-sync waiter key was used after its node was removed"
        );
        node
    }

    /// The payload of the head waiter, if any is queued.
    pub(crate) fn front(&self) -> Option<&P> {
        self.head.map(|key| &self.nodes[key.index()].payload)
    }

    /// R4: the waiter's state; while still Waiting, store `waker` for the
    /// next grant.
    pub(crate) fn poll(&mut self, key: WaiterKey, waker: &Waker) -> Grant {
        let node = self.node(key);
        match &mut node.waker {
            // Waiting (NODE-1): keep the waker of the latest poll.
            Some(old) if !old.will_wake(waker) => *old = waker.clone(),
            _ => {}
        }
        node.state()
    }

    /// N3: grant the head waiter; its waker goes to `wakes`. Returns the
    /// granted node's payload, or `None` if nobody waits.
    pub(crate) fn grant_front(&mut self, wakes: &mut WakeList) -> Option<&mut P> {
        let key = self.head?;
        self.transition_to(key, Grant::Granted, wakes);
        Some(&mut self.nodes[key.index()].payload)
    }

    /// N3 for every queued waiter (Event::set, notify_all, Barrier).
    /// Returns how many were granted.
    pub(crate) fn grant_all(&mut self, wakes: &mut WakeList) -> usize {
        self.transition_all_to(Grant::Granted, wakes)
    }

    /// Marks every queued waiter Closed (a queue shut down).
    pub(crate) fn close_all(&mut self, wakes: &mut WakeList) -> usize {
        self.transition_all_to(Grant::Closed, wakes)
    }

    /// R4/C2: frees the node and returns its last state and payload. A
    /// Waiting node is unlinked first (INV-1); a Granted node's payload is the
    /// grant the caller must now consume or hand back (INV-3).
    pub(crate) fn remove(&mut self, key: WaiterKey) -> (Grant, P) {
        let state = self.node(key).state();
        if state == Grant::Waiting {
            self.unlink(key);
        }
        let vacant = self.vacant;
        let node = &mut self.nodes[key.index()];
        // Drops the waker of a Waiting node; the others hold none (NODE-1).
        node.waker = None;
        node.prev = Some(VACANT);
        node.next = vacant;
        self.vacant = Some(key);
        (state, node.payload)
    }

    fn transition_all_to(&mut self, state: Grant, wakes: &mut WakeList) -> usize {
        let mut count = 0;
        while let Some(key) = self.head {
            self.transition_to(key, state, wakes);
            count += 1;
        }
        count
    }

    /// Waiting -> `state` (Granted or Closed): unlink and take the waker.
    fn transition_to(&mut self, key: WaiterKey, state: Grant, wakes: &mut WakeList) {
        debug_assert_eq!(
            self.nodes[key.index()].state(),
            Grant::Waiting,
            "only a queued waiter is granted or closed"
        );
        self.unlink(key);
        let node = &mut self.nodes[key.index()];
        if state == Grant::Closed {
            node.next = Some(CLOSED);
        }
        if let Some(waker) = node.waker.take() {
            wakes.push(waker);
        }
    }

    fn unlink(&mut self, key: WaiterKey) {
        let (prev, next) = {
            let node = &mut self.nodes[key.index()];
            (node.prev.take(), node.next.take())
        };
        match prev {
            Some(prev) => self.nodes[prev.index()].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.nodes[next.index()].prev = prev,
            None => self.tail = prev,
        }
        self.waiting -= 1;
    }
}

impl WaitList<()> {
    /// One poll of a broadcast wait, the kind every waiter leaves together
    /// (`Event::wait`, `CancellationToken::cancelled`): ready at once if
    /// `is_set` and not yet queued; otherwise queued once (R3) and pending
    /// until its node is granted or closed, when it leaves the list and
    /// `key` is cleared. The caller holds the lock that guards `is_set`.
    pub(crate) fn poll_broadcast(
        &mut self,
        key: &mut Option<WaiterKey>,
        is_set: bool,
        waker: &Waker,
    ) -> Poll<()> {
        match *key {
            None if is_set => Poll::Ready(()),
            None => {
                *key = Some(self.push_back((), waker));
                Poll::Pending
            }
            Some(queued) => match self.poll(queued, waker) {
                Grant::Waiting => Poll::Pending,
                Grant::Granted | Grant::Closed => {
                    self.remove(queued);
                    *key = None;
                    Poll::Ready(())
                }
            },
        }
    }
}

/// Wakers collected under a primitive's mutex, woken after it is released
/// (INV-4). Wakes on drop, so an early return cannot lose a wakeup.
///
/// Most operations (an uncontended `put`, `get`, `lock` or release) wake
/// nobody, so the list is built for that case: the first waker has its own
/// field, `Vec::new` does not allocate, and `wake_all` and `Drop` are one
/// branch on `first` when it is empty, with the waking loop out of line
/// (`#[cold]`). An inline array of several `Option<Waker>` cost every empty
/// list a walk and drop glue per slot: measured in callgrind, that was over
/// half of the instructions of the `queue_mpmc` benchmark.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    /// The first waker collected; `None` means the whole list is empty.
    first: Option<Waker>,
    /// Every waker after the first, in collection order.
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list; allocates nothing.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// N5: wake everything collected. Call after the mutex guard is dropped.
    ///
    /// # Panics
    ///
    /// If a waker panics, every other collected waker is still woken, and
    /// then the first panic is resumed in the caller (a waker panicking is
    /// the waker's bug, but it must not cost another waiter its wakeup).
    #[inline]
    pub(crate) fn wake_all(self) {
        // The list is empty after this (or was already), so its fields own
        // nothing (`Vec::new` holds no allocation): skipping the drop glue
        // leaks nothing and keeps the common empty case to one branch.
        let mut this = std::mem::ManuallyDrop::new(self);
        if this.first.is_some() {
            if let Err(payload) = this.wake_collected() {
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// Wakes and empties the list, first then rest. Each wake runs under
    /// `catch_unwind`, so a panicking waker cannot leave the wakers behind it
    /// unwoken; the first panic's payload is returned for the caller to
    /// resume.
    #[cold]
    fn wake_collected(&mut self) -> std::thread::Result<()> {
        let mut first_panic = None;
        let mut wake = |waker: Waker| {
            let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
            if let (Err(payload), None) = (woken, &first_panic) {
                first_panic = Some(payload);
            }
        };
        if let Some(waker) = self.first.take() {
            wake(waker);
        }
        for waker in std::mem::take(&mut self.rest) {
            wake(waker);
        }
        first_panic.map_or(Ok(()), Err)
    }
}

impl Drop for WakeList {
    /// A list dropped without `wake_all` (an early return, or unwinding from
    /// a panic while the mutex was held) still wakes what it collected. A
    /// waker's panic is swallowed here: resuming it while already unwinding
    /// would abort the process.
    #[inline]
    fn drop(&mut self) {
        // `first` is filled before `rest`, so an empty `first` means an empty list.
        if self.first.is_none() {
            return;
        }
        if let Err(payload) = self.wake_collected() {
            if !std::thread::panicking() {
                std::panic::resume_unwind(payload);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// Every parked waiter pays for one node and one key in its future:
    /// 4-byte keys and links, not 16-byte `Option<usize>`s, and no state
    /// byte or slab tag rounding the node up by a word (NODE-1).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn keys_are_4_bytes_a_node_24_and_indexes_round_trip() {
        assert_eq!(std::mem::size_of::<Option<WaiterKey>>(), 4);
        assert_eq!(std::mem::size_of::<Waiter<()>>(), 24);
        assert_eq!(std::mem::size_of::<Waiter<usize>>(), 32);
        for index in [0, 1, 41, u32::MAX as usize - 3] {
            assert_eq!(WaiterKey::new(index).index(), index);
        }
        assert_ne!(WaiterKey::new(u32::MAX as usize - 3), VACANT);
    }

    #[test]
    #[should_panic(expected = "holds at most 2^32 - 3 waiters")]
    #[cfg(target_pointer_width = "64")]
    fn an_index_beyond_a_key_panics_with_the_limit() {
        let _ = WaiterKey::new(u32::MAX as usize - 2);
    }

    #[test]
    fn granted_and_closed_nodes_keep_their_state_and_slots_are_reused() {
        let (_, waker) = counting();
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..3).map(|i| list.push_back(i, &waker)).collect();
        let mut wakes = WakeList::new();
        assert_eq!(list.grant_front(&mut wakes).copied(), Some(0));
        assert_eq!(list.close_all(&mut wakes), 2);
        assert_eq!(list.poll(keys[0], &waker), Grant::Granted);
        assert_eq!(list.poll(keys[1], &waker), Grant::Closed);
        assert_eq!(list.remove(keys[2]), (Grant::Closed, 2));
        assert_eq!(list.remove(keys[0]), (Grant::Granted, 0));
        // Vacant slots are reused, last freed first, before the vector grows.
        let again = list.push_back(7, &waker);
        assert_eq!(again, keys[0]);
        assert_eq!(list.push_back(8, &waker), keys[2]);
        assert_eq!(list.nodes.len(), 3);
        assert_eq!(list.poll(again, &waker), Grant::Waiting);
        assert_eq!(list.poll(keys[1], &waker), Grant::Closed);
        let granted: Vec<usize> =
            std::iter::from_fn(|| list.grant_front(&mut wakes).copied()).collect();
        assert_eq!(granted, vec![7, 8]);
    }

    #[test]
    #[should_panic(expected = "used after its node was removed")]
    fn a_removed_key_is_refused() {
        let (_, waker) = counting();
        let mut list = WaitList::new();
        let key = list.push_back((), &waker);
        list.remove(key);
        list.poll(key, &waker);
    }

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            // Relaxed: a test counter, read after the waking thread is done.
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting() -> (Arc<CountingWaker>, Waker) {
        let inner = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (inner.clone(), Waker::from(inner))
    }

    #[test]
    fn grants_in_fifo_order_and_skips_cancelled_waiters() {
        let (_, waker) = counting();
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..4).map(|i| list.push_back(i, &waker)).collect();
        assert_eq!(list.remove(keys[1]), (Grant::Waiting, 1));
        let mut wakes = WakeList::new();
        let granted: Vec<i32> =
            std::iter::from_fn(|| list.grant_front(&mut wakes).map(|p| *p)).collect();
        assert_eq!(granted, vec![0, 2, 3]);
        assert!(!list.has_waiters());
        for key in [keys[0], keys[2], keys[3]] {
            assert_eq!(list.poll(key, &waker), Grant::Granted);
            assert_eq!(list.remove(key).0, Grant::Granted);
        }
    }

    #[test]
    fn unlinking_head_middle_and_tail_keeps_the_list_consistent() {
        let (_, waker) = counting();
        for victim in 0..3 {
            let mut list = WaitList::new();
            let keys: Vec<_> = (0..3).map(|i| list.push_back(i, &waker)).collect();
            list.remove(keys[victim]);
            let mut wakes = WakeList::new();
            let rest: Vec<usize> =
                std::iter::from_fn(|| list.grant_front(&mut wakes).map(|p| *p)).collect();
            let expected: Vec<usize> = (0..3).filter(|&i| i != victim).collect();
            assert_eq!(rest, expected, "after removing waiter {victim}");
            assert_eq!(list.waiting(), 0);
        }
    }

    #[test]
    fn wakers_fire_only_when_the_wake_list_is_released() {
        const WAITERS: usize = 5;
        let (count, waker) = counting();
        let mut list = WaitList::new();
        for _ in 0..WAITERS {
            list.push_back((), &waker);
        }
        let mut wakes = WakeList::new();
        assert_eq!(list.grant_all(&mut wakes), WAITERS);
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        wakes.wake_all();
        assert_eq!(count.0.load(Ordering::Relaxed), WAITERS);
    }

    #[test]
    fn a_dropped_wake_list_still_wakes_first_and_rest() {
        let (count, waker) = counting();
        let mut wakes = WakeList::new();
        for _ in 0..3 {
            wakes.push(waker.clone());
        }
        drop(wakes);
        assert_eq!(count.0.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn poll_refreshes_the_waker_of_a_queued_waiter() {
        let (first, waker_a) = counting();
        let (second, waker_b) = counting();
        let mut list = WaitList::new();
        let key = list.push_back((), &waker_a);
        assert_eq!(list.poll(key, &waker_b), Grant::Waiting);
        let mut wakes = WakeList::new();
        list.close_all(&mut wakes);
        drop(wakes);
        assert_eq!(first.0.load(Ordering::Relaxed), 0);
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
        assert_eq!(list.poll(key, &waker_a), Grant::Closed);
    }
}
