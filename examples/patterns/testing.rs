//! testing: the paused test clock makes time-based code testable instantly
//! (pytest-asyncio, plus what asyncio lacks: virtual time).
//!
//! A runtime built with `start_paused(true)` (or a test marked
//! `#[weft::test(start_paused = true)]`, see `tests/patterns_testing.rs`)
//! does not sleep when every task is waiting on a timer: it jumps the clock
//! to the next deadline. An hour-long sleep and a five-second timeout finish
//! in microseconds of real time, deterministically.

use std::time::{Duration, Instant as WallClock};
use weft::time::{sleep, timeout, Instant};

/// Simulated wait that would be far too long for a real test.
const ONE_HOUR: Duration = Duration::from_secs(3600);

/// Runs time-heavy code on a paused current-thread runtime.
pub fn run() -> String {
    let runtime = weft::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds");
    let wall = WallClock::now();
    let (virtual_elapsed, timed_out) = runtime.block_on(async {
        let start = Instant::now();
        sleep(ONE_HOUR).await;
        let slow = timeout(Duration::from_secs(5), sleep(Duration::from_secs(10))).await;
        (start.elapsed(), slow.is_err())
    });
    let wall = wall.elapsed();
    println!(
        "  virtual time passed: {} s; real time: {:.3} s; 5 s timeout fired: {timed_out}",
        virtual_elapsed.as_secs(),
        wall.as_secs_f64()
    );
    assert!(virtual_elapsed >= ONE_HOUR + Duration::from_secs(5));
    assert!(timed_out);
    format!(
        "{} s of virtual time in {:.3} s of real time",
        virtual_elapsed.as_secs(),
        wall.as_secs_f64()
    )
}
