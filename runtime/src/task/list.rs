//! Summary: `OwnedTasks`, the list of every live task of one runtime, so
//! that shutdown can drop each unfinished future exactly once.
//!
//! Role: the scheduler `bind`s each new task (taking its `Task` handle),
//! `remove`s it when it completes (`Schedule::release`), and at shutdown
//! `close_and_shutdown_all` cancels whatever is left. `Handle::dump`
//! iterates it.
//!
//! Design: a vector of slots plus a free list of slot keys, under one
//! mutex; the task's key is stored in its header so removal is O(1). It is
//! a slab with 8-byte slots: `Option<Task>` is one pointer, where the
//! `slab` crate's entry (an enum holding either the task or the next free
//! key) takes 16, and with 100,000 idle tasks the slots' doubling growth
//! made that difference about 10 bytes per task (issue 7). An intrusive
//! linked list (tokio) saves the vector too but needs `unsafe` here; the
//! mutex is taken twice per task lifetime, which the spawn benchmark shows
//! to be a small part of the cost.
//!
//! Invariants:
//!
//! - LIST-1: once `closed` is set no task is added, so after
//!   `close_and_shutdown_all` the list stays empty.
//! - LIST-2: a task's `owned_key` is written under the mutex when it is
//!   added and read under it when removed; a key is only removed if the slot
//!   still holds that same task.
//! - LIST-3: `free` holds exactly the keys of the empty slots, each once,
//!   and `len` counts the full ones.
//!
//! Concurrency: every field is behind `inner`'s mutex.

use super::{Header, Notified, Schedule, Task};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;

/// Every live task of one runtime.
pub(crate) struct OwnedTasks<S: 'static> {
    inner: Mutex<Inner<S>>,
}

struct Inner<S: 'static> {
    /// A task's key is its index here (LIST-2).
    slots: Vec<Option<Task<S>>>,
    /// The keys of the empty slots, reused before the vector grows (LIST-3).
    free: Vec<u32>,
    /// How many slots hold a task (LIST-3).
    len: usize,
    closed: bool,
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new() -> OwnedTasks<S> {
        OwnedTasks {
            inner: Mutex::new(Inner {
                slots: Vec::new(),
                free: Vec::new(),
                len: 0,
                closed: false,
            }),
        }
    }

    /// Adds a new task. If the list is closed (the runtime is shutting
    /// down) the task is cancelled at once and `None` is returned, so its
    /// JoinHandle reports `is_cancelled()`.
    ///
    /// # Panics
    ///
    /// With 2^32 - 1 tasks alive at once: keys are 32-bit to keep the task
    /// header small (`raw.rs`), and that many tasks would take over 200 GB.
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut inner = self.inner.lock();
        if inner.closed {
            drop(inner);
            drop(notified);
            task.shutdown();
            return None;
        }
        let key = match inner.free.pop() {
            Some(key) => key,
            None => {
                let key = u32::try_from(inner.slots.len())
                    .ok()
                    .filter(|&key| key != u32::MAX)
                    .expect("at most u32::MAX - 1 tasks can be alive at once");
                inner.slots.push(None);
                key
            }
        };
        // Relaxed: LIST-2, the mutex orders it.
        task.header().owned_key.store(key, Ordering::Relaxed);
        inner.slots[key as usize] = Some(task);
        inner.len += 1;
        Some(notified)
    }

    /// Takes a completed task out of the list (LIST-2).
    pub(crate) fn remove(&self, header: &Header) -> Option<Task<S>> {
        let mut inner = self.inner.lock();
        // Relaxed: LIST-2, the mutex orders it.
        let key = header.owned_key.load(Ordering::Relaxed);
        let slot = inner.slots.get_mut(key as usize)?;
        if !slot.as_ref().is_some_and(|task| task.is_same(header)) {
            return None;
        }
        let task = slot.take();
        inner.free.push(key);
        inner.len -= 1;
        task
    }

    /// Closes the list (LIST-1) and cancels every task in it. The futures of
    /// tasks not being polled are dropped before this returns.
    pub(crate) fn close_and_shutdown_all(&self) {
        let tasks: Vec<Task<S>> = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner.free.clear();
            inner.len = 0;
            inner.slots.drain(..).flatten().collect()
        };
        for task in tasks {
            task.shutdown();
        }
    }

    /// The number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().len
    }

    /// Calls `f` on every live task's header, under the list's lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        let inner = self.inner.lock();
        for task in inner.slots.iter().flatten() {
            f(task.header());
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::OwnedTasks;
    use crate::blocking::BlockingSchedule;
    use crate::task::{new_task, Id, Task};
    use std::mem::size_of;

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
        let list = OwnedTasks::new();
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
        assert_eq!(list.inner.lock().slots.len(), 3, "the freed key is reused");
        list.close_and_shutdown_all();
        assert_eq!(list.len(), 0);
        assert!(bind().is_none(), "no task is added once closed (LIST-1)");
        drop((removed, notified, fourth));
    }
}
