//! Summary: a worker thread's loop: find a task (LIFO slot, local deque,
//! injector, another worker's deque), run it, and park when there is none.
//!
//! Role: each worker thread runs [`run`] (through `WorkerLaunch::run`);
//! the current-thread `block_on` (`current.rs`) reuses [`tick`],
//! [`run_task`] and [`in_context`]. Which task comes next is
//! `Core::next_task` (`core.rs`).
//!
//! Design: a task pushed to the local deque normally wakes a sleeping
//! worker to steal it (`Core::push_woken`); a LIFO task that [`run_task`]
//! moves to the back of an empty deque does not, being this worker's next
//! (CORE-5 of `core.rs`). Not while this thread is inside
//! the drivers (`Core::enter_drivers`): the reactor and the timer wake tasks in
//! batches, and one notification per task cost a futex wake or an eventfd
//! write each (`docs/performance.md` counts them). The worker checks once on the way out
//! (`Core::share_batch`) and wakes one sleeper if it holds more
//! than the task it will run next; that one, finding work, wakes the next
//! (`sleepers.rs`).
//!
//! ```text
//!            next_task / steal_work found a task
//!   +-------------------------------------------------+
//!   v                                                 |
//! Running --queues empty--> Searching --found------>--+
//!   ^                          | (transition_worker_to_searching;
//!   |                          |  refused if about half search)
//!   |                          v nothing anywhere: park()
//!   +--- woken by notify ---- Parked (in the drivers or on a condvar)
//!   |    (counted searching)         |
//!   +--------------------------------+ the drivers woke tasks onto this
//!        (transition_worker_from_parked) core while it was parked in them
//! ```
//!
//! Invariants: SCHED-1 (the core is in the context only during a poll or
//! while its thread parks);
//! SLEEP-1..3 through `sleepers.rs`.
//!
//! Concurrency: a `Core` is owned by its thread; other threads reach the
//! worker only through its `Remote` (stealer, unparker, counters).

use super::core::MAX_LIFO_POLLS_PER_TICK;
use super::shared::{Runnable, Shared, WorkerCore};
use super::worker_context::{WorkerContext, WorkerContextGuard};
use crate::metrics::WorkerCounter;
use crate::park::Parker;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Advances `core`'s tick; every `EVENT_INTERVAL` ticks gives the drivers
/// a turn ([`maintain`]). Inlined into both loops, with [`find_task`] and
/// [`run_task`]: called once per task, a call of its own cost more than
/// its body.
#[inline(always)]
pub(crate) fn tick(cx: &WorkerContext, mut core: Box<WorkerCore>) -> Box<WorkerCore> {
    if core.tick() {
        core = maintain(cx, core);
        // Periodic, so a worker that never parks still keeps spawn stamps
        // fresh; a yield's turn (below) skips it: it takes no time, and
        // the clock read cost more than the turn itself.
        cx.shared.spawn_clock().refresh();
    }
    core
}

/// Polls the drivers without blocking, with the core in the context, so
/// what they wake lands here. This is the turn every yield queued so far is
/// owed (CORE-3), whether it was due or periodic. Once per round of yields
/// or per `EVENT_INTERVAL` ticks, so out of line: `find_task` and `tick`
/// stay small enough to inline into the loops that call them.
#[cold]
#[inline(never)]
fn maintain(cx: &WorkerContext, core: Box<WorkerCore>) -> Box<WorkerCore> {
    let mut core = in_context(cx, core, Parker::poll_drivers);
    core.share_batch(cx.shared.queues());
    core.begin_turn(cx.shared.queues());
    core
}

/// The next task for this core: first the turn a yielded task at the
/// front of the deque is owed (the drivers, then the injector: CORE-3);
/// then its queues and the injector (`Core::next_task`, the one choice
/// point); then other workers' deques.
#[inline(always)]
pub(crate) fn find_task(
    cx: &WorkerContext,
    mut core: Box<WorkerCore>,
) -> (Box<WorkerCore>, Option<Runnable>) {
    let queues = cx.shared.queues();
    if core.turn_due() {
        core = maintain(cx, core);
    }
    if let Some(task) = core.next_task(queues) {
        return (core, Some(task));
    }
    let task = core.steal_work(queues);
    (core, task)
}

/// Runs `park` (a park or a driver poll) on `core`'s parker with the core in
/// the worker context (SCHED-1). Tasks that the drivers wake on this thread
/// then go to this core's LIFO slot and deque, as tokio does. Without the core
/// they would go through the injector and an unpark of this very thread,
/// which is inside the drivers: a write to the reactor's eventfd, and an
/// extra `epoll_wait` to consume it, for every park. The parker is cloned because the core
/// that owns it is lent to the context for the duration.
pub(crate) fn in_context(
    cx: &WorkerContext,
    mut core: Box<WorkerCore>,
    park: impl FnOnce(&Parker),
) -> Box<WorkerCore> {
    let parker = core.parker().clone();
    cx.shared.break_poll_run(core.index());
    core.enter_drivers();
    let (mut core, ()) = cx.lend(core, || park(&parker));
    core.leave_drivers();
    core
}

/// [`in_context`] for a park that may block: time passed in the drivers, so
/// spawn stamps taken from here on copy a fresh reading (`task::stamp`).
pub(crate) fn park_in_context(
    cx: &WorkerContext,
    core: Box<WorkerCore>,
    park: impl FnOnce(&Parker),
) -> Box<WorkerCore> {
    let core = in_context(cx, core, park);
    cx.shared.spawn_clock().refresh();
    core
}

/// A worker thread's body: runs tasks until shutdown.
pub(crate) fn run(shared: Arc<Shared>, mut core: Box<WorkerCore>) {
    let cx = Rc::new(WorkerContext {
        shared: shared.clone(),
        core: RefCell::new(None),
    });
    let guard = WorkerContextGuard::enter(cx.clone());
    shared.spawn_clock().refresh();
    // Timers this thread polls first go to its core's wheel shard, so the
    // workers do not contend on one timer lock (weft-timer `driver.rs`).
    let _timer_shard = shared.driver().timer_handle().enter_shard(core.index());
    while !shared.is_shutdown() {
        core = tick(&cx, core);
        let (found, task) = find_task(&cx, core);
        core = match task {
            Some(task) => run_task(&cx, found, task),
            None => park(&cx, found),
        };
    }
    drop(guard);
    // SCHED-2: the Notified references still queued here are released.
    drop(core);
}

/// Runs `task`, then up to [`MAX_LIFO_POLLS_PER_TICK`] tasks it woke into
/// the LIFO slot. The core sits in the context during each poll (SCHED-1).
/// Inlined into both loops, as [`tick`] is.
#[inline(always)]
pub(crate) fn run_task(
    cx: &WorkerContext,
    mut core: Box<WorkerCore>,
    task: Runnable,
) -> Box<WorkerCore> {
    let shared = &cx.shared;
    core.stop_searching(shared.queues());
    let mut task = task;
    let mut lifo_polls = 0;
    loop {
        let index = core.index();
        core = cx.lend(core, || shared.poll_task(index, task)).0;
        let Some(next) = core.take_lifo() else {
            return core;
        };
        if lifo_polls >= MAX_LIFO_POLLS_PER_TICK || shared.is_shutdown() {
            // CORE-5: behind an empty deque the task is this worker's next
            // (`Core::next_task`), so nobody is woken to steal it.
            let backlog = core.has_queued();
            core.push_back(next);
            if backlog && shared.can_steal() {
                shared.notify_parked();
            }
            return core;
        }
        lifo_polls += 1;
        task = next;
    }
}

/// Parks a worker with nothing to do until a notifier picks it, the
/// drivers hand it a task (see [`in_context`]), it rescues the tasks of a
/// stuck worker (`Core::rescue_stranded`), or shutdown.
fn park(cx: &WorkerContext, mut core: Box<WorkerCore>) -> Box<WorkerCore> {
    let shared = &*cx.shared;
    let queues = shared.queues();
    core.transition_to_parked(queues);
    while !shared.is_shutdown() {
        let timeout = core.watch_for_stalls(queues);
        core = park_in_context(cx, core, |parker| {
            parker.park(timeout, &|| shared.is_quiescent())
        });
        shared.count(core.index(), WorkerCounter::Parks);
        core.rescue_stranded(queues);
        if core.transition_from_parked(queues) {
            break;
        }
    }
    core.stop_watching();
    core
}
