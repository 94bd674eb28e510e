//! run_in_executor: blocking or CPU-heavy work goes to the blocking pool so
//! the async workers stay responsive (loop.run_in_executor, asyncio.to_thread).
//!
//! `weft::spawn_blocking(closure)` runs the closure on a separate pool of
//! threads and returns a `JoinHandle` to await. While four 200 ms blocking
//! jobs run there, a ticker task on the async side keeps ticking every 20 ms,
//! which it could not do if the jobs called `std::thread::sleep` on a worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::time::sleep;

/// How long each blocking job blocks its thread.
const JOB_TIME: Duration = Duration::from_millis(200);
/// Period of the responsiveness ticker.
const TICK: Duration = Duration::from_millis(20);

/// A blocking, CPU-ish operation (the asyncio example's `blocking_operation`).
fn blocking_operation(data: u64) -> u64 {
    std::thread::sleep(JOB_TIME);
    data * 2
}

/// Four blocking jobs on the pool while a ticker runs.
pub async fn run() -> String {
    let ticks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (ticks, stop) = (Arc::clone(&ticks), Arc::clone(&stop));
        weft::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                sleep(TICK).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let started = Instant::now();
    let jobs = (1..=4).map(|data| weft::spawn_blocking(move || blocking_operation(data)));
    let results: Vec<u64> = weft::gather(jobs)
        .await
        .into_iter()
        .map(|result| result.expect("blocking jobs do not panic"))
        .collect();
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    ticker.await.expect("the ticker does not panic");
    let ticks = ticks.load(Ordering::SeqCst);
    println!(
        "  4 blocking jobs of {:.1} s returned {results:?} in {:.2} s",
        JOB_TIME.as_secs_f64(),
        took.as_secs_f64()
    );
    println!("  meanwhile the async ticker ticked {ticks} times");
    assert_eq!(results, vec![2, 4, 6, 8]);
    format!(
        "4 blocking jobs in {:.2} s on the pool; async side ticked {ticks} times",
        took.as_secs_f64()
    )
}
