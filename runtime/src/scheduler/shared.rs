//! Summary: `Shared`, the runtime state every task and every runtime
//! thread reaches: its queues (`queues.rs`), the owned-task list, the
//! drivers, the settings, worker lifetime (`lifecycle.rs`) (the blocking
//! pool is not here: it is the runtime's, beside this), and the one
//! function every task poll goes through ([`Shared::poll_task`]).
//!
//! Role: the worker loop (`worker.rs`) and `block_on` (`current.rs`) poll
//! every task through [`Shared::poll_task`]; spawning and queueing a woken
//! task are `schedule.rs` (above this file, since it reaches the current
//! core through the worker context); the read-only views (metrics, dump)
//! are `inspect.rs`; `Runtime`'s shutdown calls [`Shared::begin_shutdown`]
//! and, once the workers are gone, [`Shared::shutdown_tasks`].
//!
//! Design: the fields are private: callers say what they want done
//! (`notify_parked`, `poll_task`, `begin_shutdown`) rather than reaching
//! into the queues. Rejected: one struct mixing the hot path with worker
//! lifetime (it grew to fifteen crate-visible fields that builder, worker
//! and runtime all wrote); the wake path in this file (it needs the worker
//! context, which holds a `Shared`: a circle).
//!
//! Invariants: SCHED-1..3 (`scheduler/mod.rs`).
//!
//! Concurrency: `Shared` is behind an `Arc` held by the runtime, every
//! task (its scheduler reference) and every `Handle`; wakers therefore
//! never see it freed, and after shutdown a wake is a no-op (the task is
//! complete). The shutdown flag is Acquire/Release: workers that see it
//! also see everything done before it was set.

use super::core::Core;
use super::lifecycle::Lifecycle;
use super::queues::Queues;
use super::{Config, Flavor};
use crate::debug::{contain_panic, SlowPoll};
use crate::driver::DriverLock;
use crate::explore::ExploreRun;
use crate::histogram::PollStats;
use crate::hooks::TaskHooks;
use crate::metrics::{SharedMetrics, WorkerCounter, WorkerMetrics};
use crate::task::stamp::SpawnClock;
use crate::task::{Notified, OwnedTasks};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A queued task of this runtime.
pub(crate) type Runnable = Notified<Arc<Shared>>;

/// A core of this runtime.
pub(crate) type WorkerCore = Core<Arc<Shared>>;

/// The runtime's shared state (see the module doc).
pub(crate) struct Shared {
    owned: OwnedTasks<Arc<Shared>>,
    queues: Queues<Arc<Shared>>,
    driver: Arc<DriverLock>,
    config: Config,
    metrics: SharedMetrics,
    /// Set once, when shutdown starts (SCHED-3).
    shutdown: AtomicBool,
    lifecycle: Lifecycle<WorkerCore>,
}

impl Shared {
    /// The shared state for `cores` (built by `scheduler::build`).
    pub(super) fn new(
        flavor: Flavor,
        cores: &[Box<WorkerCore>],
        driver: Arc<DriverLock>,
        config: Config,
    ) -> Shared {
        let remotes = cores
            .iter()
            .map(|core| {
                core.remote(if config.poll_histograms {
                    WorkerMetrics::with_histograms()
                } else {
                    WorkerMetrics::default()
                })
            })
            .collect();
        let queues = Queues::new(flavor, remotes);
        Shared {
            owned: OwnedTasks::new(queues.num_workers()),
            queues,
            driver,
            metrics: SharedMetrics::default(),
            shutdown: AtomicBool::new(false),
            lifecycle: Lifecycle::new(config.local_owner),
            config,
        }
    }

    /// Counts one spawned task (async or blocking) in the metrics.
    #[inline]
    pub(crate) fn count_spawn(&self) {
        SharedMetrics::incr(&self.metrics.spawned);
    }

    /// The settings fixed at build time.
    #[inline]
    pub(super) fn config(&self) -> &Config {
        &self.config
    }

    /// The queues and the workers' wake-up (`queues.rs`).
    #[inline]
    pub(crate) fn queues(&self) -> &Queues<Arc<Shared>> {
        &self.queues
    }

    /// Which scheduler drives the cores.
    #[inline]
    pub(crate) fn flavor(&self) -> Flavor {
        self.queues.flavor()
    }

    /// True on the multi-thread flavour (`Queues::can_steal`).
    #[inline]
    pub(crate) fn can_steal(&self) -> bool {
        self.queues.can_steal()
    }

    /// The number of cores (worker threads, or 1 for current-thread).
    #[inline]
    pub(crate) fn num_workers(&self) -> usize {
        self.queues.num_workers()
    }

    /// The I/O and timer drivers.
    #[inline]
    pub(crate) fn driver(&self) -> &Arc<DriverLock> {
        &self.driver
    }

    /// The coarse clock of spawn stamps and task ages (`task/stamp.rs`).
    #[inline]
    pub(crate) fn spawn_clock(&self) -> &SpawnClock {
        self.queues.spawn_clock()
    }

    /// Worker lifetime: core hand-over, live-worker count, panic state.
    #[inline]
    pub(crate) fn lifecycle(&self) -> &Lifecycle<WorkerCore> {
        &self.lifecycle
    }

    /// The explore run this runtime belongs to, if it was built by
    /// `explore::run`.
    pub(crate) fn explore(&self) -> Option<&Arc<ExploreRun>> {
        self.config.explore.as_ref()
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Starts shutdown (SCHED-3): sets the flag and wakes every worker and
    /// the driver holder so they see it; workers stop at their next check.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.queues.unpark_all();
        self.driver.unpark();
    }

    /// The last steps of shutdown, once the workers are gone (SCHED-3):
    /// cancel every task, drop every queued reference (SCHED-2), then the
    /// drivers (DRV-3).
    pub(crate) fn shutdown_tasks(&self) {
        drop(self.lifecycle.take_unowned_cores());
        self.owned.close_and_shutdown_all();
        self.queues.drain();
        self.driver.shutdown();
    }

    /// Wakes a worker for newly queued work, if the sleep protocol says one
    /// is needed (`Queues::notify_parked`).
    #[inline]
    pub(crate) fn notify_parked(&self) {
        self.queues.notify_parked();
    }

    /// Bumps one of worker `index`'s counters.
    #[inline]
    pub(crate) fn count(&self, index: usize, counter: WorkerCounter) {
        self.queues.count(index, counter);
    }

    /// True if nothing is runnable anywhere (`Queues::is_quiescent`).
    pub(crate) fn is_quiescent(&self) -> bool {
        self.queues.is_quiescent()
    }

    /// Polls one task on worker `index`: every task poll of the runtime
    /// goes through here, counted, and timed if slow polls are reported or
    /// the histograms are on (one flag; off, no clock is read). Inlined into
    /// the loops that call it (`worker::run_task`); the instrumented poll
    /// stays out of line.
    #[inline(always)]
    pub(crate) fn poll_task(&self, index: usize, task: Runnable) {
        if self.config.instruments_polls {
            return self.poll_task_instrumented(index, task);
        }
        self.count(index, WorkerCounter::Polls);
        task.run();
    }

    /// `poll_task` with task hooks or the clock (slow-poll reports,
    /// histograms), whichever the runtime has. Tested first and given the
    /// worker's index, so that the plain path keeps nothing live for it.
    #[inline(never)]
    fn poll_task_instrumented(&self, index: usize, task: Runnable) {
        self.count(index, WorkerCounter::Polls);
        let hooks = self.config.hooks.as_deref();
        if !self.config.times_polls {
            return run(task, hooks);
        }
        self.poll_task_timed(self.queues.remote(index).metrics(), task, hooks);
    }

    /// `poll_task` with the clock: records the wait since the task was
    /// queued and the poll's duration in the worker's histograms, and
    /// reports a slow poll.
    fn poll_task_timed(&self, metrics: &WorkerMetrics, task: Runnable, hooks: Option<&TaskHooks>) {
        let clock = &self.config.poll_clock;
        let stats = metrics.poll_stats();
        // Copied now: the task may be freed by the poll.
        let header = task.header();
        let slow = self.config.slow_poll.as_ref().map(|slow| {
            let site = (
                header.id,
                header.site.spawned_at(),
                header.site.shared_name(),
            );
            (slow, site)
        });
        let start = match stats {
            Some(stats) => {
                let start = stats.start_poll(clock);
                let woken_at = header.site.woken_at();
                if woken_at != 0 {
                    let waited = clock.nanos(start.saturating_sub(woken_at));
                    stats.schedule_latency.record(waited);
                }
                start
            }
            None => clock.now(),
        };
        run(task, hooks);
        let end = clock.now();
        if let Some(stats) = stats {
            stats.end_poll(clock, start, end);
        }
        let Some((slow, (task_id, spawned_at, name))) = slow else {
            return;
        };
        let duration = Duration::from_nanos(clock.nanos(end.saturating_sub(start)));
        if duration >= slow.threshold {
            let report = SlowPoll {
                task_id,
                name,
                spawned_at,
                duration,
            };
            // A panicking callback must not kill the worker (debug.rs).
            contain_panic(|| (slow.callback)(&report));
        }
    }

    /// Worker `index`'s histograms and poll boundary, if the histograms
    /// are on (`histogram.rs`).
    pub(super) fn poll_stats(&self, index: usize) -> Option<&PollStats> {
        self.queues.remote(index).metrics().poll_stats()
    }

    /// Worker `index` stops polling tasks for a while (it enters the
    /// drivers or polls `block_on`'s future): its next poll is timed from
    /// a fresh reading (HIST-2 of `histogram.rs`).
    pub(crate) fn break_poll_run(&self, index: usize) {
        if let Some(stats) = self.poll_stats(index) {
            stats.break_run();
        }
    }

    /// The live-task list (for the dump and shutdown).
    pub(super) fn owned(&self) -> &OwnedTasks<Arc<Shared>> {
        &self.owned
    }

    /// The counters any thread writes.
    pub(super) fn shared_metrics(&self) -> &SharedMetrics {
        &self.metrics
    }
}

/// Runs `task`, with the poll hooks around it if there are any. Inlined,
/// with the hooked run out of line: the timed poll without hooks (the
/// histograms) then calls the task's poll directly, not through a function
/// that saves registers for the hooked case.
#[inline(always)]
fn run(task: Runnable, hooks: Option<&TaskHooks>) {
    match hooks {
        None => task.run(),
        Some(hooks) => run_hooked(task, hooks),
    }
}

/// The hooked half of [`run`].
#[inline(never)]
fn run_hooked(task: Runnable, hooks: &TaskHooks) {
    task.run_with_hooks(hooks);
}
