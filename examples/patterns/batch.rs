//! batch: process a long list in chunks of ten, each chunk gathered
//! concurrently (the asyncio batch_process pattern).
//!
//! Gathering 35 items at once would hold 35 operations in flight; chunking
//! caps it at ten and bounds memory, at the cost of waiting for the slowest
//! item of each chunk before the next starts. (For a sliding window instead
//! of fixed chunks, see the `rate_limit` example's semaphore.)

use std::time::{Duration, Instant};
use weft::time::sleep;

/// Items per chunk.
const BATCH_SIZE: usize = 10;
/// Simulated latency of one item.
const ITEM_LATENCY: Duration = Duration::from_millis(50);

async fn process_item(item: &str) -> usize {
    sleep(ITEM_LATENCY).await;
    item.len()
}

/// 35 items in four chunks.
pub async fn run() -> String {
    let items: Vec<String> = (0..35).map(|i| format!("item-{i}")).collect();
    let started = Instant::now();
    let mut total = 0;
    for (number, batch) in items.chunks(BATCH_SIZE).enumerate() {
        let sizes = weft::gather(batch.iter().map(|item| process_item(item))).await;
        total += sizes.len();
        println!(
            "  processed batch {} ({} items) at {:.2} s",
            number + 1,
            sizes.len(),
            started.elapsed().as_secs_f64()
        );
    }
    let batches = items.len().div_ceil(BATCH_SIZE);
    format!(
        "{total} items in {batches} batches of up to {BATCH_SIZE}, {:.2} s",
        started.elapsed().as_secs_f64()
    )
}
