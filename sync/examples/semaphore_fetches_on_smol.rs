//! Semaphore-limited fetches: 10 "downloads", at most 3 at a time
//! (asyncio's `async with sem:` pattern).
//!
//! Run: `cargo run -p weft-sync --example semaphore_fetches_on_smol`
//! Read next: `sync/src/batch_semaphore.rs` (FIFO permits, cancel-safety).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use weft_sync::Semaphore;

/// At most this many fetches run at once.
const MAX_CONCURRENT_FETCHES: usize = 3;

async fn fetch(url: usize) -> usize {
    smol::Timer::after(Duration::from_millis(20)).await; // stands in for the network
    url * 100
}

fn main() {
    smol::block_on(async {
        let limit = Arc::new(Semaphore::new(MAX_CONCURRENT_FETCHES));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let fetches: Vec<_> = (0..10)
            .map(|url| {
                let (limit, running, peak) = (limit.clone(), running.clone(), peak.clone());
                smol::spawn(async move {
                    let _permit = limit.acquire().await; // released when dropped
                                                         // Relaxed: these counters only feed the printout below.
                    let now = running.fetch_add(1, Ordering::Relaxed) + 1;
                    peak.fetch_max(now, Ordering::Relaxed);
                    let body = fetch(url).await;
                    running.fetch_sub(1, Ordering::Relaxed);
                    body
                })
            })
            .collect();
        let mut bytes = 0;
        for fetch in fetches {
            bytes += fetch.await;
        }
        let peak = peak.load(Ordering::Relaxed);
        println!("fetched {bytes} bytes, at most {peak} at once");
        assert!(peak <= MAX_CONCURRENT_FETCHES);
    });
}
