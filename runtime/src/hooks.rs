//! Summary: task hooks, the user callbacks `Builder::on_task_spawn`,
//! `on_task_terminate`, `on_before_task_poll` and `on_after_task_poll`
//! install, and the one place that calls them.
//!
//! Role: `Builder` collects the callbacks into a [`TaskHooks`], which the
//! scheduler keeps in its settings. `task::new_task_at` fires `spawn`
//! (through the site the runtime's spawn makes, `task::SpawnMeta::site`);
//! the scheduler's poll (`Shared::poll_task`, through
//! `Notified::run_with_hooks`) fires `before_poll`/`after_poll` around
//! each run of a task; the runtime's `Schedule::release`, which
//! `Harness::complete` calls for every finished task (output, panic, abort
//! or shutdown), fires `terminate`.
//!
//! Design: a runtime with no hook set keeps `None` in its settings. Each
//! path tests one flag of the settings: the spawn the flag it tests anyway
//! for explore mode (`plain_spawns`), the poll the one shared with
//! slow-poll reports and histograms (`instruments_polls`), the completion
//! `hooked`, in the function that reads the runtime's owned list anyway;
//! so a runtime without hooks runs the task code it ran before hooks
//! existed, plus one compare and branch per poll and per completion. The
//! poll pair is around the scheduler's run of the
//! task, as in tokio, rather than inside the harness around the future's
//! poll: a second caller of every future's `poll` in the harness (hooked
//! and unhooked) cost ping_pong 8 % of its instructions, because the
//! compiler stopped inlining the future into the task's poll function
//! (`docs/performance.md`). The price is in the order a hook sees, which is
//! tokio's: `spawn`; then a `before_poll`/`after_poll` pair per run (the run
//! that drops an aborted future counts); `terminate` inside the pair of the
//! run that ends the task, or on its own for a task dropped at shutdown
//! while idle. `terminate` runs before the `JoinHandle` can see the output.
//! Every call runs under `contain_panic`: a panicking hook is reported by
//! the panic hook and skipped; the task and the worker go on.
//!
//! Invariants: HOOK-1: for every async task that `new_task_at` creates on a
//! runtime with hooks, `spawn` is called once before the task can be run
//! and `terminate` once, before its `JoinHandle` can return; `before_poll`
//! and `after_poll` come in pairs on the running thread, one pair per run,
//! and no run of the task starts after `terminate`.
//!
//! Concurrency: the callbacks are `Fn + Send + Sync` and may run on any
//! runtime thread at once (for different tasks): on the spawning thread,
//! the polling worker, or the thread that drops the runtime (for tasks
//! dropped at shutdown). A task woken during its run may start its next
//! run on another worker before this run's `after_poll` returns.

use crate::debug::contain_panic;
use crate::task::{Header, TaskMeta};
use std::fmt;
use std::sync::Arc;

/// A task hook.
pub(crate) type TaskHook = Arc<dyn Fn(&TaskMeta<'_>) + Send + Sync + 'static>;

/// The task hooks of one runtime (each optional).
#[derive(Clone, Default)]
pub(crate) struct TaskHooks {
    pub(crate) spawn: Option<TaskHook>,
    pub(crate) terminate: Option<TaskHook>,
    pub(crate) before_poll: Option<TaskHook>,
    pub(crate) after_poll: Option<TaskHook>,
}

impl TaskHooks {
    /// True if no hook is set (the runtime then keeps no `TaskHooks`).
    pub(crate) fn is_empty(&self) -> bool {
        self.spawn.is_none()
            && self.terminate.is_none()
            && self.before_poll.is_none()
            && self.after_poll.is_none()
    }

    /// A task was created (HOOK-1).
    #[cold]
    #[inline(never)]
    pub(crate) fn spawn(&self, meta: &TaskMeta<'_>) {
        call(&self.spawn, meta);
    }

    /// The task is finished (HOOK-1).
    #[cold]
    #[inline(never)]
    pub(crate) fn terminate(&self, header: &Header) {
        call(&self.terminate, &header.meta());
    }

    /// A worker is about to run the task (HOOK-1).
    pub(crate) fn before_poll(&self, meta: &TaskMeta<'_>) {
        call(&self.before_poll, meta);
    }

    /// A worker has just run the task (HOOK-1).
    pub(crate) fn after_poll(&self, meta: &TaskMeta<'_>) {
        call(&self.after_poll, meta);
    }
}

/// Calls `hook` if set; a panic in it is contained (`debug.rs`).
fn call(hook: &Option<TaskHook>, meta: &TaskMeta<'_>) {
    if let Some(hook) = hook {
        contain_panic(|| hook(meta));
    }
}

impl fmt::Debug for TaskHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHooks")
            .field("spawn", &self.spawn.is_some())
            .field("terminate", &self.terminate.is_some())
            .field("before_poll", &self.before_poll.is_some())
            .field("after_poll", &self.after_poll.is_some())
            .finish()
    }
}
