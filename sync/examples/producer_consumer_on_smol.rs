//! Producer/consumer with `Queue::join` (asyncio's classic queue example):
//! 2 producers, 3 consumers, a bounded queue, `task_done` per item, then
//! `join` and `shutdown` to stop the consumers.
//!
//! Run: `cargo run -p weft-sync --example producer_consumer_on_smol`
//! Read next: `sync/src/queue/mod.rs` (how items are reserved for getters).

use std::sync::Arc;
use weft_sync::Queue;

fn main() {
    smol::block_on(async {
        let queue = Arc::new(Queue::bounded(4));
        let producers: Vec<_> = (0..2)
            .map(|id| {
                let queue = queue.clone();
                smol::spawn(async move {
                    for n in 0..10 {
                        queue
                            .put((id, n))
                            .await
                            .expect("the queue is open while producing");
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|worker| {
                let queue = queue.clone();
                smol::spawn(async move {
                    let mut handled = 0;
                    // `get` fails once the queue is shut down and drained.
                    while let Ok((producer, n)) = queue.get().await {
                        println!("worker {worker} handled item {n} of producer {producer}");
                        handled += 1;
                        queue.task_done();
                    }
                    handled
                })
            })
            .collect();
        for producer in producers {
            producer.await;
        }
        queue.join().await; // every item put has been marked done
        queue.shutdown(false);
        let mut total = 0;
        for consumer in consumers {
            total += consumer.await;
        }
        println!("{total} items handled");
        assert_eq!(total, 20);
    });
}
