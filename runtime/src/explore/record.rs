//! Summary: what one explore run shares with the runtime that runs it:
//! [`ExploreRun`] (its seed, strategy, per-run task ids and the record the
//! drive loop writes), the [`Abort`] payloads the drive loop unwinds with,
//! and the [`Outcome`] `run` turns into a `Failure`.
//!
//! Role: `explore::run` (`mod.rs`) creates an `ExploreRun` per seed and
//! builds a runtime with it; the scheduler (`Config::explore`,
//! `scheduler/explore.rs`) reads ids and the chooser from it and writes
//! its record.
//!
//! Design: below both `explore::run` (which builds runtimes) and the
//! scheduler (which the builder builds): rejected, these types in
//! `mod.rs` beside `run`, which made `builder -> scheduler -> explore ->
//! builder` a circle.
//!
//! Invariants: EXP-4 (`mod.rs`): task ids of a run count from 1.
//!
//! Concurrency: one thread drives each run; the id counter is atomic
//! because `Handle`s may spawn from other threads, and the record sits
//! behind a mutex written once, when the drive loop stops.

use super::strategy::{Chooser, Strategy};
use crate::debug::TaskDump;
use crate::task::Id;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one run did.
pub(crate) struct Outcome {
    pub(crate) steps: u64,
    pub(crate) trace: u64,
    /// The run used sockets, files, blocking threads or wakes from other
    /// threads, so its schedule may not repeat.
    pub(crate) touched_outside: bool,
    /// The reason and the task dump, if it failed.
    pub(crate) failed: Option<(String, TaskDump)>,
}

/// The payloads the explore drive loop unwinds `block_on` with
/// (`std::panic::resume_unwind`: no panic message is printed for them).
pub(crate) enum Abort {
    /// EXP-5 held; `waiting` tasks were alive.
    Deadlock { waiting: usize },
    /// A spawned task panicked with this message.
    TaskPanicked(String),
}

/// One explored run as the runtime sees it: its seed and strategy, the
/// per-run task ids (EXP-4), and what the drive loop records.
pub(crate) struct ExploreRun {
    seed: u64,
    strategy: Strategy,
    horizon: u64,
    /// The last task id handed out. Relaxed: ids only need to be unique
    /// (the increment gives that); a spawn from another thread is already
    /// outside the deterministic part of the run.
    last_id: AtomicU64,
    record: Mutex<Record>,
}

/// Written by the drive loop when it stops (also on unwind).
#[derive(Clone, Default)]
pub(crate) struct Record {
    pub(crate) steps: u64,
    pub(crate) trace: u64,
    /// A task arrived through the injector: woken from another thread.
    pub(crate) remote_wakes: bool,
}

impl ExploreRun {
    pub(crate) fn new(seed: u64, strategy: Strategy, horizon: u64) -> ExploreRun {
        ExploreRun {
            seed,
            strategy,
            horizon,
            last_id: AtomicU64::new(0),
            record: Mutex::new(Record::default()),
        }
    }

    /// The chooser of this run's schedule.
    pub(crate) fn chooser(&self) -> Chooser {
        Chooser::new(self.seed, self.strategy, self.horizon)
    }

    /// The next task id of this runtime (EXP-4).
    pub(crate) fn next_id(&self) -> Id {
        Id::from_u64(self.last_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// What the drive loop saw (a default record until it stopped).
    pub(crate) fn record(&self) -> Record {
        self.record.lock().clone()
    }

    /// Stores what the drive loop saw.
    pub(crate) fn set_record(&self, record: Record) {
        *self.record.lock() = record;
    }
}
