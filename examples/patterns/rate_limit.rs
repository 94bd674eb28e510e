//! rate_limit: at most five calls in flight, however many are started
//! (asyncio.Semaphore).
//!
//! Fifteen calls of 100 ms are gathered at once; each first acquires a
//! permit from `Semaphore::new(5)` and releases it when the permit is
//! dropped (the end of `async with semaphore:`). So they run in three waves
//! of five: about 0.3 s, and never more than five at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use weft::sync::Semaphore;
use weft::time::sleep;

/// The concurrency limit.
const MAX_CONCURRENT: usize = 5;
/// Number of calls started.
const CALLS: usize = 15;
/// Simulated latency of one call.
const CALL_LATENCY: Duration = Duration::from_millis(100);

/// Tracks how many calls are inside the limited section.
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
}

async fn api_call(url: String, semaphore: &Semaphore, in_flight: &InFlight) -> u16 {
    let _permit = semaphore.acquire().await; // released when dropped
    let now = in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
    in_flight.peak.fetch_max(now, Ordering::SeqCst);
    sleep(CALL_LATENCY).await;
    in_flight.now.fetch_sub(1, Ordering::SeqCst);
    let _ = url;
    200
}

/// Gathers fifteen rate-limited calls.
pub async fn run() -> String {
    let semaphore = Semaphore::new(MAX_CONCURRENT);
    let in_flight = InFlight {
        now: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    };
    let started = Instant::now();
    let urls = (0..CALLS).map(|i| format!("https://api.example.com/item/{i}"));
    let statuses = weft::gather(urls.map(|url| api_call(url, &semaphore, &in_flight))).await;
    let took = started.elapsed();
    let peak = in_flight.peak.load(Ordering::SeqCst);
    println!(
        "  {} calls answered {:?}.. in {:.2} s; at most {peak} in flight",
        statuses.len(),
        statuses[0],
        took.as_secs_f64()
    );
    assert!(peak <= MAX_CONCURRENT, "the semaphore caps concurrency");
    format!(
        "{CALLS} calls, peak {peak} in flight (limit {MAX_CONCURRENT}), {:.2} s",
        took.as_secs_f64()
    )
}
