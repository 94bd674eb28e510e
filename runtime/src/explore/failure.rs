//! Summary: [`Failure`], the report of a failed explore run: which seed,
//! why, how to replay it, and what every task was doing.
//!
//! Role: built by `explore::run` from the run's outcome; printed by the
//! test attribute's expansion (through `Display`) when a seed fails.
//!
//! Design: a plain owned snapshot, so it can outlive the runtime it came
//! from and travel through `Result`/`?` like any error. The reason starts
//! with a fixed word (`panic:`, `deadlock:` or `nondeterministic:`) so
//! tests match on it; the replay command is one line a user can paste.
//!
//! Invariants: none.
//!
//! Concurrency: none (a value).

use super::record::Outcome;
use super::strategy::Strategy;
use crate::debug::TaskDump;
use std::fmt;

/// The environment variable that replays one seed: `WEFT_SEED=<seed>`.
pub const SEED_ENV: &str = "WEFT_SEED";

/// Why an explored run failed, and how to replay it.
///
/// `Display` prints everything a CI log needs: the seed, the strategy, the
/// reason, the one-line replay command (`WEFT_SEED=<seed> cargo test
/// <name>`), a warning when the run used real I/O, and the task dump.
///
/// ```
/// use weft_runtime::explore::{self, Options};
/// // A task's panic fails the run even when the body handles the JoinError.
/// let failure = explore::run(Options::new().seeds(1), || async {
///     let joined = weft_runtime::spawn(async { panic!("boom") }).await;
///     assert!(joined.is_err());
/// })
/// .unwrap_err();
/// assert_eq!(failure.seed(), 0);
/// assert_eq!(failure.reason(), "panic: task 1 panicked: boom");
/// assert!(failure.replay_command().starts_with("WEFT_SEED=0 cargo test"));
/// assert!(failure.to_string().contains("WEFT_SEED=0"));
/// ```
#[derive(Clone, Debug)]
pub struct Failure {
    /// Boxed: a `Result<(), Failure>` stays one pointer wide.
    report: Box<Report>,
}

/// What a [`Failure`] holds.
#[derive(Clone, Debug)]
struct Report {
    seed: u64,
    strategy: Strategy,
    reason: String,
    replay: String,
    notes: Vec<String>,
    steps: u64,
    trace: u64,
    dump: TaskDump,
}

impl Failure {
    pub(crate) fn new(
        seed: u64,
        strategy: Strategy,
        name: &str,
        note: Option<&str>,
        outcome: Outcome,
    ) -> Failure {
        let (reason, dump) = outcome
            .failed
            .unwrap_or_else(|| unreachable!("a Failure is built from a failed run"));
        let mut notes: Vec<String> = note.map(str::to_owned).into_iter().collect();
        if outcome.touched_outside {
            notes.push(
                "the run used sockets, files, spawn_blocking or wakes from other threads, whose timing the seed does not control: the replay may differ".to_owned(),
            );
        }
        let report = Report {
            seed,
            strategy,
            reason,
            replay: format!("{SEED_ENV}={seed} cargo test {name}"),
            notes,
            steps: outcome.steps,
            trace: outcome.trace,
            dump,
        };
        Failure {
            report: Box::new(report),
        }
    }

    /// The seed of the failed run; `Options::new().seed(seed)` or
    /// `WEFT_SEED=<seed>` replays it.
    pub fn seed(&self) -> u64 {
        self.report.seed
    }

    /// The strategy the run used.
    pub fn strategy(&self) -> Strategy {
        self.report.strategy
    }

    /// Why it failed: `"panic: <message>"` (the body or a task panicked),
    /// `"deadlock: ..."` (the body waits and nothing can wake anything), or
    /// `"nondeterministic: ..."` (under `WEFT_EXPLORE_CHECK`, two runs of
    /// the seed polled different tasks).
    pub fn reason(&self) -> &str {
        &self.report.reason
    }

    /// The shell command that replays this run:
    /// `WEFT_SEED=<seed> cargo test <name>`.
    pub fn replay_command(&self) -> &str {
        &self.report.replay
    }

    /// The tasks alive when the run stopped: for a deadlock, the ones that
    /// wait forever.
    pub fn dump(&self) -> &TaskDump {
        &self.report.dump
    }

    /// How many scheduling choices the run made before it stopped.
    pub fn steps(&self) -> u64 {
        self.report.steps
    }

    /// The hash of the run's schedule (the ids of the tasks polled, in
    /// order): the same seed gives the same hash on every run.
    pub fn trace_hash(&self) -> u64 {
        self.report.trace
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = &self.report;
        writeln!(
            f,
            "explored schedule failed: seed {} (strategy {}, {} steps)",
            report.seed, report.strategy, report.steps
        )?;
        writeln!(f, "  {}", report.reason)?;
        writeln!(f, "  replay: {}", report.replay)?;
        for note in &report.notes {
            writeln!(f, "  note: {note}")?;
        }
        if report.dump.tasks().is_empty() {
            write!(f, "  no task was alive")
        } else {
            writeln!(f, "  tasks alive:")?;
            write!(f, "{}", report.dump)
        }
    }
}

impl std::error::Error for Failure {}
