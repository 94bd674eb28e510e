//! Summary: `Queue`, `LifoQueue` and `PriorityQueue` (asyncio.Queue and
//! friends): one core, [`GenericQueue`], generic over a [`QueueStorage`].
//!
//! Role: producers `put`, consumers `get`, workers `task_done`, and a
//! coordinator `join`s or `shutdown`s. The futures live in `futures.rs`; the
//! storage orders in `storage.rs`; the errors in `error.rs`.
//!
//! # Design
//!
//! The queue is two semaphores and a counter under one mutex. Getters wait
//! for *items*, putters wait for *slots*, each in a FIFO [`WaitList`]. When an
//! item arrives and a getter is queued, the item is *reserved* for the head
//! getter (`reserved_items += 1`) and the getter is Granted; it pops an item
//! when it next runs. A dropped granted getter un-reserves and the
//! reservation moves to the next getter, so a dropped `get()` never consumes
//! an item and never strands one. Putters mirror this with `reserved_slots`;
//! a `put()` inserts its item only when it returns `Ready(Ok)`, so a dropped
//! `put()` has inserted nothing.
//!
//! Fairness is about *who* is served: getters (and putters) are granted in
//! arrival order. Which item a granted getter receives is decided when it
//! runs: the storage's next item at that moment, as in asyncio, where a
//! woken getter calls `get_nowait`.
//!
//! Rejected: handing the item itself to the getter's node. It would bypass
//! the storage order (a PriorityQueue must give the smallest item at the
//! moment of the `get`) and makes `shutdown(immediate)` chase items through
//! nodes.
//!
//! Shutdown follows asyncio 3.13: after `shutdown`, `put` fails with the
//! item; `get` drains what is left, then fails; `shutdown(true)` also drops
//! the queued items, counts them done for `join`, and wakes every waiter.
//!
//! # Invariants
//!
//! - INV-1: if a getter is queued, no item is free:
//!   `items.len() <= reserved_items` (`settle_getters` runs after each change).
//! - INV-2: if a putter is queued, no slot is free and the queue is not shut
//!   down (`settle_putters`).
//! - INV-3: `reserved_items` counts Granted getter nodes, `reserved_slots`
//!   counts Granted putter nodes; each is decremented exactly once, when its
//!   node is removed (on completion or drop).
//! - INV-4: `unfinished` counts items put and not yet `task_done`; joiners
//!   are released exactly when it reaches 0.
//! - INV-5: once shut down and empty, no getter stays queued (they are closed).
//! - INV-6: no item is dropped while the mutex is held (its `Drop` may call
//!   back into the queue).
//!
//! # Concurrency
//!
//! Everything is in `QueueState` under one mutex; each future follows the
//! waitlist protocol of `waitlist.rs` with "resource" = item or slot.

mod error;
mod futures;
mod storage;

pub use error::{GetError, PutError, QueueShutDown};
pub use futures::{Get, Join, Put, QueueStream};
pub use storage::QueueStorage;

use crate::loom::Mutex;
use crate::waitlist::{WaitList, WakeList};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

/// A first-in, first-out queue (asyncio.Queue).
///
/// # Examples
///
/// ```
/// use weft_sync::Queue;
/// smol::block_on(async {
///     let queue = Queue::bounded(2);
///     queue.put(1).await.unwrap();
///     queue.put(2).await.unwrap();
///     assert!(queue.is_full());
///     assert_eq!(queue.get().await, Ok(1));
///     queue.task_done();
///     assert_eq!(queue.get_nowait(), Ok(2));
///     queue.task_done();
///     queue.join().await; // every item was marked done
/// });
/// ```
pub type Queue<T> = GenericQueue<VecDeque<T>>;

/// A last-in, first-out queue (asyncio.LifoQueue).
///
/// # Examples
///
/// ```
/// use weft_sync::LifoQueue;
/// let stack = LifoQueue::unbounded();
/// stack.put_nowait(1).unwrap();
/// stack.put_nowait(2).unwrap();
/// assert_eq!(stack.get_nowait(), Ok(2));
/// ```
pub type LifoQueue<T> = GenericQueue<Vec<T>>;

/// A queue that hands out the smallest item first (asyncio.PriorityQueue).
///
/// # Examples
///
/// ```
/// use weft_sync::PriorityQueue;
/// let queue = PriorityQueue::unbounded();
/// for job in [(2, "later"), (1, "first"), (3, "last")] {
///     queue.put_nowait(job).unwrap();
/// }
/// assert_eq!(queue.get_nowait(), Ok((1, "first")));
/// ```
pub type PriorityQueue<T> = GenericQueue<BinaryHeap<Reverse<T>>>;

/// The queue shared by [`Queue`], [`LifoQueue`] and [`PriorityQueue`]; the
/// storage `S` decides the order.
pub struct GenericQueue<S: QueueStorage> {
    state: Mutex<QueueState<S>>,
}

struct QueueState<S: QueueStorage> {
    items: S,
    /// `None` for an unbounded queue.
    maxsize: Option<usize>,
    /// Items promised to Granted getters (INV-3).
    reserved_items: usize,
    /// Slots promised to Granted putters (INV-3).
    reserved_slots: usize,
    /// Items put and not yet marked done (INV-4).
    unfinished: usize,
    is_shutdown: bool,
    getters: WaitList<()>,
    putters: WaitList<()>,
    joiners: WaitList<()>,
}

impl<S: QueueStorage> QueueState<S> {
    fn free_items(&self) -> usize {
        self.items.len().saturating_sub(self.reserved_items)
    }

    fn has_free_slot(&self) -> bool {
        match self.maxsize {
            Some(maxsize) => self.items.len() + self.reserved_slots < maxsize,
            None => true,
        }
    }

    /// Inserts an item (the caller checked for a slot) and serves a getter.
    fn push_item(&mut self, item: S::Item, wakes: &mut WakeList) {
        self.items.push(item);
        self.unfinished += 1;
        self.settle_getters(wakes);
    }

    /// Removes the next item, freeing a slot for a putter.
    fn pop_item(&mut self, wakes: &mut WakeList) -> Option<S::Item> {
        let item = self.items.pop();
        self.settle_putters(wakes);
        self.settle_getters(wakes);
        item
    }

    /// INV-1 and INV-5: reserve free items for queued getters, in order;
    /// once shut down and empty, close the rest.
    fn settle_getters(&mut self, wakes: &mut WakeList) {
        while self.getters.has_waiters() && self.free_items() > 0 {
            self.reserved_items += 1;
            self.getters.grant_front(wakes);
        }
        if self.is_shutdown && self.items.is_empty() {
            self.getters.close_all(wakes);
        }
    }

    /// INV-2: reserve free slots for queued putters; close them all once shut down.
    fn settle_putters(&mut self, wakes: &mut WakeList) {
        if self.is_shutdown {
            self.putters.close_all(wakes);
            return;
        }
        while self.putters.has_waiters() && self.has_free_slot() {
            self.reserved_slots += 1;
            self.putters.grant_front(wakes);
        }
    }
}

impl<S: QueueStorage> GenericQueue<S> {
    /// A queue holding at most `maxsize` items; `put` waits while it is full.
    ///
    /// # Panics
    ///
    /// If `maxsize` is 0 (asyncio reads 0 as "unbounded"; here say so with
    /// [`unbounded`](Self::unbounded)).
    pub fn bounded(maxsize: usize) -> Self {
        assert!(
            maxsize > 0,
            "a bounded queue needs maxsize >= 1, got 0; use unbounded() for a queue without a limit"
        );
        Self::with_maxsize(Some(maxsize))
    }

    /// A queue without a size limit; `put` never waits.
    pub fn unbounded() -> Self {
        Self::with_maxsize(None)
    }

    fn with_maxsize(maxsize: Option<usize>) -> Self {
        GenericQueue {
            state: Mutex::new(QueueState {
                items: S::default(),
                maxsize,
                reserved_items: 0,
                reserved_slots: 0,
                unfinished: 0,
                is_shutdown: false,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
        }
    }

    /// Puts `item` without waiting.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no slot is free or earlier `put`s are waiting;
    /// [`PutError::ShutDown`] after `shutdown`. Both give the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_sync::{PutError, Queue};
    /// let queue = Queue::bounded(1);
    /// queue.put_nowait('a').unwrap();
    /// assert_eq!(queue.put_nowait('b'), Err(PutError::Full('b')));
    /// ```
    #[doc(alias = "try_put")]
    pub fn put_nowait(&self, item: S::Item) -> Result<(), PutError<S::Item>> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if state.is_shutdown {
            return Err(PutError::ShutDown(item));
        }
        if state.putters.has_waiters() || !state.has_free_slot() {
            return Err(PutError::Full(item));
        }
        state.push_item(item, &mut wakes);
        drop(state);
        wakes.wake_all();
        Ok(())
    }

    /// Takes the next item without waiting.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item is free (all remaining items may be
    /// promised to waiting getters); [`GetError::ShutDown`] once shut down and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_sync::{GetError, Queue};
    /// let queue = Queue::unbounded();
    /// assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(1));
    /// queue.shutdown(false);
    /// assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
    /// ```
    #[doc(alias = "try_get")]
    pub fn get_nowait(&self) -> Result<S::Item, GetError> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if state.free_items() > 0 {
            let item = state.pop_item(&mut wakes);
            drop(state);
            wakes.wake_all();
            return Ok(item.expect("a free item is in the storage (INV-1)"));
        }
        if state.is_shutdown && state.items.is_empty() {
            Err(GetError::ShutDown)
        } else {
            Err(GetError::Empty)
        }
    }

    /// Marks one item taken with `get` as processed; when every item put so
    /// far is done, `join` returns.
    ///
    /// # Panics
    ///
    /// If called more times than items were put.
    ///
    /// # Examples
    ///
    /// ```
    /// # smol::block_on(async {
    /// let queue = weft_sync::Queue::unbounded();
    /// queue.put_nowait("job").unwrap();
    /// let job = queue.get().await.unwrap();
    /// // ... handle `job` ...
    /// queue.task_done();
    /// queue.join().await; // returns: every job is done
    /// # });
    /// ```
    pub fn task_done(&self) {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        assert!(
            state.unfinished > 0,
            "task_done() called more times than items were put into the queue; call it once per item taken with get()"
        );
        state.unfinished -= 1;
        if state.unfinished == 0 {
            state.joiners.grant_all(&mut wakes);
        }
        drop(state);
        wakes.wake_all();
    }

    /// Shuts the queue down (asyncio 3.13 `Queue.shutdown`): later `put`s
    /// fail and return their item; `get`s drain the remaining items, then
    /// fail. With `immediate`, the remaining items are dropped and counted as
    /// done for `join`. Every blocked putter (and, once empty, getter) wakes.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_sync::{Queue, QueueShutDown};
    /// # smol::block_on(async {
    /// let queue = Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown(false);
    /// assert_eq!(queue.put(2).await, Err(QueueShutDown(2))); // the item comes back
    /// assert_eq!(queue.get().await, Ok(1)); // what was queued drains
    /// assert!(queue.get().await.is_err());
    /// # });
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut wakes = WakeList::new();
        let mut dropped = Vec::new();
        let mut state = self.state.lock();
        state.is_shutdown = true;
        if immediate {
            while let Some(item) = state.items.pop() {
                dropped.push(item);
            }
            state.unfinished = state.unfinished.saturating_sub(dropped.len());
            if state.unfinished == 0 {
                state.joiners.grant_all(&mut wakes);
            }
        }
        state.settle_putters(&mut wakes);
        state.settle_getters(&mut wakes);
        drop(state);
        wakes.wake_all();
        // INV-6: item destructors run outside the lock.
        drop(dropped);
    }

    /// True once `shutdown` was called.
    pub fn is_shutdown(&self) -> bool {
        self.state.lock().is_shutdown
    }

    /// The number of items in the queue (asyncio `qsize`).
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    /// True if the queue holds no item.
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if a bounded queue holds `maxsize` items; never for an unbounded one.
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        let state = self.state.lock();
        state
            .maxsize
            .is_some_and(|maxsize| state.items.len() >= maxsize)
    }

    /// The size limit, `None` for an unbounded queue.
    pub fn maxsize(&self) -> Option<usize> {
        self.state.lock().maxsize
    }
}

impl<S: QueueStorage> fmt::Debug for GenericQueue<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("GenericQueue")
            .field("len", &state.items.len())
            .field("maxsize", &state.maxsize)
            .field("unfinished", &state.unfinished)
            .field("is_shutdown", &state.is_shutdown)
            .finish_non_exhaustive()
    }
}
