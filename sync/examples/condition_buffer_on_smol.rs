//! A bounded buffer built from one `Lock` and two `Condition`s ("not full",
//! "not empty"): the textbook condition-variable pattern.
//!
//! Run: `cargo run -p weft-sync --example condition_buffer_on_smol`
//! Read next: `sync/src/condition.rs` (why the waiter queues before it
//! releases the lock).

use std::collections::VecDeque;
use std::sync::Arc;
use weft_sync::{Condition, Lock};

/// How many items the buffer holds before producers wait.
const CAPACITY: usize = 3;

struct BoundedBuffer {
    items: Lock<VecDeque<u32>>,
    not_full: Condition,
    not_empty: Condition,
}

impl BoundedBuffer {
    async fn push(&self, item: u32) {
        let guard = self.items.lock().await;
        let mut items = self
            .not_full
            .wait_for(guard, |items| items.len() < CAPACITY)
            .await;
        items.push_back(item);
        self.not_empty.notify_one();
    }

    async fn pop(&self) -> u32 {
        let guard = self.items.lock().await;
        let mut items = self
            .not_empty
            .wait_for(guard, |items| !items.is_empty())
            .await;
        let item = items
            .pop_front()
            .expect("wait_for checked the buffer is not empty");
        self.not_full.notify_one();
        item
    }
}

fn main() {
    smol::block_on(async {
        let buffer = Arc::new(BoundedBuffer {
            items: Lock::new(VecDeque::new()),
            not_full: Condition::new(),
            not_empty: Condition::new(),
        });
        let producer = {
            let buffer = buffer.clone();
            smol::spawn(async move {
                for item in 1..=20 {
                    buffer.push(item).await;
                }
            })
        };
        let mut sum = 0;
        for _ in 1..=20 {
            sum += buffer.pop().await;
        }
        producer.await;
        println!("sum of 1..=20 through a buffer of {CAPACITY}: {sum}");
        assert_eq!(sum, 210);
    });
}
