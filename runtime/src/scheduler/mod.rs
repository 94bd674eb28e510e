//! The scheduler: where spawned tasks wait, and which thread polls them.
//!
//! # Summary
//!
//! [`Shared`] is the runtime's shared state: its queues (`queues.rs`: the
//! global injector, one `Remote` per worker with its stealer, unparker and
//! counters, and the sleep protocol of `sleepers.rs`), the owned-tasks
//! list, the drivers, the blocking pool and the settings. Each worker
//! thread owns a `Core` (`core.rs`): its local deque, its LIFO slot, its
//! random generator and its parker.
//!
//! # Role
//!
//! `Handle::spawn` calls [`Shared::spawn`]; tasks wake through
//! `Schedule for Arc<Shared>`; `Builder::build` calls [`build`] and runs
//! each [`WorkerLaunch`] on a thread; the current-thread flavour's
//! `block_on` drives the one core itself ([`current`]).
//!
//! # Design
//!
//! One concept per file, each with private fields; listed top down (a file
//! uses only files below it: `scripts/check-layering.py` checks it):
//!
//! ```text
//!   launch.rs          build the cores and `Shared`; one `WorkerLaunch`
//!                      per worker thread
//!   current.rs         block_on, and the current-thread core's loop
//!   explore.rs         the current-thread loop of explore mode: a seeded
//!                      strategy picks every task polled
//!   main_future.rs     what both loops share: the main future's waker,
//!                      the guard that returns the core
//!   worker.rs          the worker loop: tick, run, park
//!   schedule.rs        spawn, and where a woken task goes (`Schedule
//!                      for Arc<Shared>`)
//!   worker_context.rs  the thread-local that lends a core to `schedule`
//!   inspect.rs         metrics snapshot and task dump
//!   shared.rs          the shared state; `Shared::poll_task`, the one
//!                      function every task poll goes through; shutdown
//!   lifecycle.rs       counting workers, the current-thread core
//!                      hand-over, the unhandled-panic stop
//!   core.rs            one worker's queues: queue a woken task (LIFO slot,
//!                      or the deque behind a turn for a yield), choose the
//!                      next task (`Core::next_task`, the one choice
//!                      point), steal, rescue tasks stranded behind a
//!                      stuck worker
//!   queues.rs          the injector, each worker's `Remote`, waking a
//!                      sleeping worker (`Queues::notify_parked`)
//!   lifo.rs            the LIFO slot, in an atomic so it can be rescued
//!   sleepers.rs        the sleep/notify protocol between workers
//!   mod.rs             `Config` and `Flavor` (this file)
//! ```
//!
//! `core.rs`, `queues.rs` and `lifecycle.rs` are generic over the task's
//! scheduler handle (`Core<S>`, as the task module's `Task<S>`), so they
//! need not name the `Shared` that holds them; `shared.rs` names the
//! runtime's instances (`Runnable`, `WorkerCore`).
//!
//! A wake from the drivers lands on the core of the thread that dispatches
//! the event (`worker::in_context`); a parked worker that finds such tasks
//! on waking leaves the sleepers itself
//! (`Sleepers::transition_worker_from_parked`).
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
//!   thread's `WorkerContext` exactly while a task is being polled there,
//!   while the current-thread `block_on` polls its own future, or while
//!   that thread parks in or polls the drivers, so `schedule` can reach it
//!   without locks.
//! - SCHED-2: every `Notified` handed to `schedule` ends in a queue that
//!   some thread will drain, or is dropped at shutdown (its reference
//!   released); none is leaked.
//! - SCHED-3: after shutdown starts, workers stop taking tasks; the owned
//!   list cancels every task that is not mid-poll.
//! - SCHED-4: a wake may reach `Shared` through the scheduler handle inside
//!   the woken task's own block (a poll that woke its own task, a waker
//!   woken by value: both hand the task's reference to the queue). Once
//!   the task is queued, another thread may run it to completion and free
//!   that block, handle and all, so the wake path (`schedule.rs`) reads
//!   the handle only before the push; after it, it uses `Shared` itself,
//!   kept alive by the worker context's `Arc` on a worker's own path and
//!   by a clone on the remote path. (Found by AddressSanitizer: a yield's
//!   `can_steal` read the freed handle while another worker had already
//!   finished the task.)
//!
//! # Concurrency
//!
//! `Shared` is behind an `Arc` held by the runtime, every task (its
//! scheduler reference) and every `Handle`; wakers therefore never see it
//! freed, and after shutdown a wake is a no-op (the task is complete). A
//! `Core` is reached only by its owning thread (SCHED-1).
//!
//! # References
//!
//! Chase and Lev, "Dynamic circular work-stealing deque" (SPAA 2005);
//! Go `runtime/proc.go`; tokio `runtime/scheduler/multi_thread/`.

mod core;
pub(crate) mod current;
mod explore;
mod inspect;
mod launch;
mod lifecycle;
pub(crate) mod lifo;
mod main_future;
mod queues;
mod schedule;
mod shared;
pub(crate) mod sleepers;
mod worker;
mod worker_context;

#[cfg(all(test, loom))]
mod tests;

pub(crate) use launch::{build, WorkerLaunch};
pub(crate) use shared::Shared;
pub(crate) use worker_context::current_local;

use crate::debug::{SlowPollConfig, UnhandledPanic};
use crate::explore::ExploreRun;
use crate::hooks::TaskHooks;
use crate::poll_clock::PollClock;
use std::sync::Arc;

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
    /// `Some` for a `LocalRuntime`: the one thread that may drive its core
    /// (LIFE-3), so its local tasks never run anywhere else.
    pub(crate) local_owner: Option<std::thread::ThreadId>,
    /// The task hooks, `None` when none is set (`hooks.rs`).
    pub(crate) hooks: Option<Box<TaskHooks>>,
    /// `hooks.is_some()`, as the flag a task's completion tests
    /// (`Schedule::release`): one compare with memory, where the pointer
    /// would be loaded and then tested.
    pub(crate) hooked: bool,
    /// `hooks.is_some() || times_polls`: the one flag `Shared::poll_task`
    /// tests; when false it runs the task exactly as without either.
    pub(crate) instruments_polls: bool,
    /// True if polls are timed (slow-poll reports or histograms); when
    /// false no clock is read.
    pub(crate) times_polls: bool,
    /// True if each worker keeps the poll-time and schedule-latency
    /// histograms and wakes are stamped (`histogram.rs`).
    pub(crate) poll_histograms: bool,
    /// The clock of poll timing and wake stamps.
    pub(crate) poll_clock: PollClock,
    /// Explore mode (current-thread only): `block_on` runs the explore
    /// loop (`explore.rs`) and task ids count per runtime.
    pub(crate) explore: Option<Arc<ExploreRun>>,
    /// `hooks.is_none() && !poll_histograms && explore.is_none()`: a spawn
    /// needs nothing but a process-wide id and its location; the one flag
    /// the spawn path tests (`Shared::identify`).
    pub(crate) plain_spawns: bool,
}
