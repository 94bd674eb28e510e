//! The scheduler: where spawned tasks wait, and which thread polls them.
//!
//! # Summary
//!
//! [`Shared`] is the runtime's shared state: the global [`Injector`], one
//! [`Remote`] per worker (its stealer, unparker and counters), the idle
//! protocol, the owned-tasks list, the drivers and the blocking pool. Each
//! worker thread owns a [`Core`](worker::Core): its local deque, its LIFO
//! slot, its random generator and its parker.
//!
//! # Role
//!
//! `Handle::spawn` calls [`Shared::spawn`]; tasks wake through
//! `Schedule for Arc<Shared>` (below); worker threads run
//! [`worker::run`]; the current-thread flavour's `block_on` drives the one
//! core itself ([`current`]).
//!
//! # Design
//!
//! Where a woken task goes:
//!
//! ```text
//!   woken on a worker of this runtime (core in hand: while it polls a
//!   task, or while it is parked in or polling the drivers):
//!       yield?  -> back of the local deque
//!       else    -> LIFO slot (the previous occupant goes to the deque)
//!   woken anywhere else (another thread, another runtime):
//!       -> global Injector, then wake a sleeper (idle.rs protocol)
//! ```
//!
//! A wake from the drivers therefore lands on the core of the thread that
//! dispatches the event (`worker::in_context`); a parked worker that finds
//! such tasks on waking leaves the sleepers itself
//! (`Idle::transition_worker_from_parked`).
//!
//! Both flavours use this same code: the current-thread runtime is a
//! scheduler with one core and no worker threads, driven by `block_on`
//! (no stealing, and a remote wake unparks the `block_on` thread directly).
//!
//! Alternatives rejected: one global queue (every push and pop contends on
//! one cache line); a bounded ring per worker with overflow to the injector
//! (tokio) — crossbeam's unbounded Chase-Lev deque needs no overflow path.
//!
//! # Invariants
//!
//! - SCHED-1: a `Core` is owned by at most one thread; it sits in that
//!   thread's `WorkerContext` exactly while a task is being polled there or
//!   while that thread parks in or polls the drivers, so `schedule` can
//!   reach it without locks.
//! - SCHED-2: every `Notified` handed to `schedule` ends in a queue that
//!   some thread will drain, or is dropped at shutdown (its reference
//!   released); none is leaked.
//! - SCHED-3: after shutdown starts, workers stop taking tasks; the owned
//!   list cancels every task that is not mid-poll.
//!
//! # Concurrency
//!
//! `Shared` is behind an `Arc` held by the runtime, every task (its
//! scheduler reference) and every `Handle`; wakers therefore never see it
//! freed, and after shutdown a wake is a no-op (the task is complete).
//!
//! # References
//!
//! Chase and Lev, "Dynamic circular work-stealing deque" (SPAA 2005);
//! Go `runtime/proc.go`; tokio `runtime/scheduler/multi_thread/`.

pub(crate) mod current;
pub(crate) mod idle;
pub(crate) mod worker;

#[cfg(all(test, loom))]
mod tests;

use crate::blocking::BlockingPool;
use crate::debug::{
    contain_panic, SlowPoll, SlowPollConfig, TaskDump, TaskInfo, TaskState, UnhandledPanic,
};
use crate::driver::Driver;
use crate::metrics::{RuntimeMetrics, SharedMetrics, WorkerCounter, WorkerMetrics};
use crate::park::Unparker;
use crate::task::{self, Id, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use crossbeam_deque::{Injector, Steal, Stealer};
use parking_lot::{Condvar, Mutex};
use std::any::Any;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};
use worker::Core;

/// A queued task of this runtime.
pub(crate) type Runnable = Notified<Arc<Shared>>;

/// Which scheduler drives the cores.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Worker threads, work stealing.
    MultiThread,
    /// One core, driven by `block_on`.
    CurrentThread,
}

/// Settings fixed at build time.
pub(crate) struct Config {
    pub(crate) slow_poll: Option<SlowPollConfig>,
    pub(crate) unhandled_panic: UnhandledPanic,
}

/// What other threads may touch of one worker.
///
/// Aligned to 128 bytes (two cache lines: x86 prefetches lines in pairs) so
/// that two workers' `Remote`s never share a line. Each worker writes its
/// own counters on every poll; packed side by side, the two workers' writes
/// invalidated each other's line on every task (false sharing).
#[repr(align(128))]
pub(crate) struct Remote {
    pub(crate) stealer: Stealer<Runnable>,
    pub(crate) unparker: Unparker,
    pub(crate) metrics: WorkerMetrics,
}

/// The runtime's shared state (see the module doc).
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) owned: OwnedTasks<Arc<Shared>>,
    pub(crate) injector: Injector<Runnable>,
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) idle: idle::Idle,
    /// Cores not currently owned by a thread (SCHED-1): all of them before
    /// the workers start; the current-thread core while no `block_on` runs.
    /// Boxed because a core moves between a thread's stack and its context
    /// on every poll; a box makes that a pointer copy.
    #[allow(clippy::vec_box)]
    pub(crate) idle_cores: Mutex<Vec<Box<Core>>>,
    /// Signalled when a core is put back (a waiting `block_on` may take it)
    /// and when a worker exits.
    pub(crate) core_returned: Condvar,
    /// Threads in `block_on` waiting for the current-thread core.
    pub(crate) core_waiters: Mutex<Vec<std::thread::Thread>>,
    pub(crate) driver: Arc<Driver>,
    pub(crate) blocking: BlockingPool,
    pub(crate) config: Config,
    pub(crate) metrics: SharedMetrics,
    /// Worker threads that have not yet exited.
    pub(crate) live_workers: Mutex<usize>,
    /// Set once, when shutdown starts (SCHED-3). Acquire/Release: workers
    /// that see it also see everything done before it was set.
    shutdown: AtomicBool,
    /// The first panic message under `UnhandledPanic::ShutdownRuntime`, and
    /// the wakers of `block_on` calls waiting to report it.
    panic: Mutex<PanicState>,
}

#[derive(Default)]
struct PanicState {
    message: Option<String>,
    block_on_wakers: slab::Slab<Waker>,
}

/// What a worker thread (or the current-thread `block_on`) exposes to
/// `schedule` on its own thread (SCHED-1).
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) core: RefCell<Option<Box<Core>>>,
}

thread_local! {
    /// The worker context of this thread, if it drives a core.
    static WORKER: RefCell<Option<Rc<WorkerContext>>> = const { RefCell::new(None) };
}

/// Installs a worker context for the current thread; removed on drop.
pub(crate) struct WorkerContextGuard {
    previous: Option<Rc<WorkerContext>>,
}

impl WorkerContextGuard {
    pub(crate) fn enter(cx: Rc<WorkerContext>) -> WorkerContextGuard {
        WorkerContextGuard {
            previous: WORKER.with(|worker| worker.replace(Some(cx))),
        }
    }
}

impl Drop for WorkerContextGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = WORKER.try_with(|worker| worker.replace(previous));
    }
}

impl Shared {
    #[allow(clippy::vec_box)] // see `idle_cores`
    pub(crate) fn new(
        flavor: Flavor,
        cores: Vec<Box<Core>>,
        remotes: Box<[Remote]>,
        driver: Arc<Driver>,
        blocking: BlockingPool,
        config: Config,
    ) -> Shared {
        Shared {
            flavor,
            owned: OwnedTasks::new(remotes.len()),
            injector: Injector::new(),
            idle: idle::Idle::new(remotes.len()),
            remotes,
            idle_cores: Mutex::new(cores),
            core_returned: Condvar::new(),
            core_waiters: Mutex::new(Vec::new()),
            driver,
            blocking,
            config,
            metrics: SharedMetrics::default(),
            live_workers: Mutex::new(0),
            shutdown: AtomicBool::new(false),
            panic: Mutex::new(PanicState::default()),
        }
    }

    /// Spawns `future` onto this runtime.
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = task::new_task(future, self.clone(), Id::next());
        SharedMetrics::incr(&self.metrics.spawned);
        if let Some(notified) = self.owned.bind(task, notified) {
            self.schedule_task(notified, false);
        }
        join
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Starts shutdown (SCHED-3): workers stop at their next check.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        for remote in self.remotes.iter() {
            remote.unparker.unpark();
        }
        self.driver.unpark();
    }

    /// Queues `task`: locally if this thread drives one of our cores, else
    /// through the injector.
    fn schedule_task(self: &Arc<Self>, task: Runnable, is_yield: bool) {
        let task = with_current_core(self, |core| match core {
            Some(core) => {
                self.schedule_local(core, task, is_yield);
                None
            }
            None => Some(task),
        });
        if let Some(task) = task {
            self.schedule_remote(task);
        }
    }

    fn schedule_local(&self, core: &mut Core, task: Runnable, is_yield: bool) {
        if is_yield {
            core.local.push(task);
        } else if let Some(previous) = core.lifo.replace(task) {
            core.local.push(previous);
        } else {
            // Only the LIFO slot changed: nothing for another worker to steal.
            return;
        }
        // From inside the drivers the notification is deferred to one check
        // after they return (`Core::in_drivers`).
        if self.flavor == Flavor::MultiThread && !core.in_drivers {
            self.notify_parked();
        }
    }

    fn schedule_remote(&self, task: Runnable) {
        self.injector.push(task);
        SharedMetrics::incr(&self.metrics.injected);
        self.notify_parked();
    }

    /// Wakes a worker for newly queued work, if the idle protocol says one
    /// is needed (`idle.rs`, N1..N4).
    pub(crate) fn notify_parked(&self) {
        match self.flavor {
            Flavor::CurrentThread => self.remotes[0].unparker.unpark(),
            Flavor::MultiThread => {
                if let Some(worker) = self.idle.worker_to_notify() {
                    // The woken worker counts as awake from now on, so spawn
                    // stamps copy the reading: make it fresh (`spawn_stamp`).
                    crate::task::stamp::refresh();
                    self.remotes[worker].unparker.unpark();
                }
            }
        }
    }

    /// Pops a task from the injector, moving a batch into `local`.
    pub(crate) fn pop_injector(
        &self,
        local: &crossbeam_deque::Worker<Runnable>,
    ) -> Option<Runnable> {
        loop {
            match self.injector.steal_batch_and_pop(local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// True if any queue another worker could take from holds a task.
    pub(crate) fn has_stealable_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|remote| !remote.stealer.is_empty())
    }

    /// True if nothing is runnable anywhere: every worker is parked and no
    /// queue another worker could take from holds a task. Decides whether a
    /// paused clock may jump (`driver.rs`).
    pub(crate) fn is_idle(&self) -> bool {
        let workers_parked = self.flavor == Flavor::CurrentThread || self.idle.is_all_parked();
        workers_parked && !self.has_stealable_work()
    }

    /// Polls one task on worker `index`, counting it and timing it if asked.
    pub(crate) fn poll_task(&self, index: usize, task: Runnable) {
        self.remotes[index].metrics.incr(WorkerCounter::Polls);
        let Some(slow) = &self.config.slow_poll else {
            return task.run();
        };
        // Copied now: the task may be freed by the poll.
        let (task_id, spawned_at) = (task.header().id, task.header().spawned_at);
        let start = Instant::now();
        task.run();
        let duration = start.elapsed();
        if duration >= slow.threshold {
            let report = SlowPoll {
                task_id,
                spawned_at,
                duration,
            };
            // A panicking callback must not kill the worker (debug.rs).
            contain_panic(|| (slow.callback)(&report));
        }
    }

    /// The message of the panic that shut the runtime down, if any.
    pub(crate) fn shutdown_panic(&self) -> Option<String> {
        self.panic.lock().message.clone()
    }

    /// Registers a `block_on` waker to be woken by an unhandled panic;
    /// returns the key for [`Shared::remove_block_on_waker`].
    pub(crate) fn add_block_on_waker(&self, waker: Waker) -> usize {
        self.panic.lock().block_on_wakers.insert(waker)
    }

    pub(crate) fn remove_block_on_waker(&self, key: usize) {
        self.panic.lock().block_on_wakers.try_remove(key);
    }

    /// A snapshot of the counters.
    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        let mut metrics = RuntimeMetrics {
            num_workers: self.remotes.len(),
            // Relaxed: monitoring reads of counters (metrics.rs).
            spawned_tasks: self.metrics.spawned.load(Ordering::Relaxed),
            injected: self.metrics.injected.load(Ordering::Relaxed),
            alive_tasks: self.owned.len() as u64,
            blocking_threads: self.blocking.num_alive() as u64,
            ..RuntimeMetrics::default()
        };
        metrics.sum_workers(self.remotes.iter().map(|remote| &remote.metrics));
        metrics
    }

    /// Every live task, from the owned list.
    pub(crate) fn dump(&self) -> TaskDump {
        let mut tasks = Vec::new();
        self.owned.for_each(|header| {
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
                spawned_at: header.spawned_at,
                state,
                // Relaxed: an approximate count is fine in a dump (raw.rs).
                polls: u64::from(header.polls.load(Ordering::Relaxed)),
                age: header.age(),
            });
        });
        tasks.sort_by_key(|task| task.id);
        TaskDump { tasks }
    }

    /// Waits until every worker thread has exited, or `timeout` passes.
    /// True if they all exited.
    pub(crate) fn wait_workers_exited(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let mut live = self.live_workers.lock();
        while *live > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .core_returned
                        .wait_until(&mut live, deadline)
                        .timed_out()
                    {
                        return *live == 0;
                    }
                }
                None => self.core_returned.wait(&mut live),
            }
        }
        true
    }

    /// The last steps of shutdown, once the workers are gone (SCHED-3):
    /// cancel every task, drop every queued reference (SCHED-2), then the
    /// drivers (DRV-3).
    pub(crate) fn shutdown_tasks(&self) {
        let cores: Vec<Box<Core>> = std::mem::take(&mut *self.idle_cores.lock());
        drop(cores);
        self.owned.close_and_shutdown_all();
        drain(|| self.injector.steal());
        // A worker's deque outlives its `Worker` handle: its buffer is shared
        // with the `Stealer` kept here, so queued tasks (each holding an
        // `Arc` of this `Shared`) must be taken out, or they would keep the
        // runtime alive in a cycle.
        for remote in self.remotes.iter() {
            drain(|| remote.stealer.steal());
        }
        self.driver.shutdown();
    }
}

/// Drops every task `steal` yields until it reports `Empty`.
fn drain(steal: impl Fn() -> Steal<Runnable>) {
    loop {
        match steal() {
            Steal::Success(task) => drop(task),
            Steal::Empty => break,
            Steal::Retry => continue,
        }
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

    fn spawn_stamp(&self) -> u64 {
        // An awake worker keeps the coarse reading fresh for spawns from
        // other threads too (`task/stamp.rs`); `notify_parked` refreshes it
        // as it wakes one.
        let kept_fresh = self.flavor == Flavor::MultiThread && !self.idle.is_all_parked();
        crate::task::stamp::stamp(kept_fresh)
    }

    fn unhandled_panic(&self, payload: &(dyn Any + Send)) {
        if self.config.unhandled_panic != UnhandledPanic::ShutdownRuntime {
            return;
        }
        let message = crate::task::panic_message(payload)
            .unwrap_or("a task panicked with a non-string payload");
        let wakers: Vec<Waker> = {
            let mut panic = self.panic.lock();
            if panic.message.is_some() {
                return;
            }
            panic.message = Some(message.to_owned());
            panic.block_on_wakers.drain().collect()
        };
        self.begin_shutdown();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Calls `f` with this thread's core if this thread drives one of
/// `shared`'s cores and is not using it right now (SCHED-1).
fn with_current_core<R>(shared: &Arc<Shared>, f: impl FnOnce(Option<&mut Core>) -> R) -> R {
    let cx = WORKER
        .try_with(|worker| {
            worker
                .borrow()
                .as_ref()
                .filter(|cx| Arc::ptr_eq(&cx.shared, shared))
                .cloned()
        })
        .ok()
        .flatten();
    let Some(cx) = cx else { return f(None) };
    let result = match cx.core.try_borrow_mut() {
        Ok(mut core) if core.is_some() => f(core.as_deref_mut()),
        _ => f(None),
    };
    result
}
