//! condition: a bounded buffer where producers wait for room and consumers
//! wait for items (asyncio.Condition).
//!
//! The buffer is a `Lock<VecDeque>` holding at most three items. Two
//! `Condition`s signal the two events: `not_full` and `not_empty`.
//! `wait_for(guard, predicate)` releases the lock while waiting and
//! re-checks the predicate under the lock after each notification, the
//! `while not predicate(): await cond.wait()` loop in one call. weft's
//! `Condition` is not bound to one lock, so a single lock serves both.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use weft::sync::{Condition, Lock};
use weft::time::sleep;

/// Room in the buffer.
const CAPACITY: usize = 3;
/// Items passed through it.
const ITEMS: u32 = 12;
/// Time a consumer spends on one item.
const CONSUME_TIME: Duration = Duration::from_millis(10);

/// The shared bounded buffer.
struct BoundedBuffer {
    items: Lock<VecDeque<u32>>,
    not_full: Condition,
    not_empty: Condition,
}

impl BoundedBuffer {
    async fn put(&self, item: u32) -> usize {
        let guard = self.items.lock().await;
        let mut items = self
            .not_full
            .wait_for(guard, |items| items.len() < CAPACITY)
            .await;
        items.push_back(item);
        let len = items.len();
        drop(items);
        self.not_empty.notify_one();
        len
    }

    async fn get(&self) -> u32 {
        let guard = self.items.lock().await;
        let mut items = self
            .not_empty
            .wait_for(guard, |items| !items.is_empty())
            .await;
        let item = items.pop_front().expect("the predicate saw an item");
        drop(items);
        self.not_full.notify_one();
        item
    }
}

/// One fast producer, one slow consumer, capacity three.
pub async fn run() -> String {
    let buffer = Arc::new(BoundedBuffer {
        items: Lock::new(VecDeque::new()),
        not_full: Condition::new(),
        not_empty: Condition::new(),
    });
    let producer = {
        let buffer = Arc::clone(&buffer);
        weft::spawn(async move {
            let mut fullest = 0;
            for item in 0..ITEMS {
                fullest = fullest.max(buffer.put(item).await);
            }
            fullest
        })
    };
    let mut received = Vec::new();
    for _ in 0..ITEMS {
        received.push(buffer.get().await);
        sleep(CONSUME_TIME).await;
    }
    let fullest = producer.await.expect("the producer does not panic");
    println!("  consumer received {received:?}");
    println!("  the buffer never held more than {fullest} items (capacity {CAPACITY})");
    assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
    assert!(fullest <= CAPACITY);
    format!("{ITEMS} items in order through a buffer of {CAPACITY}; peak fill {fullest}")
}
