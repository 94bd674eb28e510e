//! Schedule exploration: run a test body under many seeded schedules, and
//! replay the one that failed from its seed.
//!
//! # Summary
//!
//! [`run`] runs `body` once per seed, each time on a fresh current-thread
//! runtime with the paused test clock, in *explore mode*: every choice the
//! runtime makes (which runnable task, or the body itself, is polled next;
//! so also the order in which a batch of wakes or of timers due at the same
//! instant is served) is drawn from the seed by a [`Strategy`]. The first
//! seed whose run panics (in the body or in any task, awaited or not) or
//! deadlocks is returned as a [`Failure`], with the seed, the strategy, the
//! command that replays it and the task dump. `#[weft::test(explore = N)]`
//! wraps a test in it.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::Arc;
//! use weft_runtime::explore::{self, Options};
//!
//! // Two tasks increment a counter with a read, an await, then a write:
//! // a lost update, which only some orders show.
//! async fn lost_update() {
//!     let counter = Arc::new(AtomicU32::new(0));
//!     let tasks: Vec<_> = (0..2)
//!         .map(|_| {
//!             let counter = counter.clone();
//!             weft_runtime::spawn(async move {
//!                 let seen = counter.load(Ordering::SeqCst);
//!                 weft_runtime::yield_now().await;
//!                 counter.store(seen + 1, Ordering::SeqCst);
//!             })
//!         })
//!         .collect();
//!     for task in tasks {
//!         task.await.unwrap();
//!     }
//!     assert_eq!(counter.load(Ordering::SeqCst), 2, "an increment was lost");
//! }
//!
//! let failure = explore::run(Options::new().seeds(200), lost_update).unwrap_err();
//! assert!(failure.reason().starts_with("panic: "));
//! assert!(failure.reason().contains("an increment was lost"));
//!
//! // The seed replays the same schedule, so the same failure.
//! let again = explore::run(Options::new().seed(failure.seed()), lost_update);
//! assert_eq!(again.unwrap_err().reason(), failure.reason());
//! ```
//!
//! # Role
//!
//! Users call [`run`] (or the test attribute, which expands to it). It
//! builds each runtime with an `ExploreRun` in its configuration; the
//! current-thread `block_on` then hands its core to the explore drive loop
//! (`scheduler/explore.rs`), which asks a `Chooser` (`strategy.rs`) for
//! every step and reports the run's trace back through the `ExploreRun`.
//!
//! # Design
//!
//! Explore mode replaces one decision point, not the scheduler: wakes and
//! spawns still land in the core's LIFO slot and deque exactly as in the
//! normal current-thread runtime; the explore loop drains them into a pool
//! and lets the strategy pick. The normal runtime's loop is untouched and
//! pays nothing (a runtime checks once per `block_on` which loop to run).
//! Because the pick is made among *all* runnable tasks, the order in which
//! a batch of wakes arrived (a timer slot firing several sleeps at the same
//! instant, `Event::set` releasing every waiter) has no say: the seed
//! decides who goes first.
//!
//! What makes one seed one schedule:
//! - the paused clock: time moves only when nothing can run, to the next
//!   timer deadline, so timers fire at the same steps every time;
//! - task ids count from 1 in every explore runtime (they are unique within
//!   the runtime, not the process), and choices name tasks by id, never by
//!   address;
//! - the strategy's generator is seeded from the seed alone (EXP-1).
//!
//! Real sockets, files and `spawn_blocking` still work, but their timing
//! comes from the OS: a run that used them may not replay, and its
//! [`Failure`] says so. Setting `WEFT_EXPLORE_CHECK=1` runs every seed
//! twice and fails on the first seed whose two traces differ.
//!
//! PCT needs the run's length `k` to place its change points. It is
//! measured once per [`run`] call, by one extra run of the body under
//! [`Strategy::Random`] with a fixed seed ([`HORIZON_SEED`]), so a replay
//! of any seed measures the same `k` and makes the same choices.
//!
//! Rejected: recording and replaying a schedule file (a seed is one number
//! to paste into a shell; a file has to be kept with the CI logs);
//! exploring the multi-thread runtime (its interleavings are the OS's to
//! choose, which is loom's ground; the bugs of async code are in the order
//! tasks run between awaits, which one thread shows).
//!
//! # Invariants
//!
//! - EXP-1..EXP-3: see `strategy.rs`.
//! - EXP-4: an explore runtime's task ids are 1, 2, 3, ... in spawn order.
//! - EXP-5: a run is reported as a deadlock only when nothing is runnable,
//!   the body is not woken, no timer is pending, no I/O source is
//!   registered and the blocking pool has no work in flight.
//!
//! # Concurrency
//!
//! One thread drives each run. An `ExploreRun` is shared with the
//! runtime through an `Arc`; its id counter is atomic because `Handle`s
//! may spawn from other threads (which makes the run nondeterministic).

mod failure;
mod record;
pub(crate) mod strategy;

pub use failure::{Failure, SEED_ENV};
pub use strategy::Strategy;

pub(crate) use record::{Abort, ExploreRun, Outcome, Record};

use crate::debug::UnhandledPanic;
use crate::Builder;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Seeds run when [`Options::seeds`] is not called.
pub const DEFAULT_SEEDS: u64 = 1000;

/// The seed of the extra run that measures a body's length for PCT.
pub const HORIZON_SEED: u64 = u64::MAX;

/// The environment variable that runs every seed twice and compares the
/// traces: `WEFT_EXPLORE_CHECK=1`.
pub const CHECK_ENV: &str = "WEFT_EXPLORE_CHECK";

/// What [`run`] explores: how many seeds (or which one) and the strategy.
///
/// ```
/// use weft_runtime::explore::{Options, Strategy};
/// let options = Options::new().seeds(500).strategy(Strategy::Pct { depth: 2 });
/// assert_eq!(options.seed_list(), (0..500).collect::<Vec<_>>());
/// assert_eq!(Options::new().seeds(500).seed(42).seed_list(), [42]);
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    seeds: u64,
    seed: Option<u64>,
    strategy: Strategy,
    name: Option<String>,
    check: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl Options {
    /// [`DEFAULT_SEEDS`] seeds, [`Strategy::Random`].
    pub fn new() -> Options {
        Options {
            seeds: DEFAULT_SEEDS,
            seed: None,
            strategy: Strategy::Random,
            name: None,
            check: false,
        }
    }

    /// Runs seeds `0..count`.
    pub fn seeds(mut self, count: u64) -> Options {
        self.seeds = count;
        self
    }

    /// Runs exactly `seed`, once, whatever [`seeds`](Options::seeds) says.
    pub fn seed(mut self, seed: u64) -> Options {
        self.seed = Some(seed);
        self
    }

    /// The strategy every run uses.
    pub fn strategy(mut self, strategy: Strategy) -> Options {
        self.strategy = strategy;
        self
    }

    /// The test name printed in the replay command. By default, the name of
    /// the current thread, which the standard test harness sets to the
    /// test's path (`module::test_name`).
    pub fn name(mut self, name: impl Into<String>) -> Options {
        self.name = Some(name.into());
        self
    }

    /// Runs every seed twice and fails on the first whose two runs polled
    /// different tasks (as `WEFT_EXPLORE_CHECK=1` does): proves the body is
    /// deterministic under explore mode, so its failures replay.
    pub fn check(mut self, on: bool) -> Options {
        self.check = on;
        self
    }

    /// The seeds [`run`] will try, in order, ignoring the environment.
    pub fn seed_list(&self) -> Vec<u64> {
        match self.seed {
            Some(seed) => vec![seed],
            None => (0..self.seeds).collect(),
        }
    }
}

/// Runs `body` under one explored schedule per seed (see the module doc).
///
/// Each run gets a fresh current-thread runtime with the clock paused.
/// `WEFT_SEED=<seed>` in the environment runs only that seed;
/// `WEFT_EXPLORE_CHECK=1` runs each seed twice and fails if the two runs'
/// schedules differ.
///
/// # Errors
///
/// The [`Failure`] of the first seed whose run panicked (the body or any
/// task), deadlocked, or (under `WEFT_EXPLORE_CHECK`) did not repeat.
///
/// # Panics
///
/// Panics when called inside a runtime (it builds its own), when
/// `WEFT_SEED` is set to something that is not a number, when the runtime
/// cannot be built, and on `Strategy::Pct { depth: 0 }`.
pub fn run<F, Fut>(options: Options, body: F) -> Result<(), Failure>
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let seeds = match seed_from_env() {
        Some(seed) => vec![seed],
        None => options.seed_list(),
    };
    let check = options.check || std::env::var_os(CHECK_ENV).is_some_and(|value| value != "0");
    let name = options.name.clone().unwrap_or_else(|| {
        std::thread::current()
            .name()
            .unwrap_or("<test name>")
            .to_owned()
    });
    let report = |seed: u64, note: Option<&str>, outcome: Outcome| {
        Failure::new(seed, options.strategy, &name, note, outcome)
    };
    let horizon = match options.strategy {
        Strategy::Random => 0,
        Strategy::Pct { .. } => {
            let measured = run_once(HORIZON_SEED, Strategy::Random, 0, &body);
            if measured.failed.is_some() {
                let first = seeds.first().copied().unwrap_or(0);
                let note = "the run that measures the body's length for PCT failed (every seed starts with it)";
                return Err(report(first, Some(note), measured));
            }
            measured.steps
        }
    };
    for seed in seeds {
        let outcome = run_once(seed, options.strategy, horizon, &body);
        if outcome.failed.is_some() {
            return Err(report(seed, None, outcome));
        }
        if check {
            let again = run_once(seed, options.strategy, horizon, &body);
            if (again.steps, again.trace) != (outcome.steps, outcome.trace)
                || again.failed.is_some()
            {
                let reason = format!(
                    "nondeterministic: two runs of seed {seed} polled different tasks ({} steps, trace {:016x}; then {} steps, trace {:016x})",
                    outcome.steps, outcome.trace, again.steps, again.trace
                );
                let mismatch = Outcome {
                    failed: Some((
                        reason,
                        again.failed.map(|(_, dump)| dump).unwrap_or_default(),
                    )),
                    ..again
                };
                return Err(report(seed, None, mismatch));
            }
        }
    }
    Ok(())
}

/// `WEFT_SEED`, parsed.
fn seed_from_env() -> Option<u64> {
    let value = std::env::var(SEED_ENV).ok()?;
    let value = value.trim();
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    match parsed {
        Ok(seed) => Some(seed),
        Err(_) => panic!(
            "{SEED_ENV} must be a seed printed by a failed explore run (a number), got {value:?}"
        ),
    }
}

/// Runs `body` once under `seed`.
fn run_once<F, Fut>(seed: u64, strategy: Strategy, horizon: u64, body: &F) -> Outcome
where
    F: Fn() -> Fut,
    Fut: Future,
{
    let explore = Arc::new(ExploreRun::new(seed, strategy, horizon));
    let runtime = Builder::new_current_thread()
        .start_paused(true)
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .explore(explore.clone())
        .build()
        .unwrap_or_else(|err| panic!("failed to build the weft runtime for an explore run: {err}"));
    let result = catch_unwind(AssertUnwindSafe(|| runtime.block_on(body())));
    let shared = &runtime.handle().shared;
    let record = explore.record();
    let touched_outside = record.remote_wakes
        || shared.driver().has_registered_io()
        || runtime.handle().blocking.num_alive() > 0;
    let failed = result.err().map(|payload| {
        let reason = match payload.downcast::<Abort>() {
            Ok(abort) => match *abort {
                Abort::Deadlock { waiting } => format!(
                    "deadlock: the body has not finished, {waiting} task(s) wait, and nothing can wake them (no task runnable, no timer pending, no I/O registered)"
                ),
                Abort::TaskPanicked(message) => format!("panic: {message}"),
            },
            Err(payload) => {
                let message = crate::task::panic_message(&*payload)
                    .unwrap_or("the body panicked with a non-string payload");
                format!("panic: {message}")
            }
        };
        (reason, runtime.handle().dump())
    });
    drop(runtime);
    Outcome {
        steps: record.steps,
        trace: record.trace,
        touched_outside,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// `WEFT_SEED` runs that one seed, whatever the options say; a value
    /// that is not a seed is refused with a message naming it. (The only
    /// test of this crate that sets the variable: tests share the process
    /// environment.)
    #[test]
    fn the_seed_in_the_environment_runs_alone() {
        let runs = AtomicU64::new(0);
        let body = || {
            runs.fetch_add(1, Ordering::SeqCst);
            async {}
        };
        std::env::set_var(SEED_ENV, "0x1f");
        let result = run(Options::new().seeds(50), body);
        std::env::set_var(SEED_ENV, "seven");
        let refused = catch_unwind(AssertUnwindSafe(|| run(Options::new().seeds(50), body)));
        std::env::remove_var(SEED_ENV);
        assert!(result.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1, "one run for WEFT_SEED=0x1f");
        let message = refused.expect_err("a bad WEFT_SEED panics");
        let message = crate::task::panic_message(&*message).unwrap_or_default();
        assert!(message.contains("\"seven\""), "{message}");
        assert_eq!(seed_from_env(), None);
    }
}
