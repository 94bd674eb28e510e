//! Summary: `Core`, one worker's private queues (LIFO slot and local
//! deque) and the operations on them: queue a woken task, choose the next
//! task to run, give yielded tasks their turn, steal from other workers,
//! rescue tasks stranded behind a worker stuck in one long poll.
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
//! Where a task woken on this core's thread goes:
//!
//! ```text
//!   woken by another task (or the drivers)  -> LIFO slot (run next; the
//!                                              previous occupant -> deque)
//!   woken during its own poll (a yield,     -> back of the deque, behind a
//!   or a wake that came while it ran)          "turn": before it reaches the
//!                                              front, the drivers are polled
//!                                              and every task then in the
//!                                              injector runs first
//! ```
//!
//! So `yield_now` yields: every task runnable when it was called (in the
//! LIFO slot, the deque or the injector) runs before the yielder again,
//! and the drivers get their turn first, on both flavours. The turn is a
//! count ([`Core::turn_due`]): the deque's length when the first yield
//! since the last turn was queued, counted down by pops; one turn serves
//! every yield queued before it. The periodic driver poll (every
//! [`EVENT_INTERVAL`] ticks) is such a turn too: with more yielders than
//! that, a round never reaches its own turn, so a yield costs no extra
//! driver poll. On the multi-thread flavour a thief may
//! take tasks from the front, so the count may run late; the tasks it
//! took run elsewhere meanwhile.
//!
//! Rejected: the back of the deque alone (weft's first version: on
//! current-thread two yielders never let a task in the injector in, since
//! the injector is read only when the deque is empty: `a0 a1 a2 b0 b1
//! b2`); a separate yielded list flushed to the deque after the drivers'
//! turn (tokio's `defer`): every yield then costs a second queue operation
//! (`docs/performance.md`), and a list only the owner reads is stranded
//! behind a blocked worker; the injector (a contended push per yield, and
//! a remote wake of this very thread).
//!
//! A worker stuck in one long poll (a CPU loop, a blocking call by
//! mistake) strands what only it can run: its LIFO slot (pushing to its
//! deque woke a sleeper to steal). The worker parked in the drivers checks
//! every [`STALL_CHECK_INTERVAL`] while some worker runs
//! ([`Core::watch_for_stalls`]); a worker that started no poll over a whole
//! interval is stuck, and [`Core::rescue_stranded`] takes its LIFO task and
//! a batch of its deque (`lifo.rs` says why only then).
//!
//! Invariants:
//!
//! - CORE-1: a task in the LIFO slot is one woken by a task polled on this
//!   core (or by the drivers on its thread); the slot holds at most one,
//!   and a new occupant pushes the previous one to the back of the deque.
//! - CORE-2: [`Core::push_woken`] reports when the deque grew outside the
//!   drivers, so the caller can wake a sleeper to steal (SLEEP-1); inside
//!   the drivers the report waits for [`Core::share_batch`].
//! - CORE-3: while `turn_in` is `Some(n)`, the task `n` places from the
//!   front of the deque (absent thieves) is the first one queued by a
//!   yield since the last turn; a turn (drivers, then the injector's tasks)
//!   happens before it is popped: the one `worker::find_task` gives when
//!   it is due, or the periodic driver poll if that comes first (explore
//!   mode, which drains the queues and lets its seed choose, skips turns).
//! - CORE-4: the LIFO slot is empty whenever this worker parks or steals
//!   (`next_task` takes it first).
//! - CORE-5: a LIFO task that used up the run of
//!   [`MAX_LIFO_POLLS_PER_TICK`] goes to the back of the deque, and a
//!   sleeper is woken to steal it only if the deque already held a task
//!   ([`Core::has_queued`]). Behind an empty deque it is this worker's
//!   next task, so waking another worker only made it search, find
//!   nothing and park again: a chain of spawns (each task spawning the
//!   next) paid a futex wake every fourth link and a sibling reading its
//!   deque's lines, twice the time per link (`docs/performance.md`,
//!   "Session 8: a wake for nothing"). If this worker's next poll is an
//!   injector task that blocks (one due every [`GLOBAL_QUEUE_INTERVAL`]
//!   ticks, or one of a yield turn's injector tasks, `turn_injector`),
//!   the task waits for the stall rescue, as a LIFO task does.
//!
//! Concurrency: a `Core` is owned by one thread at a time (SCHED-1); other
//! threads reach its deque only through the `Stealer` in its `Remote`, and
//! its LIFO slot only through the shared `LifoSlot` (a rescue).

use super::lifo::LifoSlot;
use super::queues::{Queues, Remote};
use crate::metrics::WorkerMetrics;
use crate::park::Parker;
use crate::rng::FastRand;
use crate::task::Notified;
use crossbeam_deque::Worker;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How long a worker may sit in one poll, holding tasks only it can run,
/// before the driver holder rescues them. Short enough that a stranded
/// task waits milliseconds, not the whole blocking call; long enough that
/// the check (a wakeup of the driver holder while another worker runs) is
/// a few hundred cheap wakeups a second at most, and that a request/
/// response pair in the LIFO slot is never split across workers.
pub(crate) const STALL_CHECK_INTERVAL: Duration = Duration::from_millis(5);

/// One worker's private state (SCHED-1). Generic over the task's
/// scheduler handle `S` like `Queues` (`queues.rs` says why); the runtime's
/// cores are `Core<Arc<Shared>>`.
pub(crate) struct Core<S: 'static> {
    index: usize,
    local: Worker<Notified<S>>,
    /// CORE-1. Shared with this worker's `Remote` for rescues.
    lifo: Arc<LifoSlot<S>>,
    /// CORE-3: deque pops left before a yielded task is at the front.
    turn_in: Option<usize>,
    /// Tasks still to take from the injector, one by one, for the current
    /// turn (those queued there when it began).
    turn_injector: usize,
    /// The other workers' poll counts when the stall check began, and when
    /// (`watch_for_stalls`); empty while not watching.
    stall_watch: Vec<u64>,
    stall_watch_since: Option<Instant>,
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

impl<S: 'static> Core<S> {
    pub(crate) fn new(index: usize, parker: Parker, seed: Option<u64>) -> Box<Core<S>> {
        Box::new(Core {
            index,
            local: Worker::new_fifo(),
            lifo: Arc::new(LifoSlot::new()),
            turn_in: None,
            turn_injector: 0,
            stall_watch: Vec::new(),
            stall_watch_since: None,
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
    pub(crate) fn unparker(&self) -> crate::park::Unparker {
        self.parker.unparker()
    }

    /// What other threads may touch of this core: its stealer, its LIFO
    /// slot (for rescues), its unparker and `metrics`.
    pub(crate) fn remote(&self, metrics: WorkerMetrics) -> Remote<S> {
        Remote::new(
            self.local.stealer(),
            self.lifo.clone(),
            self.parker.unparker(),
            metrics,
        )
    }

    /// Queues a task woken on this core's thread: a yield at the back of
    /// the deque behind a turn (CORE-3), any other wake in the LIFO slot
    /// (CORE-1). True if another worker should be woken now to steal
    /// (CORE-2).
    #[inline(always)]
    pub(crate) fn push_woken(&mut self, task: Notified<S>, is_yield: bool) -> bool {
        if is_yield {
            if self.turn_in.is_none() {
                self.turn_in = Some(self.local.len());
            }
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
    #[inline]
    pub(crate) fn push_back(&mut self, task: Notified<S>) {
        self.local.push(task);
    }

    /// True if the deque holds a task (CORE-5: whether a LIFO task moved
    /// to its back waits behind others).
    #[inline]
    pub(crate) fn has_queued(&self) -> bool {
        !self.local.is_empty()
    }

    /// Takes the task in the LIFO slot, if any.
    #[inline]
    pub(crate) fn take_lifo(&mut self) -> Option<Notified<S>> {
        self.lifo.take()
    }

    /// True when a yielded task is at the front of the deque and its turn
    /// has not come yet (CORE-3): the caller polls the drivers, then calls
    /// [`Core::begin_turn`].
    #[inline]
    pub(crate) fn turn_due(&self) -> bool {
        self.turn_in == Some(0)
    }

    /// After the drivers' turn (the one due, or the periodic poll): every
    /// task now in the injector runs before the yielded tasks (CORE-3), and
    /// the next yield starts a new count. Nothing to do if no yield waits.
    #[inline]
    pub(crate) fn begin_turn(&mut self, queues: &Queues<S>) {
        if self.turn_in.take().is_some() {
            self.turn_injector = queues.injector_len();
        }
    }

    /// Advances the tick; true when the drivers are due a non-blocking
    /// poll ([`EVENT_INTERVAL`]).
    #[inline]
    pub(crate) fn tick(&mut self) -> bool {
        self.tick = self.tick.wrapping_add(1);
        self.tick % EVENT_INTERVAL == 0
    }

    /// The next task from this core's queues or the injector: the one
    /// place where the scheduler chooses what runs next.
    #[inline(always)]
    pub(crate) fn next_task(&mut self, queues: &Queues<S>) -> Option<Notified<S>> {
        if self.turn_injector > 0 {
            // One at a time: a batch would land behind the yielded tasks.
            self.turn_injector -= 1;
            match queues.pop_injector_one() {
                Some(task) => return Some(task),
                None => self.turn_injector = 0,
            }
        }
        if self.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = queues.pop_injector(&self.local) {
                return Some(task);
            }
        }
        self.lifo
            .take()
            .or_else(|| self.pop_local())
            .or_else(|| queues.pop_injector(&self.local))
    }

    /// Pops the deque, counting down to the yielded tasks' turn (CORE-3).
    #[inline]
    fn pop_local(&mut self) -> Option<Notified<S>> {
        // `worker::find_task` gives a due turn before it asks, so a due
        // turn here means a caller that drains the queues without turns
        // (explore mode, whose seed picks the order): forget it.
        let task = self.local.pop()?;
        // With no turn pending (the common case) this is a load and a branch.
        if let Some(left) = self.turn_in {
            self.turn_in = left.checked_sub(1);
        }
        Some(task)
    }

    /// Starts (or keeps) watching the other workers for a stall, if this
    /// worker is about to park in the drivers while another runs: returns
    /// the park timeout that brings it back to [`Core::rescue_stranded`].
    pub(crate) fn watch_for_stalls(&mut self, queues: &Queues<S>) -> Option<Duration> {
        if !queues.can_steal() || queues.sleepers().is_all_parked() {
            self.stall_watch_since = None;
            return None;
        }
        if self.stall_watch_since.is_none() {
            self.stall_watch.clear();
            self.stall_watch
                .extend((0..queues.num_workers()).map(|worker| queues.polls_of(worker)));
            self.stall_watch_since = Some(Instant::now());
        }
        Some(STALL_CHECK_INTERVAL)
    }

    /// After a park with a stall watch: takes into this core's deque the
    /// LIFO task and a batch of the deque of every worker that ran no new
    /// poll for a whole [`STALL_CHECK_INTERVAL`]. A new watch starts at the
    /// next park.
    pub(crate) fn rescue_stranded(&mut self, queues: &Queues<S>) {
        let Some(since) = self.stall_watch_since else {
            return;
        };
        if since.elapsed() < STALL_CHECK_INTERVAL {
            return;
        }
        self.stall_watch_since = None;
        for (victim, &polls) in self.stall_watch.iter().enumerate() {
            if victim != self.index && queues.polls_of(victim) == polls {
                queues.rescue_from(victim, self.index, &self.local);
            }
        }
    }

    /// Forgets a stall watch (this worker found work: its snapshot is stale).
    pub(crate) fn stop_watching(&mut self) {
        self.stall_watch_since = None;
    }

    /// Searches other workers' deques, then the injector (multi-thread
    /// only), counted as searching by the sleep protocol (`sleepers.rs`).
    pub(crate) fn steal_work(&mut self, queues: &Queues<S>) -> Option<Notified<S>> {
        if !queues.can_steal() {
            return None;
        }
        if !self.is_searching {
            if !queues.sleepers().transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let start = self.rng.below(queues.num_workers());
        queues
            .steal_from_others(self.index, start, &self.local)
            .or_else(|| queues.pop_injector(&self.local))
    }

    /// Called with a task found: Searching -> Running. The last searcher
    /// to find work wakes one more (`sleepers.rs`).
    pub(crate) fn stop_searching(&mut self, queues: &Queues<S>) {
        if std::mem::take(&mut self.is_searching)
            && queues.sleepers().transition_worker_from_searching()
        {
            queues.notify_parked();
        }
    }

    /// S1..S4 of `sleepers.rs`: counts this worker parked; the last searcher
    /// re-checks every queue before sleeping.
    pub(crate) fn transition_to_parked(&mut self, queues: &Queues<S>) {
        let was_searching = std::mem::take(&mut self.is_searching);
        if queues
            .sleepers()
            .transition_worker_to_parked(self.index, was_searching)
            && queues.has_stealable_work()
        {
            queues.notify_parked();
        }
    }

    /// After a park: whether this worker leaves it, and as what (`sleepers.rs`).
    /// True if it should run: the drivers woke tasks onto this core, or a
    /// notifier took it out of the sleepers (counting it as searching).
    pub(crate) fn transition_from_parked(&mut self, queues: &Queues<S>) -> bool {
        if self.has_local_work() {
            // If a notifier already took this worker out of the sleepers,
            // it counted it as searching (sleepers.rs, worker_to_notify).
            self.is_searching = !queues.sleepers().transition_worker_from_parked(self.index);
            // Counted as running again, so a notify cannot pick this very
            // worker: share a batch the drivers queued here.
            self.share_batch(queues);
            return true;
        }
        if queues.sleepers().is_unparked(self.index) {
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
    pub(crate) fn share_batch(&self, queues: &Queues<S>) {
        if queues.can_steal() && self.should_notify_others() {
            queues.notify_parked();
        }
    }

    /// True if a task waits in this core's LIFO slot or deque.
    fn has_local_work(&self) -> bool {
        self.lifo.is_occupied() || !self.local.is_empty()
    }

    /// After the drivers woke tasks onto this core (notifications deferred,
    /// see `in_drivers`): true if there is more than this worker will run
    /// next, so a sleeper should come and steal. A searching worker does
    /// not ask: finding work, it wakes the next one itself (`sleepers.rs`).
    fn should_notify_others(&self) -> bool {
        !self.is_searching && usize::from(self.lifo.is_occupied()) + self.local.len() > 1
    }
}
