//! Summary: the futures of the queue family: [`Put`], [`Get`], [`Join`] and
//! the [`QueueStream`] adapter, and the queue methods that make them
//! (`put`, `get`, `join`, `stream`), so that `mod.rs` uses nothing of this
//! file.
//!
//! Role: each follows the register/notify/cancel protocol of `waitlist.rs`
//! against `QueueState` (see the invariants INV-1..INV-6 in `queue/mod.rs`).
//! Their `Drop` impls are the cancel side (C1–C3): they hand a reserved item
//! or slot to the next waiter.

use super::{GenericQueue, QueueShutDown, QueueStorage};
use crate::waitlist::{Grant, WaiterKey, WakeList};
use futures_core::Stream;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The methods that make the futures below: here, beside them, so
/// `mod.rs` (the state and the non-waiting methods) uses nothing of this
/// file and every arrow between the two points down.
impl<S: QueueStorage> GenericQueue<S> {
    /// Puts `item` in the queue, waiting for a free slot if it is full.
    ///
    /// Cancel-safe: if the future is dropped before it returns `Ready`, the
    /// item was not inserted (it is dropped with the future).
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] with the item if the queue is (or gets) shut down first.
    pub fn put(&self, item: S::Item) -> Put<'_, S> {
        Put::new(self, item)
    }

    /// Takes the next item, waiting while the queue is empty.
    ///
    /// Cancel-safe: a dropped `get()` consumes no item; an item reserved for
    /// it goes to the next getter.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`] once the queue is shut down and drained.
    pub fn get(&self) -> Get<'_, S> {
        Get::new(self)
    }

    /// Waits until every item put so far has been marked with `task_done`.
    pub fn join(&self) -> Join<'_, S> {
        Join::new(self)
    }

    /// The items as a [`Stream`] (`async for item in queue`); it ends once
    /// the queue is shut down and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_core::Stream;
    /// use std::pin::pin;
    /// # smol::block_on(async {
    /// let queue = weft_sync::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown(false);
    /// let mut items = pin!(queue.stream());
    /// let next = std::future::poll_fn(|cx| items.as_mut().poll_next(cx));
    /// assert_eq!(next.await, Some(1));
    /// # });
    /// ```
    pub fn stream(&self) -> QueueStream<'_, S> {
        QueueStream::new(self)
    }
}

/// Future of [`GenericQueue::put`].
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, S: QueueStorage> {
    queue: &'a GenericQueue<S>,
    /// The item until it is inserted or handed back.
    item: Option<S::Item>,
    /// Set while queued for a slot.
    key: Option<WaiterKey>,
}

/// Future of [`GenericQueue::get`].
///
/// 12 bytes on a 64-bit target, packed to an alignment of 4 (the queue
/// reference and one 4-byte key, which also says "done"), so that an
/// `async` block holding an `Arc` of the queue and this future is three
/// words, its tag beside the `Arc`; every parked getter carries one.
#[must_use = "futures do nothing unless polled"]
#[repr(C, packed(4))]
pub struct Get<'a, S: QueueStorage> {
    queue: &'a GenericQueue<S>,
    /// Set while queued for an item; [`WaiterKey::NOT_ISSUED`] once `Ready`
    /// was returned (a second poll must not take another item).
    key: Option<WaiterKey>,
}

/// Future of [`GenericQueue::join`].
#[must_use = "futures do nothing unless polled"]
pub struct Join<'a, S: QueueStorage> {
    queue: &'a GenericQueue<S>,
    key: Option<WaiterKey>,
}

/// Stream of [`GenericQueue::stream`]: yields items until the queue is shut
/// down and drained.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<'a, S: QueueStorage> {
    queue: &'a GenericQueue<S>,
    /// The `get` in progress, kept across polls so its place in line is kept.
    pending: Option<Get<'a, S>>,
}

// The item is moved out, never pinned; no field is structurally pinned.
impl<S: QueueStorage> Unpin for Put<'_, S> {}

impl<'a, S: QueueStorage> Put<'a, S> {
    pub(super) fn new(queue: &'a GenericQueue<S>, item: S::Item) -> Self {
        Put {
            queue,
            item: Some(item),
            key: None,
        }
    }
}

impl<S: QueueStorage> Future for Put<'_, S> {
    type Output = Result<(), QueueShutDown<S::Item>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut wakes = WakeList::new();
            let mut state = this.queue.state.lock();
            let may_insert = match this.key {
                None => {
                    if state.is_shutdown {
                        false
                    } else if !state.putters.has_waiters() && state.has_free_slot() {
                        true
                    } else {
                        this.key = Some(state.putters.push_back((), cx.waker()));
                        return Poll::Pending;
                    }
                }
                Some(key) => match state.putters.poll(key, cx.waker()) {
                    Grant::Waiting => return Poll::Pending,
                    Grant::Granted => {
                        state.putters.remove(key);
                        state.reserved_slots -= 1;
                        this.key = None;
                        !state.is_shutdown
                    }
                    Grant::Closed => {
                        state.putters.remove(key);
                        this.key = None;
                        false
                    }
                },
            };
            let item = this
                .item
                .take()
                .expect("put future polled after it completed");
            if !may_insert {
                return Poll::Ready(Err(QueueShutDown(item)));
            }
            state.push_item(item, &mut wakes);
            drop(state);
            wakes.wake_all();
            Poll::Ready(Ok(()))
        })
    }
}

impl<S: QueueStorage> Drop for Put<'_, S> {
    /// C2: a granted putter hands its reserved slot to the next putter.
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut state = self.queue.state.lock();
        if let (Grant::Granted, ()) = state.putters.remove(key) {
            state.reserved_slots -= 1;
            state.settle_putters(&mut wakes);
        }
        drop(state);
        wakes.wake_all();
        // The unsent item is dropped with `self`, outside the lock (INV-6).
    }
}

impl<'a, S: QueueStorage> Get<'a, S> {
    pub(super) fn new(queue: &'a GenericQueue<S>) -> Self {
        Get { queue, key: None }
    }
}

impl<S: QueueStorage> Future for Get<'_, S> {
    type Output = Result<S::Item, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            assert!(
                this.key != Some(WaiterKey::NOT_ISSUED),
                "queue get future polled after it completed; call get() again"
            );
            let poll = this.poll_item(cx);
            if poll.is_ready() {
                this.key = Some(WaiterKey::NOT_ISSUED);
            }
            poll
        })
    }
}

impl<S: QueueStorage> Get<'_, S> {
    /// R1–R4 against the getters' list (INV-1, INV-3, INV-5).
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Result<S::Item, QueueShutDown>> {
        let this = self;
        let mut wakes = WakeList::new();
        let mut state = this.queue.state.lock();
        match this.key {
            None => {
                if state.free_items() == 0 {
                    if state.is_shutdown && state.items.is_empty() {
                        return Poll::Ready(Err(QueueShutDown(())));
                    }
                    this.key = Some(state.getters.push_back((), cx.waker()));
                    return Poll::Pending;
                }
            }
            Some(key) => match state.getters.poll(key, cx.waker()) {
                Grant::Waiting => return Poll::Pending,
                Grant::Granted => {
                    state.getters.remove(key);
                    state.reserved_items -= 1;
                    this.key = None;
                }
                Grant::Closed => {
                    state.getters.remove(key);
                    this.key = None;
                    return Poll::Ready(Err(QueueShutDown(())));
                }
            },
        }
        // Either a free item exists, or one was reserved for us. After
        // shutdown(immediate) the reserved item may have been dropped.
        let item = state.pop_item(&mut wakes);
        drop(state);
        wakes.wake_all();
        Poll::Ready(item.ok_or(QueueShutDown(())))
    }
}

impl<S: QueueStorage> Drop for Get<'_, S> {
    /// C2: an item reserved for this getter goes to the next one.
    fn drop(&mut self) {
        let Some(key) = self.key.take().filter(|&key| key != WaiterKey::NOT_ISSUED) else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut state = self.queue.state.lock();
        if let (Grant::Granted, ()) = state.getters.remove(key) {
            state.reserved_items -= 1;
            state.settle_getters(&mut wakes);
        }
        drop(state);
        wakes.wake_all();
    }
}

impl<'a, S: QueueStorage> Join<'a, S> {
    pub(super) fn new(queue: &'a GenericQueue<S>) -> Self {
        Join { queue, key: None }
    }
}

impl<S: QueueStorage> Future for Join<'_, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        crate::budget::budgeted(cx, |cx| {
            let this = &mut *self;
            let mut state = this.queue.state.lock();
            match this.key {
                None if state.unfinished == 0 => Poll::Ready(()),
                None => {
                    this.key = Some(state.joiners.push_back((), cx.waker()));
                    Poll::Pending
                }
                Some(key) => match state.joiners.poll(key, cx.waker()) {
                    Grant::Waiting => Poll::Pending,
                    Grant::Granted | Grant::Closed => {
                        state.joiners.remove(key);
                        this.key = None;
                        Poll::Ready(())
                    }
                },
            }
        })
    }
}

impl<S: QueueStorage> Drop for Join<'_, S> {
    /// Every joiner is released together (INV-4): nothing to hand on.
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.state.lock().joiners.remove(key);
        }
    }
}

impl<'a, S: QueueStorage> QueueStream<'a, S> {
    pub(super) fn new(queue: &'a GenericQueue<S>) -> Self {
        QueueStream {
            queue,
            pending: None,
        }
    }
}

impl<S: QueueStorage> Stream for QueueStream<'_, S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let queue = self.queue;
        let get = self.pending.get_or_insert_with(|| Get::new(queue));
        let result = match Pin::new(get).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.pending = None;
        Poll::Ready(result.ok())
    }
}

impl<S: QueueStorage> fmt::Debug for Put<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("is_queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: QueueStorage> fmt::Debug for Get<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("is_queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: QueueStorage> fmt::Debug for Join<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("is_queued", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: QueueStorage> fmt::Debug for QueueStream<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream").finish_non_exhaustive()
    }
}
