//! Summary: read-only views of a running scheduler: the metrics snapshot
//! and the task dump.
//!
//! Role: `Handle::metrics` and `Handle::dump` call these; nothing on the
//! hot path does.
//!
//! Design: both are built on demand from counters and the owned-task list
//! the hot path keeps anyway, so observing costs nothing while nobody
//! looks. Rejected: a background sampler (a thread per runtime, and stale
//! answers).
//!
//! Invariants: none of their own; the numbers are approximate while tasks
//! run (Relaxed counters, `metrics.rs`).
//!
//! Concurrency: any thread, any time.

use super::shared::Shared;
use crate::debug::{TaskDump, TaskInfo, TaskState};
use crate::metrics::RuntimeMetrics;
use std::sync::atomic::Ordering;

impl Shared {
    /// A snapshot of the counters, with `blocking_threads` from the
    /// runtime's blocking pool (not the scheduler's: `handle.rs`).
    pub(crate) fn metrics(&self, blocking_threads: usize) -> RuntimeMetrics {
        let counters = self.shared_metrics();
        let mut metrics = RuntimeMetrics {
            num_workers: self.num_workers(),
            // Relaxed: monitoring reads of counters (metrics.rs).
            spawned_tasks: counters.spawned.load(Ordering::Relaxed),
            injected: counters.injected.load(Ordering::Relaxed),
            alive_tasks: self.owned().len() as u64,
            blocking_threads: blocking_threads as u64,
            ..RuntimeMetrics::default()
        };
        metrics.sum_workers(self.queues().worker_metrics());
        metrics
    }

    /// Every live task, from the owned list.
    pub(crate) fn dump(&self) -> TaskDump {
        let mut tasks = Vec::new();
        self.owned().for_each(|header| {
            let snapshot = header.state.load();
            let state = if snapshot.is_running() {
                TaskState::Running
            } else if snapshot.is_notified() {
                TaskState::Scheduled
            } else {
                TaskState::Idle
            };
            tasks.push(TaskInfo {
                id: header.id,
                name: header.site.shared_name(),
                spawned_at: header.site.spawned_at(),
                state,
                // Relaxed: an approximate count is fine in a dump (raw.rs).
                polls: u64::from(header.polls.load(Ordering::Relaxed)),
                age: header.age(self.spawn_clock()),
            });
        });
        tasks.sort_by_key(|task| task.id);
        TaskDump { tasks }
    }
}
