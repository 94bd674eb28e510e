//! The scheduler: where spawned tasks wait, and which thread polls them.
//!
//! # Summary
//!
//! [`Shared`] is the runtime's shared state: the global injector, one
//! [`Remote`] per worker (its stealer, unparker and counters), the sleep
//! protocol (`sleepers.rs`), the owned-tasks list, the drivers and the blocking pool. Each
//! worker thread owns a `Core` (`core.rs`): its local deque, its LIFO slot, its
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
//! One concept per file, each with private fields:
//!
//! ```text
//!   shared.rs          the hot path: spawn, schedule a wake, notify a
//!                      sleeper, poll a task (`Shared::poll_task`, the one
//!                      function every task poll goes through)
//!   core.rs            one worker's queues: queue a woken task (LIFO slot,
//!                      or the deque behind a turn for a yield), choose the
//!                      next task (`Core::next_task`, the one choice
//!                      point), steal, rescue tasks stranded behind a
//!                      stuck worker
//!   lifo.rs            the LIFO slot, in an atomic so it can be rescued
//!   worker.rs          the worker loop: tick, run, park
//!   current.rs         block_on, and the current-thread core's loop
//!   explore.rs         the current-thread loop of explore mode: a seeded
//!                      strategy picks every task polled
//!   worker_context.rs  the thread-local that lends a core to `schedule`
//!   sleepers.rs        the sleep/notify protocol between workers
//!   lifecycle.rs       building cores, launching and counting workers,
//!                      the current-thread core hand-over, shutdown
//!   inspect.rs         metrics snapshot and task dump
//! ```
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
mod lifecycle;
pub(crate) mod lifo;
mod shared;
pub(crate) mod sleepers;
mod worker;
mod worker_context;

#[cfg(all(test, loom))]
mod tests;

pub(crate) use lifecycle::{build, WorkerLaunch};
pub(crate) use shared::Shared;
pub(crate) use worker_context::current_local;

use crate::debug::{SlowPollConfig, UnhandledPanic};
use crate::explore::ExploreRun;
use crate::histogram::PollClock;
use crate::hooks::TaskHooks;
use crate::metrics::WorkerMetrics;
use crate::park::Unparker;
use crate::task::Notified;
use crossbeam_deque::Stealer;
use std::sync::Arc;

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
    /// `Some` for a `LocalRuntime`: the one thread that may drive its core
    /// (LIFE-3), so its local tasks never run anywhere else.
    pub(crate) local_owner: Option<std::thread::ThreadId>,
    /// The task hooks, `None` when none is set (`hooks.rs`).
    pub(crate) hooks: Option<Box<TaskHooks>>,
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
    /// `hooks.is_some() || poll_histograms`: the one flag the spawn path
    /// tests (`Schedule::observes_tasks`).
    pub(crate) observes_tasks: bool,
}

/// What other threads may touch of one worker.
///
/// Aligned to 128 bytes (two cache lines: x86 prefetches lines in pairs) so
/// that two workers' `Remote`s never share a line. Each worker writes its
/// own counters on every poll; packed side by side, the two workers' writes
/// invalidated each other's line on every task (false sharing).
#[repr(align(128))]
struct Remote {
    stealer: Stealer<Runnable>,
    /// Only for rescuing a stuck worker's task (`core.rs`).
    lifo: Arc<core::Lifo>,
    unparker: Unparker,
    metrics: WorkerMetrics,
}
