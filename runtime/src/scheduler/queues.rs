//! Summary: `Queues`, every queue a task can wait in that any thread of
//! the runtime may reach (the global injector, each worker's stealer and
//! LIFO slot), and waking a sleeping worker to drain them.
//!
//! Role: `Shared` (`shared.rs`) owns one and queues through it; a `Core`
//! (`core.rs`) takes from the injector, steals and rescues through it, and
//! counts its searching and parking in its sleep protocol (`sleepers.rs`).
//!
//! Design: the lowest file of the scheduler's hot path. It is generic over
//! the task's scheduler handle `S` (the runtime instantiates it with
//! `Arc<Shared>`, as the task module does), so it and `core.rs` need not
//! name the `Shared` that holds them: every arrow between the scheduler's
//! files points down. Rejected: `Core` methods taking `&Shared` (the
//! circle `core <-> shared`, since `Shared` must also reach the current
//! core to queue a wake); a trait `Shared` implements for `Core` (one more
//! name for the same set of methods).
//!
//! Invariants: SCHED-2 (`scheduler/mod.rs`): [`Queues::drain`] releases
//! every reference still queued at shutdown.
//!
//! Concurrency: the injector and the stealers are crossbeam's lock-free
//! queues; a LIFO slot is an atomic pointer (`lifo.rs`); the sleep
//! protocol is `sleepers.rs`'s. Each worker writes its own `Remote`'s
//! counters.

use super::lifo::LifoSlot;
use super::sleepers::Sleepers;
use super::Flavor;
use crate::metrics::{WorkerCounter, WorkerMetrics};
use crate::park::Unparker;
use crate::task::stamp::SpawnClock;
use crate::task::Notified;
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::sync::Arc;

/// What other threads may touch of one worker.
///
/// Aligned to 128 bytes (two cache lines: x86 prefetches lines in pairs) so
/// that two workers' `Remote`s never share a line. Each worker writes its
/// own counters on every poll; packed side by side, the two workers' writes
/// invalidated each other's line on every task (false sharing).
#[repr(align(128))]
pub(crate) struct Remote<S: 'static> {
    stealer: Stealer<Notified<S>>,
    /// Only for rescuing a stuck worker's task (`core.rs`).
    lifo: Arc<LifoSlot<S>>,
    unparker: Unparker,
    metrics: WorkerMetrics,
}

impl<S: 'static> Remote<S> {
    /// One worker's remote view (built by `Core::remote`).
    pub(crate) fn new(
        stealer: Stealer<Notified<S>>,
        lifo: Arc<LifoSlot<S>>,
        unparker: Unparker,
        metrics: WorkerMetrics,
    ) -> Remote<S> {
        Remote {
            stealer,
            lifo,
            unparker,
            metrics,
        }
    }

    /// This worker's counters.
    #[inline]
    pub(crate) fn metrics(&self) -> &WorkerMetrics {
        &self.metrics
    }
}

/// The queues every thread may reach, and the wake-up of their workers
/// (see the module doc).
pub(crate) struct Queues<S: 'static> {
    flavor: Flavor,
    injector: Injector<Notified<S>>,
    remotes: Box<[Remote<S>]>,
    sleepers: Sleepers,
    /// The coarse clock of spawn stamps (`task/stamp.rs`): a woken worker
    /// counts as awake from then on, which is what keeps it fresh, so
    /// waking one refreshes it.
    spawn_clock: SpawnClock,
}

impl<S: 'static> Queues<S> {
    pub(crate) fn new(flavor: Flavor, remotes: Box<[Remote<S>]>) -> Queues<S> {
        Queues {
            flavor,
            injector: Injector::new(),
            sleepers: Sleepers::new(remotes.len()),
            remotes,
            spawn_clock: SpawnClock::new(),
        }
    }

    /// Which scheduler drives the cores.
    #[inline]
    pub(crate) fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// True on the multi-thread flavour: workers steal from each other and
    /// are woken through the sleep protocol.
    #[inline]
    pub(crate) fn can_steal(&self) -> bool {
        self.flavor == Flavor::MultiThread
    }

    /// The number of cores (worker threads, or 1 for current-thread).
    #[inline]
    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// The sleep protocol of the workers (`sleepers.rs`).
    #[inline]
    pub(crate) fn sleepers(&self) -> &Sleepers {
        &self.sleepers
    }

    /// The coarse clock of spawn stamps and task ages (`task/stamp.rs`).
    #[inline]
    pub(crate) fn spawn_clock(&self) -> &SpawnClock {
        &self.spawn_clock
    }

    /// Worker `index`'s remote view.
    #[inline]
    pub(crate) fn remote(&self, index: usize) -> &Remote<S> {
        &self.remotes[index]
    }

    /// Queues a task from outside the workers (the caller then wakes one
    /// with [`Queues::notify_parked`]).
    #[inline]
    pub(crate) fn push_injector(&self, task: Notified<S>) {
        self.injector.push(task);
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

    /// Wakes every worker (shutdown).
    pub(crate) fn unpark_all(&self) {
        for remote in self.remotes.iter() {
            remote.unparker.unpark();
        }
    }

    /// Tasks waiting in the injector now.
    #[inline]
    pub(crate) fn injector_len(&self) -> usize {
        self.injector.len()
    }

    /// Pops one task from the injector (no batch).
    #[inline]
    pub(crate) fn pop_injector_one(&self) -> Option<Notified<S>> {
        take_one(|| self.injector.steal())
    }

    /// Pops a task from the injector, moving a batch into `local`.
    #[inline]
    pub(crate) fn pop_injector(&self, local: &Worker<Notified<S>>) -> Option<Notified<S>> {
        take_one(|| self.injector.steal_batch_and_pop(local))
    }

    /// Takes half of some other worker's deque into `local`, returning one
    /// task; victims are tried in order from `start`, skipping `thief`.
    pub(crate) fn steal_from_others(
        &self,
        thief: usize,
        start: usize,
        local: &Worker<Notified<S>>,
    ) -> Option<Notified<S>> {
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
    pub(crate) fn rescue_from(&self, victim: usize, rescuer: usize, local: &Worker<Notified<S>>) {
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
    #[inline]
    pub(crate) fn count(&self, index: usize, counter: WorkerCounter) {
        self.remotes[index].metrics.incr(counter);
    }

    /// Each worker's counters, in index order.
    pub(crate) fn worker_metrics(&self) -> impl Iterator<Item = &WorkerMetrics> {
        self.remotes.iter().map(|remote| &remote.metrics)
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

    /// The last step of shutdown on the queues (SCHED-2): drops every task
    /// reference still queued in the injector and the workers' deques.
    pub(crate) fn drain(&self) {
        drain(|| self.injector.steal());
        // A worker's deque outlives its `Worker` handle: its buffer is shared
        // with the `Stealer` kept here, so queued tasks (each holding an
        // `Arc` of the runtime's shared state) must be taken out, or they
        // would keep the runtime alive in a cycle.
        for remote in self.remotes.iter() {
            drain(|| remote.stealer.steal());
            drop(remote.lifo.take());
        }
    }
}

/// Retries `steal` until it gives a task or reports `Empty`.
#[inline]
fn take_one<T>(steal: impl Fn() -> Steal<T>) -> Option<T> {
    loop {
        match steal() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Drops every task `steal` yields until it reports `Empty`.
fn drain<T>(steal: impl Fn() -> Steal<T>) {
    while let Some(task) = take_one(&steal) {
        drop(task);
    }
}
