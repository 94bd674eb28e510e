//! testing: the paused test clock makes time-based code testable instantly
//! (pytest-asyncio, plus what asyncio lacks: virtual time).
//!
//! A runtime built with `start_paused(true)` (or a test marked
//! `#[weft::test(start_paused = true)]`, see `tests/patterns_testing.rs`)
//! does not sleep when every task is waiting on a timer: it jumps the clock
//! to the next deadline. An hour-long sleep and a five-second timeout finish
//! in microseconds of real time, deterministically.
//!
//! The second half goes where asyncio's tools stop: schedule exploration.
//! `weft::explore::run` runs a body under many seeded task orders (each on a
//! fresh paused runtime); two transfers that lock two accounts in opposite
//! orders deadlock in some orders only. Explore finds such a seed, the seed
//! replays the very same schedule, and the fixed version (one lock order)
//! passes every seed. In a test: `#[weft::test(explore = 500)]`, replayed
//! with `WEFT_SEED=<seed> cargo test <name>` (`tests/explore/`).

use std::sync::Arc;
use std::time::{Duration, Instant as WallClock};
use weft::explore::{self, Options};
use weft::sync::Lock;
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
    let seed = find_and_replay_a_deadlock();
    format!(
        "{} s of virtual time in {:.3} s of real time; explore: deadlock at seed {seed}, replayed",
        virtual_elapsed.as_secs(),
        wall.as_secs_f64()
    )
}

/// Seeds explored (each a fresh runtime; well under a second in all).
const SEEDS: u64 = 200;

/// Two accounts, each behind its own lock.
type Accounts = (Arc<Lock<i64>>, Arc<Lock<i64>>);

/// Moves `amount` from `from` to `to`, awaiting an audit record between
/// taking the two locks, which it takes in the order given.
async fn transfer(from: Arc<Lock<i64>>, to: Arc<Lock<i64>>, amount: i64) {
    let mut source = from.lock().await;
    weft::yield_now().await; // write the audit record
    *to.lock().await += amount;
    *source -= amount;
}

/// Both transfers at once; `fixed` takes the locks in one global order.
async fn transfers_both_ways(fixed: bool) {
    let (a, b): Accounts = (Arc::new(Lock::new(100)), Arc::new(Lock::new(100)));
    let there = weft::spawn(transfer(a.clone(), b.clone(), 30));
    let back = if fixed {
        // Same lock order (a, then b), moving the money the other way.
        weft::spawn(transfer(a.clone(), b.clone(), -10))
    } else {
        weft::spawn(transfer(b.clone(), a.clone(), 10))
    };
    there.await.unwrap();
    back.await.unwrap();
    assert_eq!(*a.lock().await + *b.lock().await, 200);
}

/// Explores the buggy transfers, replays the failing seed, checks the fix.
fn find_and_replay_a_deadlock() -> u64 {
    let found = explore::run(Options::new().seeds(SEEDS), || transfers_both_ways(false))
        .expect_err("some order deadlocks");
    println!(
        "  explore: seed {} of {SEEDS} fails: {}",
        found.seed(),
        found.reason().split(',').next().unwrap_or_default()
    );
    let again = explore::run(Options::new().seed(found.seed()), || {
        transfers_both_ways(false)
    })
    .expect_err("the seed replays the deadlock");
    assert_eq!(again.trace_hash(), found.trace_hash());
    println!(
        "  replayed seed {}: same schedule ({} steps, trace {:016x})",
        found.seed(),
        again.steps(),
        again.trace_hash()
    );
    explore::run(Options::new().seeds(SEEDS), || transfers_both_ways(true))
        .unwrap_or_else(|failure| panic!("the fixed transfers failed: {failure}"));
    println!("  one lock order: all {SEEDS} seeds pass");
    found.seed()
}
