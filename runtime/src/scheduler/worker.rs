//! Summary: a worker thread's loop: find a task (LIFO slot, local deque,
//! injector, another worker's deque), run it, and park when there is none.
//!
//! Role: `Runtime` starts one thread per core running [`run`]; the
//! current-thread `block_on` (`current.rs`) reuses [`Core::next_task`] and
//! [`run_task`].
//!
//! Design: the search order favours locality (LIFO slot, then the local
//! deque) but bounds unfairness with two counters: the LIFO slot may run
//! at most [`MAX_LIFO_POLLS_PER_TICK`] tasks in a row, and every
//! [`GLOBAL_QUEUE_INTERVAL`] ticks the injector is checked first. Stealing
//! takes half of a random victim's deque (`steal_batch_and_pop`), so one
//! steal spreads a burst instead of moving one task per search.
//!
//! A task pushed to the local deque normally wakes a sleeping worker to
//! steal it (`Shared::schedule_local`). Not while this thread is inside the
//! drivers ([`Core::in_drivers`]): the reactor and the timer wake tasks in
//! batches, and one notification per task cost a futex wake or an eventfd
//! write each (`tcp_echo` on two workers: 1,491 eventfd writes per quick
//! sample, 29 with the deferral). The worker checks once on the way out
//! ([`Core::should_notify_others`]) and wakes one sleeper if it holds more
//! than the task it will run next; that one, finding work, wakes the next
//! (`idle.rs`).
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
//! IDLE-1..3 through `idle.rs`.
//!
//! Concurrency: a `Core` is owned by its thread; other threads reach the
//! worker only through its `Remote` (stealer, unparker, counters).

use super::{Flavor, Runnable, Shared, WorkerContext, WorkerContextGuard};
use crate::metrics::WorkerCounter;
use crate::park::Parker;
use crate::rng::FastRand;
use crossbeam_deque::Steal;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Every this many ticks a worker takes from the injector before its own
/// queue, so tasks spawned from outside never starve behind a busy local
/// queue. 61 is Go's `schedtick % 61`: prime, so it does not fall into step
/// with periodic workloads, and small enough to bound the wait.
pub(crate) const GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Every this many ticks a busy worker polls the drivers without blocking,
/// so I/O and timers progress while every worker is busy. Same reasoning
/// as [`GLOBAL_QUEUE_INTERVAL`] (tokio's `event_interval` is also 61).
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// How many tasks in a row may run from the LIFO slot. The slot makes a
/// woken task run next (hot in cache), but two tasks waking each other
/// would otherwise starve the rest of the queue forever; 3 keeps the
/// cache benefit for request/response pairs (tokio uses the same bound).
pub(crate) const MAX_LIFO_POLLS_PER_TICK: usize = 3;

/// One worker's private state (SCHED-1).
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) local: crossbeam_deque::Worker<Runnable>,
    pub(crate) lifo: Option<Runnable>,
    tick: u32,
    is_searching: bool,
    /// True while this core's thread is inside the drivers (a park or the
    /// periodic driver poll). Tasks the drivers wake then land here without
    /// notifying other workers one by one; [`in_context`]'s caller checks
    /// once afterwards ([`Core::should_notify_others`]). I/O wakes come in
    /// batches, and waking a sleeper per task cost a futex wake or an
    /// eventfd write each (tokio defers the same way).
    pub(crate) in_drivers: bool,
    rng: FastRand,
    pub(crate) parker: Parker,
}

impl Core {
    pub(crate) fn new(index: usize, parker: Parker, seed: Option<u64>) -> Box<Core> {
        Box::new(Core {
            index,
            local: crossbeam_deque::Worker::new_fifo(),
            lifo: None,
            tick: 0,
            is_searching: false,
            in_drivers: false,
            rng: FastRand::for_worker(seed, index),
            parker,
        })
    }

    /// True if a task waits in this core's LIFO slot or deque.
    fn has_local_work(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }

    /// After the drivers woke tasks onto this core (notifications deferred,
    /// see [`Core::in_drivers`]): true if there is more than this worker
    /// will run next, so a sleeper should come and steal. A searching
    /// worker does not ask: finding work, it wakes the next one itself
    /// (`idle.rs`).
    fn should_notify_others(&self) -> bool {
        !self.is_searching && usize::from(self.lifo.is_some()) + self.local.len() > 1
    }

    /// The next task from this core's queues or the injector.
    pub(crate) fn next_task(&mut self, shared: &Shared) -> Option<Runnable> {
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = shared.pop_injector(&self.local) {
                return Some(task);
            }
        }
        self.lifo
            .take()
            .or_else(|| self.local.pop())
            .or_else(|| shared.pop_injector(&self.local))
    }

    /// Searches other workers' deques, then the injector (multi-thread only).
    fn steal_work(&mut self, shared: &Shared) -> Option<Runnable> {
        if shared.flavor == Flavor::CurrentThread {
            return None;
        }
        if !self.is_searching {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let workers = shared.remotes.len();
        let start = self.rng.below(workers);
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == self.index {
                continue;
            }
            if let Some(task) = steal_from(&shared.remotes[victim].stealer, &self.local) {
                shared.remotes[self.index]
                    .metrics
                    .incr(WorkerCounter::Steals);
                return Some(task);
            }
        }
        shared.pop_injector(&self.local)
    }
}

/// Advances `core`'s tick; every [`EVENT_INTERVAL`] ticks polls the
/// drivers without blocking, with the core in the context.
pub(crate) fn tick(cx: &WorkerContext, mut core: Box<Core>) -> Box<Core> {
    core.tick = core.tick.wrapping_add(1);
    if core.tick % EVENT_INTERVAL == 0 {
        core = in_context(cx, core, Parker::poll_drivers);
        if cx.shared.flavor == Flavor::MultiThread && core.should_notify_others() {
            cx.shared.notify_parked();
        }
    }
    core
}

/// Runs `park` (a park or a driver poll) on `core`'s parker with the core in
/// the worker context (SCHED-1). Tasks that the drivers wake on this thread
/// then go to this core's LIFO slot and deque, as tokio does. Without the core
/// they would go through the injector and an unpark of this very thread,
/// which is inside the drivers: a write to the reactor's eventfd, and an
/// extra `epoll_wait` to consume it, for every park (`tcp_echo` showed about
/// one such write per 25 round trips). The parker is cloned because the core
/// that owns it is lent to the context for the duration.
pub(crate) fn in_context(
    cx: &WorkerContext,
    mut core: Box<Core>,
    park: impl FnOnce(&Parker),
) -> Box<Core> {
    let parker = core.parker.clone();
    core.in_drivers = true;
    *cx.core.borrow_mut() = Some(core);
    park(&parker);
    let mut core = cx
        .core
        .borrow_mut()
        .take()
        .expect("the core stays in the worker context while its thread parks (SCHED-1)");
    core.in_drivers = false;
    // Time passed in the drivers: spawn stamps taken from here on are fresh.
    crate::task::stamp::refresh();
    core
}

/// Takes half of `victim`'s deque into `local`, returning one task.
fn steal_from(
    victim: &crossbeam_deque::Stealer<Runnable>,
    local: &crossbeam_deque::Worker<Runnable>,
) -> Option<Runnable> {
    loop {
        match victim.steal_batch_and_pop(local) {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// A worker thread's body: runs tasks until shutdown.
pub(crate) fn run(shared: Arc<Shared>, mut core: Box<Core>) {
    let cx = Rc::new(WorkerContext {
        shared: shared.clone(),
        core: RefCell::new(None),
    });
    let guard = WorkerContextGuard::enter(cx.clone());
    let _stamps = crate::task::stamp::WorkerThreadGuard::enter();
    // Timers this thread polls first go to its core's wheel shard, so the
    // workers do not contend on one timer lock (weft-timer `driver.rs`).
    let _timer_shard = shared.driver.timer_handle().enter_shard(core.index);
    while !shared.is_shutdown() {
        core = tick(&cx, core);
        match core.next_task(&shared).or_else(|| core.steal_work(&shared)) {
            Some(task) => core = run_task(&cx, core, task),
            None => core = park(&cx, core),
        }
    }
    drop(guard);
    // SCHED-2: the Notified references still queued here are released.
    drop(core);
}

/// Counts a worker thread out when it ends, even by unwinding (a bug), so
/// `Runtime::drop` never waits for a dead worker; tasks left in its deque
/// stay stealable through its `Stealer` until shutdown.
pub(crate) struct ExitGuard(pub(crate) Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let mut live = self.0.live_workers.lock();
        *live -= 1;
        self.0.core_returned.notify_all();
    }
}

/// Runs `task`, then up to [`MAX_LIFO_POLLS_PER_TICK`] tasks it woke into
/// the LIFO slot. The core sits in the context during each poll (SCHED-1).
pub(crate) fn run_task(cx: &WorkerContext, mut core: Box<Core>, task: Runnable) -> Box<Core> {
    let shared = &cx.shared;
    if core.is_searching {
        core.is_searching = false;
        // The last searcher to find work wakes one more (idle.rs).
        if shared.idle.transition_worker_from_searching() {
            shared.notify_parked();
        }
    }
    let mut task = task;
    let mut lifo_polls = 0;
    loop {
        let index = core.index;
        *cx.core.borrow_mut() = Some(core);
        shared.poll_task(index, task);
        core = cx
            .core
            .borrow_mut()
            .take()
            .expect("the core stays in the worker context during a poll (SCHED-1)");
        let Some(next) = core.lifo.take() else {
            return core;
        };
        if lifo_polls >= MAX_LIFO_POLLS_PER_TICK || shared.is_shutdown() {
            core.local.push(next);
            if shared.flavor == Flavor::MultiThread {
                shared.notify_parked();
            }
            return core;
        }
        lifo_polls += 1;
        task = next;
    }
}

/// Parks a worker with nothing to do until a notifier picks it, the
/// drivers hand it a task (see [`in_context`]), or shutdown.
fn park(cx: &WorkerContext, mut core: Box<Core>) -> Box<Core> {
    let shared = &*cx.shared;
    // S1..S4 of idle.rs: the last searcher re-checks before sleeping.
    if shared
        .idle
        .transition_worker_to_parked(core.index, core.is_searching)
        && shared.has_stealable_work()
    {
        shared.notify_parked();
    }
    core.is_searching = false;
    while !shared.is_shutdown() {
        core = in_context(cx, core, |parker| parker.park(&|| shared.is_idle()));
        shared.remotes[core.index]
            .metrics
            .incr(WorkerCounter::Parks);
        if core.has_local_work() {
            // The drivers woke tasks onto this core: run them. If a notifier
            // already took this worker out of the sleepers, it counted it as
            // searching (idle.rs, worker_to_notify).
            core.is_searching = !shared.idle.transition_worker_from_parked(core.index);
            // Counted as running again, so a notify cannot pick this very
            // worker: share a batch the drivers queued here.
            if core.should_notify_others() {
                shared.notify_parked();
            }
            break;
        }
        if shared.idle.is_unparked(core.index) {
            // The notifier counted us as searching (idle.rs, worker_to_notify).
            core.is_searching = true;
            break;
        }
    }
    core
}
