//! The explore catalogue: small programs, written the way users write them,
//! each with a real concurrency bug that only some task orders show.
//!
//! For every program the tests check three things:
//! 1. `weft::explore::run` with the default options (uniform random, 1,000
//!    seeds) finds the bug; each module's doc says at which seed it did
//!    when the catalogue was written (any seed below 1,000 passes);
//! 2. the seed it prints replays the same failure 10 times out of 10, with
//!    the same schedule (trace hash and step count), and some of the first
//!    100 seeds pass (the bug depends on the order of tasks);
//! 3. the fixed program passes every seed (`#[weft::test(explore = 500)]`).
//!
//! `pct_half_commit` is the bug PCT finds far sooner than uniform random
//! (which misses it in 2,000 seeds), so it is explored with PCT;
//! `engine` tests explore mode itself (determinism, deadlock reports, the
//! real-I/O note, the cost of a seed). One binary with modules, so the
//! memory-checker runs of CI start one process for all of it.

mod abort_move;
mod cache_stampede;
mod check_then_act;
mod condition_if;
mod engine;
mod lock_order;
mod lost_update;
mod lost_wakeup;
mod nested_permits;
mod pct_half_commit;
mod permit_leak;
mod queue_join;
mod race_half_write;

use std::future::Future;
use weft::explore::{self, Failure, Options};

/// Seeds the default explore runs; every catalogue bug is found below it.
pub const DEFAULT_SEEDS: u64 = 1000;

/// Seeds over which a bug must pass at least once: a concurrency bug
/// shows in some task orders only (checked outside memory checkers).
pub const RATE_SEEDS: u64 = 100;

/// True under a memory checker (`WEFT_CHECKER=1`, set by scripts/asan.sh
/// and scripts/memcheck.sh): the replay count shrinks (see [`replays`]).
pub fn is_checker() -> bool {
    std::env::var("WEFT_CHECKER").is_ok_and(|value| value == "1")
}

/// How many times a found seed is replayed: 10, or 2 under a checker.
pub fn replays() -> usize {
    if is_checker() {
        2
    } else {
        10
    }
}

/// Explores `body` with the default options, expects a failure whose reason
/// contains `expected`, and replays its seed [`replays`] times, each time
/// expecting the same reason, steps and trace hash. Returns the failure.
pub fn find_and_replay<F, Fut>(body: F, expected: &str) -> Failure
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    find_and_replay_with(Options::new(), body, expected)
}

/// [`find_and_replay`] under `options` (e.g. another strategy).
pub fn find_and_replay_with<F, Fut>(options: Options, body: F, expected: &str) -> Failure
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let found = explore::run(options.clone(), &body)
        .expect_err("explore (1,000 seeds) should find the bug");
    assert!(
        found.reason().contains(expected),
        "expected a failure mentioning {expected:?}, got:\n{found}"
    );
    assert!(found.seed() < DEFAULT_SEEDS, "{found}");
    assert!(
        found
            .replay_command()
            .starts_with(&format!("WEFT_SEED={} cargo test ", found.seed())),
        "{found}"
    );
    eprintln!(
        "found at seed {} of {DEFAULT_SEEDS}:\n{found}",
        found.seed()
    );
    if !is_checker() {
        let failing = (0..RATE_SEEDS)
            .filter(|&seed| explore::run(options.clone().seed(seed), &body).is_err())
            .count();
        eprintln!("fails {failing} of the first {RATE_SEEDS} seeds");
        assert!(
            (failing as u64) < RATE_SEEDS,
            "every schedule fails: the bug does not depend on the order of tasks"
        );
    }
    for round in 0..replays() {
        let again = explore::run(options.clone().seed(found.seed()), &body)
            .expect_err("the printed seed must fail again");
        assert_eq!(
            (again.reason(), again.steps(), again.trace_hash()),
            (found.reason(), found.steps(), found.trace_hash()),
            "replay {round} of seed {} differs",
            found.seed()
        );
    }
    found
}

/// A stand-in for an awaited call to a database or a service: the task is
/// suspended, as a real network round trip would suspend it.
pub async fn round_trip() {
    weft::yield_now().await;
}
