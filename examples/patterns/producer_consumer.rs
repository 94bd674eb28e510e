//! producer_consumer: two producers and three consumers around a bounded
//! queue, waiting until every item is processed (asyncio.Queue, task_done,
//! join).
//!
//! `Queue::bounded(10)` applies back-pressure: `put` waits while the queue is
//! full. Each consumer calls `task_done()` per item, and `queue.join()`
//! returns once every item put has been marked done. Then, instead of
//! cancelling the consumers as the Python version does, `shutdown(false)`
//! (asyncio 3.13's Queue.shutdown) makes their `get()` return an error once
//! the queue is drained, and they exit on their own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use weft::sync::Queue;
use weft::time::sleep;

/// Time to produce one item.
const PRODUCE_TIME: Duration = Duration::from_millis(20);
/// Time to process one item.
const CONSUME_TIME: Duration = Duration::from_millis(40);
/// Items each producer makes.
const ITEMS_PER_PRODUCER: usize = 5;

async fn producer(queue: Arc<Queue<String>>, producer_id: usize) {
    for i in 0..ITEMS_PER_PRODUCER {
        let item = format!("item-{producer_id}-{i}");
        queue
            .put(item)
            .await
            .expect("the queue is shut down only after join");
        sleep(PRODUCE_TIME).await;
    }
}

async fn consumer(
    queue: Arc<Queue<String>>,
    consumer_id: usize,
    processed: Arc<AtomicUsize>,
) -> usize {
    let mut mine = 0;
    while let Ok(item) = queue.get().await {
        sleep(CONSUME_TIME).await;
        if mine == 0 {
            println!("  consumer {consumer_id} processing {item} (first of its items)");
        }
        mine += 1;
        processed.fetch_add(1, Ordering::SeqCst);
        queue.task_done();
    }
    mine // get() failed: the queue was shut down and drained
}

/// Runs the pipeline to completion.
pub async fn run() -> String {
    let queue = Arc::new(Queue::bounded(10));
    let processed = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..2)
        .map(|id| weft::spawn(producer(Arc::clone(&queue), id)))
        .collect();
    let consumers: Vec<_> = (0..3)
        .map(|id| weft::spawn(consumer(Arc::clone(&queue), id, Arc::clone(&processed))))
        .collect();

    for result in weft::gather(producers).await {
        result.expect("producers do not panic");
    }
    queue.join().await;
    let done = processed.load(Ordering::SeqCst);
    println!("  queue.join() returned: {done} items processed");
    queue.shutdown(false);
    let per_consumer: Vec<usize> = weft::gather(consumers)
        .await
        .into_iter()
        .map(|result| result.expect("consumers do not panic"))
        .collect();
    println!("  consumers exited after shutdown; items per consumer: {per_consumer:?}");
    assert_eq!(done, 2 * ITEMS_PER_PRODUCER);
    format!("2 producers, 3 consumers, {done} items; split {per_consumer:?}")
}
