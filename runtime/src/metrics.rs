//! Summary: the runtime's counters and the `RuntimeMetrics` snapshot.
//!
//! Role: workers bump their own [`WorkerMetrics`]; spawners bump
//! [`SharedMetrics`]; `Runtime::metrics` sums them into a snapshot.
//!
//! Design: counters must cost next to nothing on the hot path. A worker's
//! counters live in its own `Remote` and are written only by that worker,
//! so an increment is a plain load and store (no locked instruction, no
//! shared cache line); the snapshot reads them with Relaxed loads and may
//! be a few events stale, which is fine for monitoring. Counters written
//! by many threads (spawns, injections) use Relaxed `fetch_add`.
//!
//! Invariants: every counter only grows.
//!
//! Concurrency: see each field.

use crate::histogram::{Histogram, PollStats};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters written by one worker only.
#[derive(Default)]
pub(crate) struct WorkerMetrics {
    /// The poll-time and schedule-latency histograms, when enabled
    /// (`histogram.rs`); written by the owning worker only.
    stats: Option<Box<PollStats>>,
    /// Tasks polled. Relaxed load+store: single writer, approximate readers.
    polls: AtomicU64,
    /// Successful steals from other workers. As `polls`.
    steals: AtomicU64,
    /// Times the worker parked. As `polls`.
    parks: AtomicU64,
}

/// The three per-worker counters.
#[derive(Copy, Clone)]
pub(crate) enum WorkerCounter {
    Polls,
    Steals,
    Parks,
}

impl WorkerMetrics {
    /// Counters plus the two histograms (`Builder::enable_poll_time_histogram`).
    pub(crate) fn with_histograms() -> WorkerMetrics {
        WorkerMetrics {
            stats: Some(Box::new(PollStats::new())),
            ..WorkerMetrics::default()
        }
    }

    /// The histograms, if enabled.
    pub(crate) fn poll_stats(&self) -> Option<&PollStats> {
        self.stats.as_deref()
    }

    /// Adds one. Only the owning worker calls this (single writer).
    pub(crate) fn incr(&self, counter: WorkerCounter) {
        let cell = self.cell(counter);
        // Relaxed: single writer; readers only need an eventually-current value.
        cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn cell(&self, counter: WorkerCounter) -> &AtomicU64 {
        match counter {
            WorkerCounter::Polls => &self.polls,
            WorkerCounter::Steals => &self.steals,
            WorkerCounter::Parks => &self.parks,
        }
    }

    /// The counter's value. Read by monitoring and by the stall check
    /// (`scheduler/core.rs`), which tolerates a stale value: at worst it
    /// rescues a task from a worker that was not stuck.
    pub(crate) fn get(&self, counter: WorkerCounter) -> u64 {
        // Relaxed: nothing is ordered by it.
        self.cell(counter).load(Ordering::Relaxed)
    }
}

/// Counters written by any thread.
///
/// On lines of their own (128-byte alignment): a spawning thread bumps
/// `spawned` per spawn, and next to read-mostly fields of `Shared` (the
/// shutdown flag every worker loads per task, for one) each bump would cost
/// the other workers a cache miss.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct SharedMetrics {
    /// Tasks spawned (async and blocking). Relaxed fetch_add: a count only.
    pub(crate) spawned: AtomicU64,
    /// Tasks pushed to the global injector. As `spawned`.
    pub(crate) injected: AtomicU64,
}

impl SharedMetrics {
    pub(crate) fn incr(counter: &AtomicU64) {
        // Relaxed: a count only; nothing is ordered by it.
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of a runtime's counters, from [`Runtime::metrics`](crate::Runtime::metrics).
///
/// ```
/// let rt = weft_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async { weft_runtime::spawn(async {}).await.unwrap() });
/// let metrics = rt.metrics();
/// assert_eq!(metrics.num_workers(), 2);
/// assert_eq!(metrics.spawned_tasks(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RuntimeMetrics {
    pub(crate) num_workers: usize,
    pub(crate) spawned_tasks: u64,
    pub(crate) alive_tasks: u64,
    pub(crate) polls: u64,
    pub(crate) steals: u64,
    pub(crate) injected: u64,
    pub(crate) parks: u64,
    pub(crate) blocking_threads: u64,
    pub(crate) workers: Vec<WorkerStats>,
    pub(crate) poll_time: Option<Histogram>,
    pub(crate) schedule_latency: Option<Histogram>,
}

/// One worker's counters inside a [`RuntimeMetrics`] snapshot, from
/// [`RuntimeMetrics::workers`]: the per-worker view next to the totals, to
/// spot an idle or overloaded worker.
///
/// They cost nothing extra to keep: every counter is per worker already (a
/// plain store by its single writer); the totals are their sums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    polls: u64,
    steals: u64,
    parks: u64,
    poll_time: Option<Histogram>,
    schedule_latency: Option<Histogram>,
}

impl WorkerStats {
    /// Task polls this worker ran.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Successful steals by this worker.
    pub fn steals(&self) -> u64 {
        self.steals
    }

    /// Times this worker went to sleep for lack of work.
    pub fn parks(&self) -> u64 {
        self.parks
    }

    /// This worker's poll times; `None` unless
    /// `Builder::enable_poll_time_histogram` was called.
    pub fn poll_time_histogram(&self) -> Option<Histogram> {
        self.poll_time
    }

    /// This worker's schedule latencies (wake to start of poll); `None`
    /// unless `Builder::enable_poll_time_histogram` was called.
    pub fn schedule_latency_histogram(&self) -> Option<Histogram> {
        self.schedule_latency
    }
}

impl RuntimeMetrics {
    pub(crate) fn sum_workers<'a>(&mut self, workers: impl Iterator<Item = &'a WorkerMetrics>) {
        for worker in workers {
            let stats = WorkerStats {
                polls: worker.get(WorkerCounter::Polls),
                steals: worker.get(WorkerCounter::Steals),
                parks: worker.get(WorkerCounter::Parks),
                poll_time: worker.poll_stats().map(|s| s.poll_time.snapshot()),
                schedule_latency: worker.poll_stats().map(|s| s.schedule_latency.snapshot()),
            };
            self.polls += stats.polls;
            self.steals += stats.steals;
            self.parks += stats.parks;
            merge_into(&mut self.poll_time, stats.poll_time);
            merge_into(&mut self.schedule_latency, stats.schedule_latency);
            self.workers.push(stats);
        }
    }

    /// Worker threads (1 for the current-thread flavour: the `block_on` thread).
    pub fn num_workers(&self) -> usize {
        self.num_workers
    }

    /// Tasks spawned so far, including `spawn_blocking` closures.
    pub fn spawned_tasks(&self) -> u64 {
        self.spawned_tasks
    }

    /// Async tasks spawned and not yet finished.
    pub fn alive_tasks(&self) -> u64 {
        self.alive_tasks
    }

    /// Task polls so far.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Successful steals (each moves a batch of tasks) between workers.
    pub fn steals(&self) -> u64 {
        self.steals
    }

    /// Tasks queued through the global injector (spawned or woken from
    /// outside the runtime's threads).
    pub fn injected(&self) -> u64 {
        self.injected
    }

    /// Times a worker went to sleep for lack of work.
    pub fn parks(&self) -> u64 {
        self.parks
    }

    /// Blocking-pool threads alive now.
    pub fn blocking_threads(&self) -> u64 {
        self.blocking_threads
    }

    /// Each worker's own counters, in worker order; `polls`, `steals` and
    /// `parks` above are their sums.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// rt.block_on(async { weft_runtime::spawn(async {}).await.unwrap() });
    /// let metrics = rt.metrics();
    /// assert_eq!(metrics.workers().len(), 2);
    /// let polls: u64 = metrics.workers().iter().map(|w| w.polls()).sum();
    /// assert_eq!(polls, metrics.polls());
    /// ```
    pub fn workers(&self) -> &[WorkerStats] {
        &self.workers
    }

    /// How long task polls took, merged over all workers: log-scale
    /// buckets from 1 µs to about 1 s. A poll's time runs from the end of
    /// the worker's previous poll (one clock read per poll), so it includes
    /// the worker's pick of the task, normally well under a microsecond.
    /// `None` unless `Builder::enable_poll_time_histogram` was called (the
    /// one switch for both histograms).
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().build().unwrap();
    /// assert!(rt.metrics().poll_time_histogram().is_none(), "off by default");
    /// ```
    pub fn poll_time_histogram(&self) -> Option<Histogram> {
        self.poll_time
    }

    /// How long woken tasks waited for a worker: from the wake (or the
    /// spawn) that queued a task to the start of its poll, merged over all
    /// workers. A wake from inside another task's poll counts from the
    /// start of that poll (no clock read per wake), so the figure is an
    /// upper bound, long by at most the waking poll's duration. `None`
    /// unless `Builder::enable_poll_time_histogram` was called.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .enable_poll_time_histogram()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { weft_runtime::spawn(async {}).await.unwrap() });
    /// let waits = rt.metrics().schedule_latency_histogram().expect("enabled");
    /// assert!(waits.count() >= 1);
    /// println!("p99 wait for a worker: {:?}", waits.quantile(0.99));
    /// ```
    pub fn schedule_latency_histogram(&self) -> Option<Histogram> {
        self.schedule_latency
    }
}

/// Adds `worker`'s histogram to the running total.
fn merge_into(total: &mut Option<Histogram>, worker: Option<Histogram>) {
    if let Some(worker) = worker {
        total.get_or_insert_with(Histogram::default).merge(&worker);
    }
}
