//! Summary: `OwnedTasks`, the list of every live task of one runtime, so
//! that shutdown can drop each unfinished future exactly once.
//!
//! Role: the scheduler `bind`s each new task (taking its `Task` handle),
//! `remove`s it when it completes (`Schedule::release`), and at shutdown
//! `close_and_shutdown_all` cancels whatever is left. `Handle::dump`
//! iterates it.
//!
//! Design: the list is split into shards, a power of two of them, and a
//! task lives in shard `id & (shards - 1)`. Each shard is a vector of slots
//! plus a free list of slot keys, under its own mutex, on its own cache
//! line; the task's key within its shard is stored in its header, so
//! removal is O(1). Shards because every task takes the lock twice, once
//! on spawn and once on completion, usually on two different workers: with
//! consecutive ids spread over the shards, the spawner and the completer
//! rarely want the same one at the same time (tokio shards its list the
//! same way; `docs/performance.md` has the lock-wait measurements). A list
//! per worker, with completions handed back to the spawning worker, would
//! also avoid the cache misses that remain. A shard is a slab with 8-byte
//! slots: `Option<Task>` is one pointer, where the `slab` crate's entry (an
//! enum holding either the task or the next free key) takes 16, which
//! memory per idle task pays for. An intrusive linked list (tokio) saves
//! the vectors too but needs `unsafe` here.
//!
//! Invariants:
//!
//! - LIST-1: once a shard's `closed` is set no task is added to it;
//!   `close_and_shutdown_all` closes and drains every shard, so after it the
//!   list stays empty.
//! - LIST-2: a task's `owned_key` is written under its shard's mutex when it
//!   is added and read under it when removed; a key is only removed if the
//!   slot still holds that same task. The shard is a function of the task's
//!   id, which never changes.
//! - LIST-3: in each shard, `free` holds exactly the keys of the empty
//!   slots, each once, and `len` counts the full ones.
//!
//! Concurrency: every field of a shard is behind that shard's mutex; no
//! operation holds two shards' locks at once.

use super::raw::Header;
use super::schedule::{Notified, Schedule, Task};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;

/// Shards per worker thread: enough that the spawning and the completing
/// worker seldom meet in one shard, few enough that `len` and `dump` (which
/// visit every shard) stay cheap. tokio uses four per worker too.
const SHARDS_PER_WORKER: usize = 4;

/// Every live task of one runtime.
pub(crate) struct OwnedTasks<S: 'static> {
    /// A power of two of shards; a task lives in `id & mask`.
    shards: Box<[CachePadded<Mutex<Shard<S>>>]>,
    mask: usize,
}

/// Keeps each shard's lock and vectors on their own cache lines (128
/// bytes: adjacent-line prefetching pairs 64-byte lines on x86).
#[repr(align(128))]
struct CachePadded<T>(T);

struct Shard<S: 'static> {
    /// A task's key is its index here (LIST-2).
    slots: Vec<Option<Task<S>>>,
    /// The keys of the empty slots, reused before the vector grows (LIST-3).
    free: Vec<u32>,
    /// How many slots hold a task (LIST-3).
    len: usize,
    closed: bool,
}

impl<S: Schedule> OwnedTasks<S> {
    /// A list for a runtime with `workers` worker threads.
    pub(crate) fn new(workers: usize) -> OwnedTasks<S> {
        Self::with_shards((workers.max(1) * SHARDS_PER_WORKER).next_power_of_two())
    }

    /// A list of `count` shards; `count` is a power of two.
    fn with_shards(count: usize) -> OwnedTasks<S> {
        assert!(count.is_power_of_two(), "the shard count is a power of two");
        let shards = (0..count)
            .map(|_| {
                CachePadded(Mutex::new(Shard {
                    slots: Vec::new(),
                    free: Vec::new(),
                    len: 0,
                    closed: false,
                }))
            })
            .collect();
        OwnedTasks {
            shards,
            mask: count - 1,
        }
    }

    /// The shard of the task whose header is `header` (LIST-2).
    fn shard(&self, header: &Header) -> &Mutex<Shard<S>> {
        // Truncating the id is fine: only its low bits pick the shard.
        &self.shards[header.id.as_u64() as usize & self.mask].0
    }

    /// Adds a new task. If the list is closed (the runtime is shutting
    /// down) the task is cancelled at once and `None` is returned, so its
    /// JoinHandle reports `is_cancelled()`.
    ///
    /// # Panics
    ///
    /// With 2^32 - 1 tasks alive at once in one shard: keys are 32-bit to
    /// keep the task header small (`raw.rs`), and that many tasks would take
    /// over 200 GB.
    ///
    /// Always inlined: as a call, its prologue, epilogue and the caller's
    /// spills cost 21 instructions per spawn beside its own 48
    /// (`docs/performance.md`, "Session 9: three calls fewer per spawn").
    #[inline(always)]
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut shard = self.shard(task.header()).lock();
        if shard.closed {
            drop(shard);
            refuse(task, notified);
            return None;
        }
        let key = match shard.free.pop() {
            Some(key) => key,
            None => shard.new_key(),
        };
        // Relaxed: LIST-2, the mutex orders it.
        task.header().owned_key.store(key, Ordering::Relaxed);
        // LIST-3: a free key's slot is empty, so nothing is dropped here
        // (and no drop is compiled in).
        let empty = shard.slots[key as usize].replace(task);
        debug_assert!(empty.is_none(), "a free key's slot is empty (LIST-3)");
        std::mem::forget(empty);
        shard.len += 1;
        Some(notified)
    }

    /// Takes a completed task out of the list (LIST-2).
    #[inline]
    pub(crate) fn remove(&self, header: &Header) -> Option<Task<S>> {
        let mut shard = self.shard(header).lock();
        // Relaxed: LIST-2, the mutex orders it.
        let key = header.owned_key.load(Ordering::Relaxed);
        let slot = shard.slots.get_mut(key as usize)?;
        if !slot.as_ref().is_some_and(|task| task.is_same(header)) {
            return None;
        }
        let task = slot.take();
        shard.free.push(key);
        shard.len -= 1;
        task
    }

    /// Closes the list (LIST-1) and cancels every task in it. The futures of
    /// tasks not being polled are dropped before this returns.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            let tasks: Vec<Task<S>> = {
                let mut shard = shard.0.lock();
                shard.closed = true;
                shard.free.clear();
                shard.len = 0;
                shard.slots.drain(..).flatten().collect()
            };
            // With the shard's lock released: a task's drop may spawn (and
            // be refused by a closed shard) or complete other tasks.
            for task in tasks {
                task.shutdown();
            }
        }
    }

    /// The number of live tasks (a sum over the shards, so only a snapshot
    /// while tasks come and go).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.0.lock().len).sum()
    }

    /// Calls `f` on every live task's header, one shard's lock at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let shard = shard.0.lock();
            for task in shard.slots.iter().flatten() {
                f(task.header());
            }
        }
    }
}

impl<S: 'static> Shard<S> {
    /// A key for a new slot at the end (the free list is empty).
    #[cold]
    #[inline(never)]
    fn new_key(&mut self) -> u32 {
        let key = u32::try_from(self.slots.len())
            .ok()
            .filter(|&key| key != u32::MAX)
            .expect("at most u32::MAX - 1 tasks can be alive at once");
        self.slots.push(None);
        key
    }
}

/// A task spawned onto a closed list (the runtime is shutting down): it is
/// cancelled at once, so its JoinHandle reports `is_cancelled()`.
#[cold]
#[inline(never)]
fn refuse<S: Schedule>(task: Task<S>, notified: Notified<S>) {
    drop(notified);
    task.shutdown();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::OwnedTasks;
    use crate::blocking::BlockingSchedule;
    use crate::task::id::Id;
    use crate::task::schedule::Task;
    use crate::task::spawn::new_task;
    use std::mem::size_of;

    /// With many shards, tasks spread over them, and `len`, `for_each`,
    /// `remove` and closing see every task wherever it lives (LIST-1..3).
    #[test]
    fn tasks_spread_over_shards_and_every_operation_sees_them_all() {
        let list = OwnedTasks::new(2);
        assert_eq!(list.shards.len(), 8);
        let notified: Vec<_> = (0..100)
            .map(|_| {
                let (task, notified, join) = new_task(async {}, BlockingSchedule, Id::next());
                drop(join);
                list.bind(task, notified).expect("list is open")
            })
            .collect();
        assert!(list.shards.iter().all(|shard| shard.0.lock().len > 0));
        let removed: Vec<_> = notified
            .iter()
            .step_by(2)
            .map(|n| list.remove(n.header()).expect("bound"))
            .collect();
        assert_eq!(list.len(), 50);
        let mut seen = 0;
        list.for_each(|_| seen += 1);
        assert_eq!(seen, 50);
        list.close_and_shutdown_all();
        assert_eq!(list.len(), 0);
        drop((removed, notified));
    }

    /// Race: four threads bind tasks and remove every other one while a
    /// fifth closes the list midway. Every task ends exactly one way: bound
    /// then removed, bound then cancelled by the close, or refused at bind
    /// (LIST-1); and every future is dropped exactly once.
    #[test]
    fn binds_and_removes_racing_a_close_account_for_every_task() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Barrier};
        const THREADS: usize = 4;
        const PER_THREAD: usize = 2_000;
        struct CountDrop(Arc<AtomicUsize>);
        impl Drop for CountDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let list = Arc::new(OwnedTasks::new(2));
        let dropped = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(THREADS + 1));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (list, dropped, start) = (list.clone(), dropped.clone(), start.clone());
                std::thread::spawn(move || {
                    let (mut removed, mut refused) = (0, 0);
                    let mut kept = Vec::new();
                    start.wait();
                    for i in 0..PER_THREAD {
                        let guard = CountDrop(dropped.clone());
                        let future = async move { drop(guard) };
                        let (task, notified, join) = new_task(future, BlockingSchedule, Id::next());
                        drop(join);
                        let Some(notified) = list.bind(task, notified) else {
                            refused += 1;
                            continue;
                        };
                        if i % 2 == 0 && list.remove(notified.header()).is_some() {
                            removed += 1;
                        }
                        kept.push(notified);
                    }
                    (removed, refused, kept)
                })
            })
            .collect();
        start.wait();
        std::thread::yield_now();
        list.close_and_shutdown_all();
        let mut kept = Vec::new();
        let (mut removed, mut refused) = (0, 0);
        for worker in workers {
            let (r, f, k) = worker.join().expect("worker thread");
            removed += r;
            refused += f;
            kept.extend(k);
        }
        assert_eq!(list.len(), 0, "LIST-1: nothing stays after the close");
        assert!(removed + refused <= THREADS * PER_THREAD);
        drop(kept); // the last references: unpolled futures are dropped now
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            THREADS * PER_THREAD,
            "every future dropped exactly once"
        );
    }

    /// The reason for the hand-made slab: a slot is one pointer.
    #[test]
    fn a_slot_is_one_pointer() {
        assert_eq!(
            size_of::<Option<Task<BlockingSchedule>>>(),
            size_of::<usize>()
        );
    }

    /// Keys of removed tasks are reused, a task is removed once, `len`
    /// follows (LIST-2, LIST-3), and closing empties the list (LIST-1).
    #[test]
    fn removed_keys_are_reused_and_len_follows() {
        let list = OwnedTasks::with_shards(1);
        let bind = || {
            let (task, notified, join) = new_task(async {}, BlockingSchedule, Id::next());
            drop(join);
            list.bind(task, notified)
        };
        // Each `Notified` keeps its task alive, so its header can be used.
        let notified: Vec<_> = (0..3).map(|_| bind().expect("list is open")).collect();
        assert_eq!(list.len(), 3);
        let removed = list.remove(notified[1].header());
        assert!(removed.is_some(), "a bound task is removed");
        assert!(list.remove(notified[1].header()).is_none(), "only once");
        assert_eq!(list.len(), 2);
        let fourth = bind().expect("list is open");
        assert_eq!(list.len(), 3);
        let slots: usize = list.shards.iter().map(|s| s.0.lock().slots.len()).sum();
        assert_eq!(slots, 3, "the freed key is reused");
        list.close_and_shutdown_all();
        assert_eq!(list.len(), 0);
        assert!(bind().is_none(), "no task is added once closed (LIST-1)");
        drop((removed, notified, fourth));
    }
}
