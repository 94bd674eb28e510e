//! Summary: `Shared`, the runtime state every task and every runtime
//! thread reaches on the hot path: spawn a task, queue a woken one, wake a
//! sleeping worker, poll a task.
//!
//! Role: `Handle::spawn` calls [`Shared::spawn`]; tasks wake through
//! `Schedule for Arc<Shared>` (below); the worker loop (`worker.rs`) and
//! `block_on` (`current.rs`) poll every task through [`Shared::poll_task`];
//! `Core` (`core.rs`) takes from the injector and steals through
//! [`Shared::pop_injector`] and [`Shared::steal_from_others`]. Launching
//! workers, counting them, handing the current-thread core over and
//! shutting down are `lifecycle.rs`; the read-only views (metrics, dump)
//! are `inspect.rs`.
//!
//! Design: where a woken task goes:
//!
//! ```text
//!   woken on a worker of this runtime (core in hand: while it polls a
//!   task, or while it is parked in or polling the drivers):
//!       -> Core::push_woken (core.rs: yield to the deque, else LIFO slot)
//!   woken anywhere else (another thread, another runtime):
//!       -> global Injector, then wake a sleeper (sleepers.rs protocol)
//! ```
//!
//! The fields are private: callers say what they want done (`spawn`,
//! `notify_parked`, `poll_task`) rather than reaching into the queues.
//! Rejected: one struct mixing the hot path with worker lifetime (it grew
//! to fifteen crate-visible fields that builder, worker and runtime all
//! wrote).
//!
//! Invariants: SCHED-1..3 (`scheduler/mod.rs`).
//!
//! Unsafe: one block, outside the task modules that otherwise hold the
//! crate's `unsafe`: `spawn_local` creates a task whose future is not
//! `Send`, which is sound only because this runtime promises to run it on
//! one thread (INV-10, LIFE-3); that promise is the scheduler's to make,
//! so the block sits here, next to the check that the caller is that thread.
//!
//! Concurrency: `Shared` is behind an `Arc` held by the runtime, every
//! task (its scheduler reference) and every `Handle`; wakers therefore
//! never see it freed, and after shutdown a wake is a no-op (the task is
//! complete). The shutdown flag is Acquire/Release: workers that see it
//! also see everything done before it was set.

use super::core::Core;
use super::lifecycle::Lifecycle;
use super::sleepers::Sleepers;
use super::worker_context::{is_driving, with_current_core};
use super::{Config, Flavor, Remote, Runnable};
use crate::blocking::BlockingPool;
use crate::debug::{contain_panic, SlowPoll};
use crate::driver::DriverLock;
use crate::explore::ExploreRun;
use crate::hooks::TaskHooks;
use crate::metrics::{SharedMetrics, WorkerCounter, WorkerMetrics};
use crate::task::stamp::SpawnClock;
use crate::task::{
    self, Id, JoinHandle, Notified, OwnedTasks, Schedule, SpawnMeta, Task, TaskMeta,
};
use crossbeam_deque::{Injector, Steal, Worker};
use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The runtime's shared state (see the module doc).
pub(crate) struct Shared {
    flavor: Flavor,
    owned: OwnedTasks<Arc<Shared>>,
    injector: Injector<Runnable>,
    remotes: Box<[Remote]>,
    sleepers: Sleepers,
    driver: Arc<DriverLock>,
    blocking: BlockingPool,
    config: Config,
    metrics: SharedMetrics,
    /// Set once, when shutdown starts (SCHED-3).
    shutdown: AtomicBool,
    lifecycle: Lifecycle,
    /// The coarse clock of spawn stamps (`task/stamp.rs`).
    spawn_clock: SpawnClock,
}

impl Shared {
    /// The shared state for `cores` (built by `scheduler::build`).
    pub(super) fn new(
        flavor: Flavor,
        cores: &[Box<Core>],
        driver: Arc<DriverLock>,
        blocking: BlockingPool,
        config: Config,
    ) -> Shared {
        let remotes: Box<[Remote]> = cores
            .iter()
            .map(|core| Remote {
                stealer: core.stealer(),
                lifo: core.lifo_slot(),
                unparker: core.unparker(),
                metrics: if config.poll_histograms {
                    WorkerMetrics::with_histograms()
                } else {
                    WorkerMetrics::default()
                },
            })
            .collect();
        Shared {
            flavor,
            owned: OwnedTasks::new(remotes.len()),
            injector: Injector::new(),
            sleepers: Sleepers::new(remotes.len()),
            remotes,
            driver,
            blocking,
            metrics: SharedMetrics::default(),
            shutdown: AtomicBool::new(false),
            spawn_clock: SpawnClock::new(),
            lifecycle: Lifecycle::new(config.local_owner),
            config,
        }
    }

    /// Spawns `future` onto this runtime.
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, SpawnMeta::new(crate::trace::Kind::Task))
    }

    /// Spawns `future` with a name or other options (`task::Builder`).
    pub(crate) fn spawn_with<F>(
        self: &Arc<Self>,
        future: F,
        meta: SpawnMeta<'_>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = task::new_task_at(future, self.clone(), self.next_id(), meta);
        self.count_spawn();
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule_task(notified, false);
        }
        join
    }

    /// Spawns a local task (its future need not be `Send`) onto this
    /// `LocalRuntime`, from its owner thread.
    ///
    /// # Panics
    ///
    /// Panics unless this is a `LocalRuntime` and the caller is on its
    /// owner thread (the callers in `local.rs` check first, with a message
    /// for the user; this is the soundness check).
    pub(crate) fn spawn_local<F>(
        self: &Arc<Self>,
        future: F,
        meta: SpawnMeta<'_>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.lifecycle.is_local_owner(),
            "a local task may only be spawned on the thread that owns its LocalRuntime"
        );
        // SAFETY: INV-10 (task/raw.rs): this runtime's core is driven only by
        // its owner thread (LIFE-3), the thread we are on (asserted above),
        // and the task and its queue entry go to this runtime alone.
        let (task, notified, join) =
            unsafe { task::new_local_task(future, self.clone(), self.next_id(), meta) };
        self.count_spawn();
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule_task(notified, false);
        }
        join
    }

    /// The id of a task spawned now: process-wide, or counted per runtime
    /// in explore mode (so a replayed schedule shows the same ids).
    fn next_id(&self) -> Id {
        match &self.config.explore {
            None => Id::next(),
            Some(explore) => explore.next_id(),
        }
    }

    /// Counts one spawned task (async or blocking) in the metrics.
    pub(crate) fn count_spawn(&self) {
        SharedMetrics::incr(&self.metrics.spawned);
    }

    /// Which scheduler drives the cores.
    pub(crate) fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// True on the multi-thread flavour: workers steal from each other and
    /// are woken through the sleep protocol.
    pub(crate) fn can_steal(&self) -> bool {
        self.flavor == Flavor::MultiThread
    }

    /// The number of cores (worker threads, or 1 for current-thread).
    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// The sleep protocol of the workers (`sleepers.rs`).
    pub(crate) fn sleepers(&self) -> &Sleepers {
        &self.sleepers
    }

    /// The I/O and timer drivers.
    pub(crate) fn driver(&self) -> &Arc<DriverLock> {
        &self.driver
    }

    /// The blocking pool.
    pub(crate) fn blocking(&self) -> &BlockingPool {
        &self.blocking
    }

    /// The coarse clock of spawn stamps and task ages (`task/stamp.rs`).
    pub(crate) fn spawn_clock(&self) -> &SpawnClock {
        &self.spawn_clock
    }

    /// Worker lifetime: core hand-over, live-worker count, panic state.
    pub(crate) fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// The explore run this runtime belongs to, if it was built by
    /// `explore::run`.
    pub(crate) fn explore(&self) -> Option<&Arc<ExploreRun>> {
        self.config.explore.as_ref()
    }

    /// Takes one task from the injector: one woken or spawned from
    /// another thread (the explore loop counts these).
    pub(super) fn take_injected(&self) -> Option<Runnable> {
        take_one(|| self.injector.steal())
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Sets the shutdown flag (SCHED-3) and wakes every worker and the
    /// driver holder so they see it.
    pub(super) fn set_shutdown_and_wake_all(&self) {
        self.shutdown.store(true, Ordering::Release);
        for remote in self.remotes.iter() {
            remote.unparker.unpark();
        }
        self.driver.unpark();
    }

    /// Queues `task`: on this thread's core if it drives one of ours, else
    /// through the injector.
    fn schedule_task(self: &Arc<Self>, task: Runnable, is_yield: bool) {
        if self.config.poll_histograms {
            return self.schedule_stamped(task, is_yield);
        }
        self.schedule_unstamped(task, is_yield);
    }

    /// `schedule_task` with the wake stamped for the schedule-latency
    /// histogram; out of line, and taking the task by value, so the plain
    /// path keeps the shape it had without histograms.
    #[cold]
    #[inline(never)]
    fn schedule_stamped(self: &Arc<Self>, task: Runnable, is_yield: bool) {
        task.header().site.stamp_woken(self.config.poll_clock.now());
        self.schedule_unstamped(task, is_yield);
    }

    #[inline(always)]
    fn schedule_unstamped(self: &Arc<Self>, task: Runnable, is_yield: bool) {
        let task = with_current_core(self, |core| match core {
            Some(core) => {
                if core.push_woken(task, is_yield) && self.can_steal() {
                    self.notify_parked();
                }
                None
            }
            None => Some(task),
        });
        if let Some(task) = task {
            self.schedule_remote(task);
        }
    }

    fn schedule_remote(&self, task: Runnable) {
        self.injector.push(task);
        SharedMetrics::incr(&self.metrics.injected);
        self.notify_parked();
    }

    /// Wakes a worker for newly queued work, if the sleep protocol says one
    /// is needed (`sleepers.rs`, N1..N4).
    pub(crate) fn notify_parked(&self) {
        match self.flavor {
            Flavor::CurrentThread => self.remotes[0].unparker.unpark(),
            Flavor::MultiThread => {
                if let Some(worker) = self.sleepers.worker_to_notify() {
                    // The woken worker counts as awake from now on, so spawn
                    // stamps copy the reading: make it fresh (`spawn_stamp`).
                    self.spawn_clock.refresh();
                    self.remotes[worker].unparker.unpark();
                }
            }
        }
    }

    /// Tasks waiting in the injector now.
    pub(crate) fn injector_len(&self) -> usize {
        self.injector.len()
    }

    /// Pops one task from the injector (no batch).
    pub(crate) fn pop_injector_one(&self) -> Option<Runnable> {
        take_one(|| self.injector.steal())
    }

    /// Pops a task from the injector, moving a batch into `local`.
    pub(crate) fn pop_injector(&self, local: &Worker<Runnable>) -> Option<Runnable> {
        take_one(|| self.injector.steal_batch_and_pop(local))
    }

    /// Takes half of some other worker's deque into `local`, returning one
    /// task; victims are tried in order from `start`, skipping `thief`.
    pub(crate) fn steal_from_others(
        &self,
        thief: usize,
        start: usize,
        local: &Worker<Runnable>,
    ) -> Option<Runnable> {
        let workers = self.remotes.len();
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == thief {
                continue;
            }
            let stealer = &self.remotes[victim].stealer;
            if let Some(task) = take_one(|| stealer.steal_batch_and_pop(local)) {
                self.count(thief, WorkerCounter::Steals);
                return Some(task);
            }
        }
        None
    }

    /// How many polls worker `index` has started (for the stall check).
    pub(crate) fn polls_of(&self, index: usize) -> u64 {
        self.remotes[index].metrics.get(WorkerCounter::Polls)
    }

    /// Moves the LIFO task of `victim`, a worker stuck in one poll, and a
    /// batch of each of its deques into `local` (`Core::rescue_stranded`).
    pub(crate) fn rescue_from(&self, victim: usize, rescuer: usize, local: &Worker<Runnable>) {
        let remote = &self.remotes[victim];
        let mut rescued = false;
        if let Some(task) = remote.lifo.take() {
            local.push(task);
            rescued = true;
        }
        rescued |= loop {
            match remote.stealer.steal_batch(local) {
                Steal::Success(()) => break true,
                Steal::Empty => break false,
                Steal::Retry => continue,
            }
        };
        if rescued {
            self.count(rescuer, WorkerCounter::Steals);
        }
    }

    /// Bumps one of worker `index`'s counters.
    pub(crate) fn count(&self, index: usize, counter: WorkerCounter) {
        self.remotes[index].metrics.incr(counter);
    }

    /// True if any queue another worker could take from holds a task.
    pub(crate) fn has_stealable_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|remote| !remote.stealer.is_empty())
    }

    /// True if nothing is runnable anywhere: every worker is parked and no
    /// queue another worker could take from holds a task. Decides whether a
    /// paused clock may jump (`driver.rs`).
    pub(crate) fn is_quiescent(&self) -> bool {
        let workers_parked = self.flavor == Flavor::CurrentThread || self.sleepers.is_all_parked();
        workers_parked && !self.has_stealable_work()
    }

    /// Polls one task on worker `index`: every task poll of the runtime
    /// goes through here, counted, and timed if slow polls are reported or
    /// the histograms are on (one flag; off, no clock is read).
    pub(crate) fn poll_task(&self, index: usize, task: Runnable) {
        self.count(index, WorkerCounter::Polls);
        if !self.config.instruments_polls {
            return task.run();
        }
        self.poll_task_instrumented(&self.remotes[index], task);
    }

    /// `poll_task` with task hooks or the clock (slow-poll reports,
    /// histograms), whichever the runtime has.
    #[inline(never)]
    fn poll_task_instrumented(&self, remote: &Remote, task: Runnable) {
        let hooks = self.config.hooks.as_deref();
        if !self.config.times_polls {
            return run(task, hooks);
        }
        self.poll_task_timed(remote, task, hooks);
    }

    /// `poll_task` with the clock: records the wait since the task was
    /// queued and the poll's duration in the worker's histograms, and
    /// reports a slow poll.
    fn poll_task_timed(&self, remote: &Remote, task: Runnable, hooks: Option<&TaskHooks>) {
        let clock = &self.config.poll_clock;
        let stats = remote.metrics.poll_stats();
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
        let woken_at = header.site.woken_at();
        let start = clock.now();
        if let Some(stats) = stats.filter(|_| woken_at != 0) {
            stats
                .schedule_latency
                .record(start.saturating_sub(woken_at));
        }
        run(task, hooks);
        let elapsed = clock.now().saturating_sub(start);
        if let Some(stats) = stats {
            stats.poll_time.record(elapsed);
        }
        let Some((slow, (task_id, spawned_at, name))) = slow else {
            return;
        };
        let duration = Duration::from_nanos(elapsed);
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

    /// The live-task list (for the dump and shutdown).
    pub(super) fn owned(&self) -> &OwnedTasks<Arc<Shared>> {
        &self.owned
    }

    /// Each worker's counters, in index order.
    pub(super) fn worker_metrics(&self) -> impl Iterator<Item = &WorkerMetrics> {
        self.remotes.iter().map(|remote| &remote.metrics)
    }

    /// The counters any thread writes.
    pub(super) fn shared_metrics(&self) -> &SharedMetrics {
        &self.metrics
    }

    /// The last step of shutdown on the queues (SCHED-2): drops every task
    /// reference still queued in the injector and the workers' deques.
    pub(super) fn drain_queues(&self) {
        drain(|| self.injector.steal());
        // A worker's deque outlives its `Worker` handle: its buffer is shared
        // with the `Stealer` kept here, so queued tasks (each holding an
        // `Arc` of this `Shared`) must be taken out, or they would keep the
        // runtime alive in a cycle.
        for remote in self.remotes.iter() {
            drain(|| remote.stealer.steal());
            drop(remote.lifo.take());
        }
    }
}

/// Runs `task`, with the poll hooks around it if there are any.
fn run(task: Runnable, hooks: Option<&TaskHooks>) {
    match hooks {
        None => task.run(),
        Some(hooks) => task.run_with_hooks(hooks),
    }
}

/// Retries `steal` until it gives a task or reports `Empty`.
fn take_one(steal: impl Fn() -> Steal<Runnable>) -> Option<Runnable> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Drops every task `steal` yields until it reports `Empty`.
fn drain(steal: impl Fn() -> Steal<Runnable>) {
    while let Some(task) = take_one(&steal) {
        drop(task);
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task.header())
    }

    #[inline]
    fn hooks(&self) -> Option<&TaskHooks> {
        self.config.hooks.as_deref()
    }

    #[inline]
    fn stamps_wakes(&self) -> bool {
        self.config.poll_histograms
    }

    #[inline]
    fn observes_tasks(&self) -> bool {
        self.config.observes_tasks
    }

    fn spawn_stamp(&self) -> u64 {
        // An awake worker keeps the coarse reading fresh for spawns from
        // other threads too (`task/stamp.rs`); `notify_parked` refreshes it
        // as it wakes one.
        let kept_fresh = self.flavor == Flavor::MultiThread && !self.sleepers.is_all_parked();
        let kept_fresh = kept_fresh || is_driving(self);
        self.spawn_clock.stamp(kept_fresh)
    }

    fn unhandled_panic(&self, task: TaskMeta<'_>, payload: &(dyn Any + Send)) {
        if self.config.unhandled_panic != crate::debug::UnhandledPanic::ShutdownRuntime {
            return;
        }
        let message = crate::task::panic_message(payload)
            .unwrap_or("a task panicked with a non-string payload");
        let message = match task.name() {
            Some(name) => format!("task {} {name:?} panicked: {message}", task.id()),
            None => format!("task {} panicked: {message}", task.id()),
        };
        if let Some(wakers) = self.lifecycle.record_panic(&message) {
            self.begin_shutdown();
            wakers.into_iter().for_each(std::task::Waker::wake);
        }
    }
}
