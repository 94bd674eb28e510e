//! Summary: `OwnedTasks`, the list of every live task of one runtime, so
//! that shutdown can drop each unfinished future exactly once.
//!
//! Role: the scheduler `bind`s each new task (taking its `Task` handle),
//! `remove`s it when it completes (`Schedule::release`), and at shutdown
//! `close_and_shutdown_all` cancels whatever is left. `Handle::dump`
//! iterates it.
//!
//! Design: a `slab` under one mutex; the task's slab key is stored in its
//! header so removal is O(1). An intrusive linked list (tokio) saves the
//! slab's vector but needs `unsafe` here; the mutex is taken twice per task
//! lifetime, which the spawn benchmark shows to be a small part of the cost.
//!
//! Invariants:
//!
//! - LIST-1: once `closed` is set no task is added, so after
//!   `close_and_shutdown_all` the list stays empty.
//! - LIST-2: a task's `owned_key` is written under the mutex when it is
//!   added and read under it when removed; a key is only removed if the slot
//!   still holds that same task.
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
    tasks: slab::Slab<Task<S>>,
    closed: bool,
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new() -> OwnedTasks<S> {
        OwnedTasks {
            inner: Mutex::new(Inner {
                tasks: slab::Slab::new(),
                closed: false,
            }),
        }
    }

    /// Adds a new task. If the list is closed (the runtime is shutting
    /// down) the task is cancelled at once and `None` is returned, so its
    /// JoinHandle reports `is_cancelled()`.
    pub(crate) fn bind(&self, task: Task<S>, notified: Notified<S>) -> Option<Notified<S>> {
        let mut inner = self.inner.lock();
        if inner.closed {
            drop(inner);
            drop(notified);
            task.shutdown();
            return None;
        }
        let entry = inner.tasks.vacant_entry();
        // Relaxed: LIST-2, the mutex orders it.
        task.header()
            .owned_key
            .store(entry.key(), Ordering::Relaxed);
        entry.insert(task);
        Some(notified)
    }

    /// Takes a completed task out of the list (LIST-2).
    pub(crate) fn remove(&self, header: &Header) -> Option<Task<S>> {
        let mut inner = self.inner.lock();
        // Relaxed: LIST-2, the mutex orders it.
        let key = header.owned_key.load(Ordering::Relaxed);
        match inner.tasks.get(key) {
            Some(task) if task.is_same(header) => Some(inner.tasks.remove(key)),
            _ => None,
        }
    }

    /// Closes the list (LIST-1) and cancels every task in it. The futures of
    /// tasks not being polled are dropped before this returns.
    pub(crate) fn close_and_shutdown_all(&self) {
        let tasks: Vec<Task<S>> = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            inner.tasks.drain().collect()
        };
        for task in tasks {
            task.shutdown();
        }
    }

    /// The number of live tasks.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().tasks.len()
    }

    /// Calls `f` on every live task's header, under the list's lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        let inner = self.inner.lock();
        for (_, task) in inner.tasks.iter() {
            f(task.header());
        }
    }
}
