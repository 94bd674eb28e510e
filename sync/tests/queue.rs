//! The queue family, after CPython's `test_queues.py` (including the 3.13
//! `shutdown` tests).

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker};
use std::pin::pin;
use std::task::Poll;
use weft_sync::{GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueShutDown};

/// `maxsize`, `len`, `is_full` and `is_empty` report the queue's shape (test_maxsize).
#[test]
fn shape_queries_follow_the_contents() {
    let queue = Queue::bounded(2);
    assert_eq!(queue.maxsize(), Some(2));
    assert!(queue.is_empty() && !queue.is_full());
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    assert_eq!(queue.len(), 2);
    assert!(queue.is_full());
    assert_eq!(Queue::<u8>::unbounded().maxsize(), None);
    assert!(!Queue::<u8>::unbounded().is_full());
}

/// FIFO, LIFO and priority queues hand items out in their order (test_order).
#[test]
fn each_queue_kind_uses_its_order() {
    let input = [1, 3, 2, 0];
    let fifo = Queue::unbounded();
    let lifo = LifoQueue::unbounded();
    let priority = PriorityQueue::unbounded();
    for item in input {
        fifo.put_nowait(item).unwrap();
        lifo.put_nowait(item).unwrap();
        priority.put_nowait(item).unwrap();
    }
    let drain = |get: &dyn Fn() -> Result<i32, GetError>| {
        std::iter::from_fn(|| get().ok()).collect::<Vec<_>>()
    };
    assert_eq!(drain(&|| fifo.get_nowait()), [1, 3, 2, 0]);
    assert_eq!(drain(&|| lifo.get_nowait()), [0, 2, 3, 1]);
    assert_eq!(drain(&|| priority.get_nowait()), [0, 1, 2, 3]);
}

/// `get_nowait` on an empty queue and `put_nowait` on a full one fail and
/// give the item back (test_nonblocking_get_exception, test_nonblocking_put_exception).
#[test]
fn nowait_operations_fail_with_empty_and_full() {
    let queue = Queue::bounded(1);
    assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    queue.put_nowait("a").unwrap();
    assert_eq!(queue.put_nowait("b"), Err(PutError::Full("b")));
    assert_eq!(PutError::Full("b").into_inner(), "b");
}

/// A blocked `get` is woken by a `put` (test_blocking_get).
#[test]
fn blocked_get_is_woken_by_put() {
    let queue = Queue::unbounded();
    let (wakes, waker) = CountingWaker::new();
    let mut get = pin!(queue.get());
    assert!(poll_with(get.as_mut(), &waker).is_pending());
    queue.put_nowait(7).unwrap();
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_with(get.as_mut(), &waker), Poll::Ready(Ok(7)));
}

/// A blocked `put` is woken by a `get` (test_blocking_put, test_get_with_putters).
#[test]
fn blocked_put_is_woken_by_get() {
    let queue = Queue::bounded(1);
    queue.put_nowait(1).unwrap();
    let mut put = pin!(queue.put(2));
    assert!(poll_once(put.as_mut()).is_pending());
    assert_eq!(
        queue.put_nowait(3),
        Err(PutError::Full(3)),
        "put_nowait must not barge past a waiting put"
    );
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(poll_once(put.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(2));
}

/// A getter cancelled after an item was reserved for it passes the item to
/// the next getter; no item is lost (test_get_cancelled_race).
#[test]
fn getter_cancelled_after_wake_passes_the_item_on() {
    let queue = Queue::unbounded();
    let (b_wakes, waker_b) = CountingWaker::new();
    let mut a = Box::pin(queue.get());
    let mut b = pin!(queue.get());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_with(b.as_mut(), &waker_b).is_pending());
    queue.put_nowait("x").unwrap();
    assert_eq!(
        queue.get_nowait(),
        Err(GetError::Empty),
        "the item is reserved for a waiter"
    );
    drop(a);
    assert_eq!(b_wakes.count(), 1);
    assert_eq!(poll_with(b.as_mut(), &waker_b), Poll::Ready(Ok("x")));
}

/// A dropped `put` inserted nothing, and its reserved slot goes to the next
/// putter (test_put_cancelled_race).
#[test]
fn putter_cancelled_after_wake_inserts_nothing_and_passes_the_slot() {
    let queue = Queue::bounded(1);
    queue.put_nowait(0).unwrap();
    let mut a = Box::pin(queue.put(1));
    let mut b = pin!(queue.put(2));
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0));
    drop(a);
    assert!(queue.is_empty());
    assert_eq!(poll_once(b.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(2));
}

/// `join` waits until every put item was marked done (test_task_done).
#[test]
fn join_waits_for_every_task_done() {
    let queue = Queue::unbounded();
    assert!(
        poll_once(pin!(queue.join())).is_ready(),
        "an empty queue joins at once"
    );
    for item in 0..3 {
        queue.put_nowait(item).unwrap();
    }
    let mut join = pin!(queue.join());
    for _ in 0..3 {
        assert!(poll_once(join.as_mut()).is_pending());
        queue.get_nowait().unwrap();
        queue.task_done();
    }
    assert!(poll_once(join.as_mut()).is_ready());
}

/// More `task_done` calls than items put is a bug and panics
/// (test_task_done_underflow).
#[test]
#[should_panic(expected = "task_done() called more times than items were put")]
fn task_done_without_items_panics() {
    let queue = Queue::<u8>::unbounded();
    queue.put_nowait(1).unwrap();
    queue.task_done();
    queue.task_done();
}

/// `bounded(0)` is rejected with a hint.
#[test]
#[should_panic(expected = "use unbounded()")]
fn bounded_zero_panics() {
    let _ = Queue::<u8>::bounded(0);
}

/// After `shutdown(false)`, puts fail with the item and gets drain the rest
/// (test_shutdown_nonempty).
#[test]
fn shutdown_rejects_puts_and_drains_gets() {
    let queue = Queue::unbounded();
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    queue.shutdown(false);
    assert!(queue.is_shutdown());
    assert_eq!(queue.put_nowait(3), Err(PutError::ShutDown(3)));
    assert_eq!(block_on(queue.put(4)), Err(QueueShutDown(4)));
    assert_eq!(block_on(queue.get()), Ok(1));
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(block_on(queue.get()), Err(QueueShutDown(())));
}

/// `shutdown(true)` drops the items, counts them done for `join`, and wakes
/// blocked getters with an error (test_shutdown_immediate).
#[test]
fn immediate_shutdown_empties_releases_join_and_getters() {
    let queue = Queue::unbounded();
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut join = pin!(queue.join());
    assert!(poll_once(join.as_mut()).is_pending());
    queue.shutdown(true);
    assert!(queue.is_empty());
    assert!(poll_once(join.as_mut()).is_ready());
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
}

/// Blocked getters and putters wake with an error on shutdown (test_shutdown_empty).
#[test]
fn shutdown_wakes_blocked_getters_and_putters() {
    let empty = Queue::<u8>::unbounded();
    let mut get = pin!(empty.get());
    assert!(poll_once(get.as_mut()).is_pending());
    empty.shutdown(false);
    assert_eq!(poll_once(get.as_mut()), Poll::Ready(Err(QueueShutDown(()))));

    let full = Queue::bounded(1);
    full.put_nowait(1).unwrap();
    let mut put = pin!(full.put(2));
    assert!(poll_once(put.as_mut()).is_pending());
    full.shutdown(false);
    assert_eq!(poll_once(put.as_mut()), Poll::Ready(Err(QueueShutDown(2))));
    assert_eq!(
        full.get_nowait(),
        Ok(1),
        "items put before shutdown still drain"
    );
}

/// A getter granted an item just before `shutdown(true)` dropped it fails cleanly.
#[test]
fn getter_granted_before_immediate_shutdown_fails_cleanly() {
    let queue = Queue::unbounded();
    let mut get = pin!(queue.get());
    assert!(poll_once(get.as_mut()).is_pending());
    queue.put_nowait(1).unwrap();
    queue.shutdown(true);
    assert_eq!(poll_once(get.as_mut()), Poll::Ready(Err(QueueShutDown(()))));
    assert!(poll_once(pin!(queue.join())).is_ready());
}

/// Shutting down twice is harmless (test_shutdown_repeated).
#[test]
fn repeated_shutdown_is_harmless() {
    let queue = Queue::<u8>::unbounded();
    queue.shutdown(false);
    queue.shutdown(true);
    queue.shutdown(false);
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
}

/// The stream yields every item, waits while the queue is empty, and ends
/// once the queue is shut down and drained.
#[test]
fn stream_ends_after_shutdown_and_drain() {
    use futures_core::Stream;
    let queue = Queue::unbounded();
    let (_, waker) = CountingWaker::new();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut stream = pin!(queue.stream());
    assert!(stream.as_mut().poll_next(&mut cx).is_pending());
    for item in 0..3 {
        queue.put_nowait(item).unwrap();
    }
    queue.shutdown(false);
    let mut seen = Vec::new();
    while let Poll::Ready(Some(item)) = stream.as_mut().poll_next(&mut cx) {
        seen.push(item);
    }
    assert_eq!(seen, [0, 1, 2]);
    assert_eq!(stream.as_mut().poll_next(&mut cx), Poll::Ready(None));
}

/// Errors render as lowercase messages and give their item back.
#[test]
fn errors_display_and_return_the_item() {
    assert_eq!(QueueShutDown(5).to_string(), "the queue was shut down");
    assert_eq!(QueueShutDown(5).into_inner(), 5);
    assert_eq!(PutError::ShutDown('a').into_inner(), 'a');
    assert_eq!(GetError::Empty.to_string(), "the queue is empty");
}

/// Polling a finished `get` again is a bug and panics instead of taking a
/// second item.
#[test]
#[should_panic(expected = "polled after it completed")]
fn get_polled_after_completion_panics() {
    let queue = Queue::unbounded();
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut get = pin!(queue.get());
    assert_eq!(poll_once(get.as_mut()), Poll::Ready(Ok(1)));
    let _ = poll_once(get.as_mut());
}

/// Blocked getters are served in the order they started waiting: with two
/// items for three getters, the two oldest get them, whoever runs first
/// (as in asyncio, a served getter takes the queue's next item when it runs).
#[test]
fn getters_are_served_in_fifo_order() {
    let queue = Queue::unbounded();
    let mut getters: Vec<_> = (0..3).map(|_| Box::pin(queue.get())).collect();
    for getter in &mut getters {
        assert!(poll_once(getter.as_mut()).is_pending());
    }
    queue.put_nowait("a").unwrap();
    queue.put_nowait("b").unwrap();
    assert!(
        poll_once(getters[2].as_mut()).is_pending(),
        "the newest getter is not served"
    );
    assert_eq!(poll_once(getters[1].as_mut()), Poll::Ready(Ok("a")));
    assert_eq!(poll_once(getters[0].as_mut()), Poll::Ready(Ok("b")));
    queue.put_nowait("c").unwrap();
    assert_eq!(poll_once(getters[2].as_mut()), Poll::Ready(Ok("c")));
}

/// Blocked putters insert in the order they started waiting, and a
/// cancelled putter leaves no trace in the waiting list
/// (test_cancelled_puts_not_being_held_in_self_putters).
#[test]
fn putters_are_served_in_fifo_order_and_cancelled_ones_vanish() {
    let queue = Queue::bounded(1);
    queue.put_nowait(0).unwrap();
    let mut first = pin!(queue.put(1));
    assert!(poll_once(first.as_mut()).is_pending());
    {
        let mut cancelled = pin!(queue.put(99));
        assert!(poll_once(cancelled.as_mut()).is_pending());
    }
    let mut second = pin!(queue.put(2));
    assert!(poll_once(second.as_mut()).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0));
    assert!(
        poll_once(second.as_mut()).is_pending(),
        "the first putter owns the free slot"
    );
    assert_eq!(poll_once(first.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(
        queue.get_nowait(),
        Err(GetError::Empty),
        "the cancelled put inserted nothing"
    );
}

/// A parked getter carries its future: the queue reference and one 4-byte
/// key, packed to 12 bytes, so an `async` block holding an `Arc` of the
/// queue and the future is three words, not four.
#[test]
#[cfg(target_pointer_width = "64")]
fn a_get_future_is_12_bytes_and_an_async_block_around_it_24() {
    let queue = std::sync::Arc::new(weft_sync::Queue::<u64>::unbounded());
    assert_eq!(std::mem::size_of_val(&queue.get()), 12);
    let shared = queue.clone();
    let getting = async move { shared.get().await };
    assert_eq!(std::mem::size_of_val(&getting), 24);
}
