//! Summary: where a spawned or woken task goes: spawning onto the
//! runtime, and `Schedule for Arc<Shared>`, the wake path every task of
//! the runtime takes.
//!
//! Role: `Handle::spawn` calls [`Shared::spawn`] (and `task::Builder`
//! [`Shared::spawn_with`], `spawn_local` [`Shared::spawn_local`]); a task's
//! waker calls `Schedule::schedule` (or `yield_now`), which queues it on
//! this thread's core through the worker context (`worker_context.rs`) or
//! through the injector (`queues.rs`).
//!
//! Design: where a woken task goes:
//!
//! ```text
//!   woken on a worker of this runtime (core in hand: while it polls a
//!   task, or while it is parked in or polling the drivers):
//!       -> Core::push_woken (core.rs: yield to the deque, else LIFO slot)
//!   woken anywhere else (another thread, another runtime):
//!       -> global Injector, then wake a sleeper (sleepers.rs protocol)
//! ```
//!
//! This file sits above `worker_context.rs` (which holds a `Shared` and
//! a core) and `shared.rs`: rejected, the wake path inside `shared.rs`,
//! which made `shared <-> worker_context` a circle.
//!
//! Invariants: SCHED-1, SCHED-2, SCHED-4 (`scheduler/mod.rs`).
//!
//! Unsafe: one block, outside the task modules that otherwise hold the
//! crate's `unsafe`: `spawn_local` creates a task whose future is not
//! `Send`, which is sound only because this runtime promises to run it on
//! one thread (INV-10, LIFE-3); that promise is the scheduler's to make,
//! so the block sits here, next to the check that the caller is that thread.
//!
//! Concurrency: a wake may come from any thread; only the thread that
//! drives a core reaches it (SCHED-1), every other wake goes through the
//! lock-free injector.

use super::shared::{Runnable, Shared};
use super::worker_context::{current_context, with_context_core, WorkerContext};
use crate::debug::UnhandledPanic;
use crate::metrics::SharedMetrics;
use crate::task::{
    self, Header, Id, JoinHandle, Notified, Observer, Schedule, Site, SpawnMeta, Task, TaskMeta,
};
use crate::trace;
use std::any::Any;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

impl Shared {
    /// Spawns `future` onto this runtime.
    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, SpawnMeta::new(trace::Kind::Task))
    }

    /// Spawns `future` with a name or other options (`task::Builder`).
    pub(crate) fn spawn_with<F>(
        self: &Arc<Self>,
        future: F,
        meta: SpawnMeta<'_>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // One look at the thread-local for the stamp and the queueing both.
        let cx = current_context(self);
        let spawned = self.spawn_stamp_for(cx.is_some());
        let (task, notified, join) =
            task::new_task_at(future, self.clone(), spawned, || self.identify(meta));
        self.count_spawn();
        if let Some(notified) = self.owned().bind(task, notified) {
            self.schedule_spawned(cx.as_deref(), notified);
        }
        join
    }

    /// Spawns a local task (its future need not be `Send`) onto this
    /// `LocalRuntime`, from its owner thread.
    ///
    /// # Panics
    ///
    /// Panics unless this is a `LocalRuntime` and the caller is on its
    /// owner thread (the callers in `local.rs` check first, with a message
    /// for the user; this is the soundness check).
    pub(crate) fn spawn_local<F>(
        self: &Arc<Self>,
        future: F,
        meta: SpawnMeta<'_>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            self.lifecycle().is_local_owner(),
            "a local task may only be spawned on the thread that owns its LocalRuntime"
        );
        let cx = current_context(self);
        let spawned = self.spawn_stamp_for(cx.is_some());
        // SAFETY: INV-10 (task/raw.rs): this runtime's core is driven only by
        // its owner thread (LIFE-3), the thread we are on (asserted above),
        // and the task and its queue entry go to this runtime alone.
        let (task, notified, join) =
            unsafe { task::new_local_task(future, self.clone(), spawned, || self.identify(meta)) };
        self.count_spawn();
        if let Some(notified) = self.owned().bind(task, notified) {
            self.schedule_spawned(cx.as_deref(), notified);
        }
        join
    }

    /// The id and site of a task spawned now (`task::SpawnMeta::site`,
    /// which calls the spawn hook). The common spawn (unnamed, on a runtime
    /// with no hooks, no histograms and no explore mode) takes a
    /// process-wide id and the one-word site after one test of one flag,
    /// the test explore mode's ids need anyway; everything else is out of
    /// line.
    #[inline]
    fn identify(&self, meta: SpawnMeta<'_>) -> (Id, Site) {
        if self.config().plain_spawns && meta.name.is_none() && !trace::ENABLED {
            return (Id::next(), Site::plain(meta.spawned_at));
        }
        self.identify_observed(meta.name, meta.kind, meta.spawned_at)
    }

    /// [`identify`](Self::identify) for a named, hooked, timed, traced or
    /// explored spawn. It takes the parts of the `SpawnMeta`, not the
    /// struct, so the caller passes them in registers.
    #[cold]
    #[inline(never)]
    fn identify_observed(
        &self,
        name: Option<&str>,
        kind: trace::Kind,
        spawned_at: &'static Location<'static>,
    ) -> (Id, Site) {
        // Explore mode counts ids per runtime, so that a replayed schedule
        // shows the same ones.
        let id = match self.explore() {
            None => Id::next(),
            Some(explore) => explore.next_id(),
        };
        let config = self.config();
        let observer = Observer {
            hooks: config.hooks.as_deref(),
            stamps_wakes: config.poll_histograms,
        };
        let meta = SpawnMeta {
            name,
            kind,
            spawned_at,
        };
        (id, meta.site(id, observer))
    }

    /// Queues `task`: on this thread's core if it drives one of ours, else
    /// through the injector. With the histograms on, the wake is stamped
    /// first (a test in each arm, so the queueing has one shape and one
    /// copy whether or not they are on).
    ///
    /// `self` may be the handle inside `task`'s own block (SCHED-4: a wake,
    /// which the last argument says): after the push it is not read again.
    /// On this core's path `shared`, the `Shared` itself, is kept alive by
    /// the worker context's `Arc`; a wake on the remote path holds a clone
    /// of its own until the notify is done. A spawn's `self` is the
    /// caller's.
    #[inline]
    fn schedule_task(self: &Arc<Self>, task: Runnable, is_yield: bool, handle_in_task: bool) {
        self.schedule_in(
            current_context(self).as_deref(),
            task,
            is_yield,
            handle_in_task,
        );
    }

    /// Queues a task just spawned and bound, `cx` being this thread's
    /// worker context as [`current_context`] found it (the spawn looked it
    /// up once, for the stamp too). A spawn's `self` is the caller's.
    #[inline]
    fn schedule_spawned(self: &Arc<Self>, cx: Option<&WorkerContext>, task: Runnable) {
        self.schedule_in(cx, task, false, false);
    }

    /// [`schedule_task`](Self::schedule_task) with the context looked up.
    #[inline(always)]
    fn schedule_in(
        self: &Arc<Self>,
        cx: Option<&WorkerContext>,
        task: Runnable,
        is_yield: bool,
        handle_in_task: bool,
    ) {
        let shared: &Shared = self;
        let task = with_context_core(cx, |core| match core {
            Some(core) => {
                if shared.config().poll_histograms {
                    shared.stamp_wake(task.header(), Some(core.index()), is_yield);
                }
                // SCHED-4: from here on `task` may be freed, and `self` with it.
                if core.push_woken(task, is_yield) && shared.can_steal() {
                    shared.notify_parked();
                }
                None
            }
            None => Some(task),
        });
        if let Some(task) = task {
            if shared.config().poll_histograms {
                shared.stamp_wake(task.header(), None, is_yield);
            }
            if handle_in_task {
                // SCHED-4: no worker context keeps `Shared` alive here.
                Arc::clone(self).schedule_remote(task);
            } else {
                shared.schedule_remote(task);
            }
        }
    }

    /// The spawn stamp (`task/stamp.rs`) of a task spawned now, on a
    /// thread that drives one of this runtime's cores if `driving`. An
    /// awake worker keeps the coarse reading fresh for spawns from other
    /// threads too; `notify_parked` refreshes it as it wakes one.
    #[inline]
    fn spawn_stamp_for(&self, driving: bool) -> u64 {
        let queues = self.queues();
        let kept_fresh = driving || (queues.can_steal() && !queues.sleepers().is_all_parked());
        queues.spawn_clock().stamp(kept_fresh)
    }

    /// Stamps a task's wake (HIST-3 of `histogram.rs`): a wake from inside
    /// a poll on `worker` takes that poll's start; a yield (requeued as its
    /// own poll ends) and a wake from anywhere else read the clock.
    #[cold]
    #[inline(never)]
    fn stamp_wake(&self, task: &Header, worker: Option<usize>, is_yield: bool) {
        let poll_start = worker
            .filter(|_| !is_yield)
            .and_then(|index| self.poll_stats(index))
            .and_then(|stats| stats.poll_started_at());
        let at = poll_start.unwrap_or_else(|| self.config().poll_clock.now());
        task.site.stamp_woken(at);
    }

    /// The terminate hook (HOOK-1) for `task`, out of line: a runtime
    /// without hooks pays one test of its settings in `release`.
    #[cold]
    #[inline(never)]
    fn call_terminate_hook(&self, task: &Header) {
        if let Some(hooks) = self.config().hooks.as_deref() {
            hooks.terminate(task);
        }
    }

    fn schedule_remote(&self, task: Runnable) {
        self.queues().push_injector(task);
        SharedMetrics::incr(&self.shared_metrics().injected);
        self.notify_parked();
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false, true);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        if self.config().hooked {
            self.call_terminate_hook(task.header());
        }
        self.owned().remove(task.header())
    }

    fn spawn_stamp(&self) -> u64 {
        self.spawn_stamp_for(current_context(self).is_some())
    }

    fn unhandled_panic(&self, task: TaskMeta<'_>, payload: &(dyn Any + Send)) {
        if self.config().unhandled_panic != UnhandledPanic::ShutdownRuntime {
            return;
        }
        let message =
            task::panic_message(payload).unwrap_or("a task panicked with a non-string payload");
        let message = match task.name() {
            Some(name) => format!("task {} {name:?} panicked: {message}", task.id()),
            None => format!("task {} panicked: {message}", task.id()),
        };
        if let Some(wakers) = self.lifecycle().record_panic(&message) {
            self.begin_shutdown();
            wakers.into_iter().for_each(std::task::Waker::wake);
        }
    }
}
