//! Summary: `Core`, one worker's private queues (LIFO slot and local
//! deque) and the operations on them: queue a woken task, choose the next
//! task to run, steal from other workers.
//!
//! Role: `Shared::schedule` hands a task woken on this core's thread to
//! [`Core::push_woken`]; the worker loop (`worker.rs`) and the
//! current-thread `block_on` (`current.rs`) ask [`Core::next_task`], the
//! one place where the next task is chosen, and [`Core::steal_work`].
//!
//! Design: the search order favours locality (LIFO slot, then the local
//! deque) but bounds unfairness with two counters: the LIFO slot may run
//! at most [`MAX_LIFO_POLLS_PER_TICK`] tasks in a row (`worker::run_task`),
//! and every [`GLOBAL_QUEUE_INTERVAL`] ticks the injector is checked first.
//! Stealing takes half of a random victim's deque (`steal_batch_and_pop`),
//! so one steal spreads a burst instead of moving one task per search.
//!
//! The fields are private: every queue operation is a method here, so the
//! rules of this file (what goes to the LIFO slot, when others must be
//! told) are read in one place. Rejected: letting `Shared` write the
//! fields while it schedules (it did; following one wake meant reading
//! both files).
//!
//! Invariants:
//!
//! - CORE-1: a task in the LIFO slot is one woken by a task polled on this
//!   core (or by the drivers on its thread); the slot holds at most one,
//!   and a new occupant pushes the previous one to the back of the deque.
//! - CORE-2: [`Core::push_woken`] reports when the deque grew outside the
//!   drivers, so the caller can wake a sleeper to steal (IDLE-1); inside
//!   the drivers the report waits for [`Core::should_notify_others`].
//!
//! Concurrency: a `Core` is owned by one thread at a time (SCHED-1); other
//! threads reach its deque only through the `Stealer` in its `Remote`.

use super::shared::Shared;
use super::Runnable;
use crate::park::{Parker, Unparker};
use crate::rng::FastRand;
use crossbeam_deque::{Stealer, Worker};

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
    index: usize,
    local: Worker<Runnable>,
    /// CORE-1.
    lifo: Option<Runnable>,
    tick: u32,
    is_searching: bool,
    /// True while this core's thread is inside the drivers (a park or the
    /// periodic driver poll). Tasks the drivers wake then land here without
    /// notifying other workers one by one; the worker checks once
    /// afterwards ([`Core::should_notify_others`]). I/O wakes come in
    /// batches, and waking a sleeper per task cost a futex wake or an
    /// eventfd write each (tokio defers the same way).
    in_drivers: bool,
    rng: FastRand,
    parker: Parker,
}

impl Core {
    pub(crate) fn new(index: usize, parker: Parker, seed: Option<u64>) -> Box<Core> {
        Box::new(Core {
            index,
            local: Worker::new_fifo(),
            lifo: None,
            tick: 0,
            is_searching: false,
            in_drivers: false,
            rng: FastRand::for_worker(seed, index),
            parker,
        })
    }

    /// This core's worker index (its `Remote`, its timer shard).
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The parker this core's thread sleeps on.
    pub(crate) fn parker(&self) -> &Parker {
        &self.parker
    }

    /// How other threads wake this core's thread.
    pub(crate) fn unparker(&self) -> Unparker {
        self.parker.unparker()
    }

    /// How other workers take from this core's deque.
    pub(crate) fn stealer(&self) -> Stealer<Runnable> {
        self.local.stealer()
    }

    /// Queues a task woken on this core's thread: a yield at the back of
    /// the deque, any other wake in the LIFO slot (CORE-1). True if another
    /// worker should be woken now to steal (CORE-2).
    pub(crate) fn push_woken(&mut self, task: Runnable, is_yield: bool) -> bool {
        if is_yield {
            self.local.push(task);
        } else if let Some(previous) = self.lifo.replace(task) {
            self.local.push(previous);
        } else {
            // Only the LIFO slot changed: nothing for another worker to steal.
            return false;
        }
        !self.in_drivers
    }

    /// Puts `task` at the back of the deque (a LIFO task that used up its
    /// turn).
    pub(crate) fn push_back(&mut self, task: Runnable) {
        self.local.push(task);
    }

    /// Takes the task in the LIFO slot, if any.
    pub(crate) fn take_lifo(&mut self) -> Option<Runnable> {
        self.lifo.take()
    }

    /// Advances the tick; true when the drivers are due a non-blocking
    /// poll ([`EVENT_INTERVAL`]).
    pub(crate) fn tick(&mut self) -> bool {
        self.tick = self.tick.wrapping_add(1);
        self.tick % EVENT_INTERVAL == 0
    }

    /// The next task from this core's queues or the injector: the one
    /// place where the scheduler chooses what runs next.
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

    /// Searches other workers' deques, then the injector (multi-thread
    /// only), counted as searching by the idle protocol (`idle.rs`).
    pub(crate) fn steal_work(&mut self, shared: &Shared) -> Option<Runnable> {
        if !shared.can_steal() {
            return None;
        }
        if !self.is_searching {
            if !shared.idle().transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let start = self.rng.below(shared.num_workers());
        shared
            .steal_from_others(self.index, start, &self.local)
            .or_else(|| shared.pop_injector(&self.local))
    }

    /// Called with a task found: Searching -> Running. The last searcher
    /// to find work wakes one more (`idle.rs`).
    pub(crate) fn stop_searching(&mut self, shared: &Shared) {
        if std::mem::take(&mut self.is_searching)
            && shared.idle().transition_worker_from_searching()
        {
            shared.notify_parked();
        }
    }

    /// S1..S4 of `idle.rs`: counts this worker parked; the last searcher
    /// re-checks every queue before sleeping.
    pub(crate) fn transition_to_parked(&mut self, shared: &Shared) {
        let was_searching = std::mem::take(&mut self.is_searching);
        if shared
            .idle()
            .transition_worker_to_parked(self.index, was_searching)
            && shared.has_stealable_work()
        {
            shared.notify_parked();
        }
    }

    /// After a park: whether this worker leaves it, and as what (`idle.rs`).
    /// True if it should run: the drivers woke tasks onto this core, or a
    /// notifier took it out of the sleepers (counting it as searching).
    pub(crate) fn transition_from_parked(&mut self, shared: &Shared) -> bool {
        if self.has_local_work() {
            // If a notifier already took this worker out of the sleepers,
            // it counted it as searching (idle.rs, worker_to_notify).
            self.is_searching = !shared.idle().transition_worker_from_parked(self.index);
            // Counted as running again, so a notify cannot pick this very
            // worker: share a batch the drivers queued here.
            self.share_driver_batch(shared);
            return true;
        }
        if shared.idle().is_unparked(self.index) {
            self.is_searching = true;
            return true;
        }
        false
    }

    /// Marks this core's thread as inside the drivers (see `in_drivers`).
    pub(crate) fn enter_drivers(&mut self) {
        self.in_drivers = true;
    }

    /// The thread left the drivers (see `in_drivers`).
    pub(crate) fn leave_drivers(&mut self) {
        self.in_drivers = false;
    }

    /// After the drivers woke tasks onto this core: wakes one sleeper to
    /// share them if this worker holds more than it runs next (CORE-2).
    pub(crate) fn share_driver_batch(&self, shared: &Shared) {
        if shared.can_steal() && self.should_notify_others() {
            shared.notify_parked();
        }
    }

    /// True if a task waits in this core's LIFO slot or deque.
    fn has_local_work(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }

    /// After the drivers woke tasks onto this core (notifications deferred,
    /// see `in_drivers`): true if there is more than this worker will run
    /// next, so a sleeper should come and steal. A searching worker does
    /// not ask: finding work, it wakes the next one itself (`idle.rs`).
    fn should_notify_others(&self) -> bool {
        !self.is_searching && usize::from(self.lifo.is_some()) + self.local.len() > 1
    }
}
