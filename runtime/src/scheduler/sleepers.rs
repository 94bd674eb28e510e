//! Summary: which workers are asleep, which are searching for work, and the
//! protocol that wakes exactly enough of them.
//!
//! Role: the multi-thread scheduler calls [`Sleepers::worker_to_notify`] after
//! queueing work another worker could steal, and the `transition_worker_*`
//! methods as a worker moves between running, searching and parked
//! (`scheduler::worker`).
//!
//! Design: waking a sleeper for every new task would stampede (a burst of
//! 1000 spawns would wake every worker 1000 times). Instead, if any worker
//! is already searching, it will find the task, so nobody is woken; a
//! searcher that finds work wakes one more sleeper only if it was the last
//! searcher, so wakeups chain across workers one at a time while work
//! remains. At most half the workers search at once, because a steal from
//! a random victim costs every searcher a pass over all queues. This is
//! Go's `spinning` M protocol as tokio adapted it.
//!
//! ```text
//!            transition_worker_to_searching (<= half searching)
//!  Running ---------------------------------------------> Searching
//!     ^   <--- transition_worker_from_searching (found) ---/   |
//!     |                                                        | found nothing:
//!     |  worker_to_notify pops it (counted as searching)       | transition_worker_to_parked
//!     +----------------------- Parked <------------------------+
//! ```
//!
//! The racy protocol, mirrored around its StoreLoad fences:
//!
//! ```text
//!   notifier (has queued a task)          last searcher (about to sleep)
//!   N1. push the task (store)             S1. transition_worker_to_parked:
//!                                             num_searching -= 1 (SeqCst RMW)
//!   N2. fence(SeqCst)                     S2. fence(SeqCst)
//!   N3. load num_searching / unparked     S3. look at every queue (loads)
//!   N4. if 0 searching: wake a sleeper    S4. if work: notify (N3..N4)
//! ```
//!
//! Either the notifier sees the searcher still counted (and the searcher's
//! S3 then sees the task), or the searcher's S3 sees the task: the fences
//! forbid both loads missing both stores, so a task is never stranded with
//! every worker asleep (SLEEP-1).
//!
//! Invariants:
//!
//! - SLEEP-1: when a task is queued, at least one worker is running,
//!   searching or will be woken to search.
//! - SLEEP-2: `num_unparked` counts workers not in `sleepers`; a worker is
//!   in `sleepers` at most once; both change together under the `sleepers`
//!   lock.
//! - SLEEP-3: `num_searching <= num_unparked <= num_workers`.
//!
//! Concurrency: `state` is read lock-free by notifiers (SeqCst for the
//! StoreLoad above); every write to it happens under the `sleepers` lock
//! except the searching increments/decrements of running workers.
//!
//! References: Go `runtime/proc.go` ("Worker thread parking/unparking");
//! tokio `runtime/scheduler/multi_thread/sleepers.rs`.

use crate::loom::{fence, AtomicUsize, Mutex, Ordering};

/// `state` packs `num_searching` in the low bits and `num_unparked` above.
const UNPARKED_SHIFT: u32 = 16;
/// The `num_searching` bits.
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
/// One unparked worker in `state`.
const UNPARKED_ONE: usize = 1 << UNPARKED_SHIFT;
/// The most workers the packing allows (the searching count must fit).
pub(crate) const MAX_WORKERS: usize = SEARCHING_MASK;

pub(crate) struct Sleepers {
    state: AtomicUsize,
    num_workers: usize,
    sleepers: Mutex<Vec<usize>>,
}

impl Sleepers {
    /// All `num_workers` start unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Sleepers {
        assert!(
            num_workers <= MAX_WORKERS,
            "worker_threads must be at most {MAX_WORKERS}, got {num_workers}"
        );
        Sleepers {
            state: AtomicUsize::new(num_workers * UNPARKED_ONE),
            num_workers,
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
        }
    }

    /// N2..N4: the worker to wake for newly queued work, if any should be.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // N2. SeqCst: StoreLoad between the caller's push (N1) and the load
        // below; pairs with S2.
        fence(Ordering::SeqCst);
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = sleepers.pop()?;
        // SLEEP-2: it leaves `sleepers` and is counted unparked and searching
        // in one step, so no other notifier wakes a second one for this task.
        // SeqCst: the store other notifiers' N3 loads must see.
        self.state.fetch_add(UNPARKED_ONE | 1, Ordering::SeqCst);
        Some(worker)
    }

    /// N3: nobody searching and somebody asleep.
    fn notify_should_wakeup(&self) -> bool {
        // SeqCst: the load half of the StoreLoad pair (N2/S2).
        let state = self.state.load(Ordering::SeqCst);
        state & SEARCHING_MASK == 0 && state >> UNPARKED_SHIFT < self.num_workers
    }

    /// Running -> Searching, unless half the workers already search.
    ///
    /// The cap is a heuristic, not an invariant: the check and the increment
    /// are two steps, so two workers racing here may briefly push the count
    /// past half. That is harmless (the cap only bounds wasted stealing; no
    /// correctness argument relies on it), and cheaper than a CAS loop.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        // SeqCst: orders with the notifier's N3 load (a searcher counted here
        // is one the notifier relies on to find its task).
        let state = self.state.load(Ordering::SeqCst);
        if 2 * (state & SEARCHING_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Searching -> Running. True if this was the last searcher: the
    /// caller must then wake one more worker (the work may not be all).
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        // SeqCst: pairs with the notifier's N3 load (SLEEP-1).
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(
            prev & SEARCHING_MASK > 0,
            "SLEEP-3: searching count underflow"
        );
        prev & SEARCHING_MASK == 1
    }

    /// S1: Running or Searching -> Parked. True if the caller was the last
    /// searcher: it must then re-check every queue (S2..S4).
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let delta = UNPARKED_ONE + usize::from(is_searching);
        // S1. SeqCst: the store half of the StoreLoad pair; S2 follows.
        let prev = self.state.fetch_sub(delta, Ordering::SeqCst);
        debug_assert!(
            !sleepers.contains(&worker),
            "SLEEP-2: worker {worker} parked twice"
        );
        sleepers.push(worker);
        drop(sleepers);
        // S2. SeqCst: StoreLoad between S1 and the caller's queue checks (S3).
        fence(Ordering::SeqCst);
        is_searching && prev & SEARCHING_MASK == 1
    }

    /// Parked -> Running for a worker that woke with tasks of its own (the
    /// drivers it was parked in woke them onto its core). True if it was
    /// still in `sleepers`; false if a notifier had already taken it out, in
    /// which case that notifier counted it as searching and it stays so.
    pub(crate) fn transition_worker_from_parked(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(position) = sleepers.iter().position(|&sleeper| sleeper == worker) else {
            return false;
        };
        sleepers.swap_remove(position);
        // SLEEP-2: leaves `sleepers` and is counted unparked under the lock.
        // SeqCst: the store notifiers' N3 loads must see (as worker_to_notify).
        self.state.fetch_add(UNPARKED_ONE, Ordering::SeqCst);
        true
    }

    /// After waking: false if the worker is still in `sleepers` (a spurious
    /// or driver wakeup: it should park again); true if a notifier took it
    /// out, in which case it is counted as searching.
    pub(crate) fn is_unparked(&self, worker: usize) -> bool {
        !self.sleepers.lock().contains(&worker)
    }

    /// True if every worker is parked (none running or searching).
    pub(crate) fn is_all_parked(&self) -> bool {
        // SeqCst: as the notifier's load (N3); an approximate answer is
        // re-checked on the next park.
        self.state.load(Ordering::SeqCst) >> UNPARKED_SHIFT == 0
    }

    /// How many workers are searching now (for tests and metrics).
    #[cfg(test)]
    fn num_searching(&self) -> usize {
        self.state.load(Ordering::SeqCst) & SEARCHING_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_half_the_workers_search() {
        for (workers, max_searching) in [(1, 1), (2, 1), (4, 2), (5, 3), (8, 4)] {
            let sleepers = Sleepers::new(workers);
            let started = (0..workers)
                .filter(|_| sleepers.transition_worker_to_searching())
                .count();
            assert_eq!(started, max_searching, "workers = {workers}");
        }
    }

    #[test]
    fn nobody_is_woken_while_a_worker_searches() {
        let sleepers = Sleepers::new(4);
        assert!(!sleepers.transition_worker_to_parked(0, false));
        assert!(sleepers.transition_worker_to_searching());
        assert_eq!(sleepers.worker_to_notify(), None);
        assert!(
            sleepers.transition_worker_from_searching(),
            "the only searcher is the last"
        );
        assert_eq!(sleepers.worker_to_notify(), Some(0));
        assert_eq!(
            sleepers.num_searching(),
            1,
            "a notified worker counts as searching"
        );
        assert_eq!(sleepers.worker_to_notify(), None, "one wakeup at a time");
    }

    #[test]
    fn worker_woken_with_its_own_tasks_leaves_the_sleepers() {
        let sleepers = Sleepers::new(2);
        assert!(!sleepers.transition_worker_to_parked(0, false));
        assert!(
            sleepers.transition_worker_from_parked(0),
            "it was a sleeper"
        );
        assert!(sleepers.is_unparked(0));
        assert_eq!(sleepers.num_searching(), 0, "it runs, it does not search");
        assert!(!sleepers.transition_worker_to_parked(1, false));
        assert_eq!(sleepers.worker_to_notify(), Some(1));
        assert!(
            !sleepers.transition_worker_from_parked(1),
            "a notifier took it out first"
        );
        assert_eq!(
            sleepers.num_searching(),
            1,
            "the notifier counted it searching"
        );
        assert_eq!(sleepers.worker_to_notify(), None, "nobody left asleep");
    }

    #[test]
    fn last_searcher_to_park_is_told_to_recheck() {
        let sleepers = Sleepers::new(2);
        assert!(sleepers.transition_worker_to_searching());
        assert!(sleepers.transition_worker_to_parked(1, true));
        assert!(!sleepers.transition_worker_to_parked(0, false));
        assert!(!sleepers.is_unparked(0) && !sleepers.is_unparked(1));
        assert_eq!(sleepers.worker_to_notify(), Some(0));
        assert!(sleepers.is_unparked(0) && !sleepers.is_unparked(1));
    }
}
