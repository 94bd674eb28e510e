//! Summary: the driving loop of a current-thread runtime in explore mode:
//! at every step the seed's strategy picks which runnable task, or the
//! future given to `block_on`, is polled next.
//!
//! Role: `current::block_on` calls [`drive`] instead of its own loop when
//! the runtime was built by `explore::run` (`Config::explore`). It polls
//! tasks through `Shared::poll_task` like every worker, asks the
//! `Chooser` (`explore/strategy.rs`) at every step, and writes the run's
//! step count and trace hash to the `ExploreRun` when it stops.
//!
//! Design: wakes and spawns land in the core's LIFO slot and deque as they
//! always do (`schedule.rs`); each step drains them, and the
//! injector, into one pool, and the strategy picks among the pool and the
//! main future (if woken). So the order of a batch of wakes, the LIFO slot
//! and `yield_now`'s back-of-the-queue rule stop mattering: the seed
//! decides. The pool keeps the keys beside the tasks and removes by
//! `swap_remove`, so a step is O(1) for `Strategy::Random`.
//!
//! The main future is polled with the core lent to the worker context, as
//! tasks are and as the normal loop does, so its spawns and wakes land on
//! the core too (through the injector they would count as wakes from
//! another thread).
//!
//! Rejected: hooking the choice into `Core::next_task` and `run_task` (two
//! branches on the normal hot path, and the LIFO chain in `run_task` would
//! still bypass the choice); a separate explore scheduler type (a second
//! copy of spawn, wake and shutdown to keep in step with this one).
//!
//! Invariants: SCHED-1 as in `current.rs` (the `CoreGuard` returns the
//! core even on unwind); EXP-5 (`explore/mod.rs`) decides a deadlock.
//!
//! Concurrency: one thread; wakes from other threads arrive through the
//! injector and mark the run as not replayable.

use super::core::EVENT_INTERVAL;
use super::main_future::{Driving, MainWaker};
use super::shared::{Runnable, Shared, WorkerCore};
use super::worker::{in_context, park_in_context};
use crate::blocking::BlockingPool;
use crate::explore::strategy::Chooser;
use crate::explore::{Abort, ExploreRun, Record};
use crate::metrics::WorkerCounter;
use crate::park::Parker;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The key that names the main future among the candidates (task ids
/// start at 1, EXP-4).
const MAIN_KEY: u64 = 0;

/// Drives `future` to completion under `explore`'s schedule.
pub(crate) fn drive<F: Future>(
    shared: &Arc<Shared>,
    core: Box<WorkerCore>,
    explore: &ExploreRun,
    blocking: &BlockingPool,
    mut future: Pin<&mut F>,
) -> F::Output {
    let mut driving = Driving::enter(shared, core);
    let guard = &mut driving.guard;
    let worker_cx = &guard.worker_cx;
    let main = &driving.registration.main;
    let mut cx = Context::from_waker(&driving.registration.waker);
    let mut pool = Pool::new(explore);
    loop {
        let mut core = guard
            .core
            .take()
            .expect("block_on holds the core (SCHED-1)");
        pool.collect(&mut core, shared);
        let core = match pool.choose(main.woken.load(Ordering::Acquire)) {
            Some(Choice::Main) => {
                main.take_woken();
                // Not a task: its poll is no task's poll time (HIST-2).
                shared.break_poll_run(core.index());
                let (core, polled) = worker_cx.lend(core, || future.as_mut().poll(&mut cx));
                if let Poll::Ready(output) = polled {
                    guard.core = Some(core);
                    return output;
                }
                core
            }
            Some(Choice::Task(task)) => {
                let index = core.index();
                worker_cx.lend(core, || shared.poll_task(index, task)).0
            }
            None => {
                if !can_progress(shared, blocking, main) {
                    guard.core = Some(core);
                    let waiting = shared.owned().len();
                    std::panic::resume_unwind(Box::new(Abort::Deadlock { waiting }));
                }
                // Paused clock: with nothing runnable the timer jumps to the
                // next deadline (`DriverPair::park`), the same every run.
                let core = park_in_context(worker_cx, core, |parker| {
                    parker.park(None, &|| shared.is_quiescent())
                });
                shared.count(core.index(), WorkerCounter::Parks);
                core
            }
        };
        // As the normal loop's `tick`, but counted in steps, so due timers
        // fire at the same steps on every run of the seed.
        let core = if pool.chooser.steps() % u64::from(EVENT_INTERVAL) == 0 {
            in_context(worker_cx, core, Parker::poll_drivers)
        } else {
            core
        };
        guard.core = Some(core);
        if let Some(message) = shared.lifecycle().shutdown_panic() {
            std::panic::resume_unwind(Box::new(Abort::TaskPanicked(message)));
        }
    }
}

/// EXP-5: something could still make a task (or the main future)
/// runnable. Checked in this order so that a pool thread finishing after
/// the first check has pushed its wake before the last ones run.
fn can_progress(shared: &Shared, blocking: &BlockingPool, main: &MainWaker) -> bool {
    shared.driver().can_wake_a_task()
        || blocking.has_work_in_flight()
        || shared.queues().has_stealable_work()
        || main.woken.load(Ordering::Acquire)
}

/// What a step runs.
enum Choice {
    Main,
    Task(Runnable),
}

/// The runnable tasks of the run, the chooser, and what it records.
struct Pool<'a> {
    explore: &'a ExploreRun,
    chooser: Chooser,
    tasks: Vec<Runnable>,
    /// `keys[i]` is the id of `tasks[i]`, plus `MAIN_KEY` at the end while
    /// a choice is made.
    keys: Vec<u64>,
    remote_wakes: bool,
}

impl Pool<'_> {
    fn new(explore: &ExploreRun) -> Pool<'_> {
        Pool {
            explore,
            chooser: explore.chooser(),
            tasks: Vec::new(),
            keys: Vec::new(),
            remote_wakes: false,
        }
    }

    /// Moves every queued task into the pool: first those from other
    /// threads, then the core's in `Core::next_task` order (LIFO slot,
    /// deque), so the pool's order is the same every run.
    fn collect(&mut self, core: &mut WorkerCore, shared: &Shared) {
        while let Some(task) = shared.queues().pop_injector_one() {
            self.remote_wakes = true;
            self.push(task);
        }
        loop {
            // A yielded task at the front of the deque waits for a turn
            // (CORE-3); here the seed decides who runs, so it joins the
            // pool with the rest.
            if core.turn_due() {
                core.begin_turn(shared.queues());
            }
            match core.next_task(shared.queues()) {
                Some(task) => self.push(task),
                None => break,
            }
        }
    }

    fn push(&mut self, task: Runnable) {
        self.keys.push(task.header().id.as_u64());
        self.tasks.push(task);
    }

    /// Lets the strategy pick among the pool and, if woken, the main future.
    fn choose(&mut self, main_woken: bool) -> Option<Choice> {
        if main_woken {
            self.keys.push(MAIN_KEY);
        }
        if self.keys.is_empty() {
            return None;
        }
        let index = self.chooser.choose(&self.keys);
        if main_woken {
            self.keys.pop();
            if index == self.tasks.len() {
                return Some(Choice::Main);
            }
        }
        self.keys.swap_remove(index);
        Some(Choice::Task(self.tasks.swap_remove(index)))
    }
}

impl Drop for Pool<'_> {
    /// Reports the run to `explore::run`, also when it unwinds.
    fn drop(&mut self) {
        self.explore.set_record(Record {
            steps: self.chooser.steps(),
            trace: self.chooser.trace(),
            remote_wakes: self.remote_wakes,
        });
    }
}
