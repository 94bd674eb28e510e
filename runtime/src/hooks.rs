//! Summary: task hooks, the user callbacks `Builder::on_task_spawn`,
//! `on_task_terminate`, `on_before_task_poll` and `on_after_task_poll`
//! install, and the one place that calls them.
//!
//! Role: `Builder` collects the callbacks into a [`TaskHooks`], which the
//! scheduler keeps in its settings and hands to the task code through
//! `Schedule::hooks`; `task::new_task_at` fires `spawn`, the harness fires
//! `before_poll`/`after_poll` around each poll of the future and
//! `terminate` when the task completes (output, panic, abort or shutdown).
//!
//! Design: a runtime with no hook set keeps `None` in its settings, so the
//! cost of the feature is one load and one branch per spawn, per poll and
//! per completion. The calls sit in the task code rather than around the
//! scheduler's poll so that the order a hook sees is the task's own:
//! `spawn`, then pairs of `before_poll`/`after_poll`, then `terminate`, with
//! `terminate` after the last `after_poll` (tokio calls its terminate hook
//! inside the last poll) and before the `JoinHandle` can see the output.
//! A task aborted or shut down before its first poll sees `spawn` then
//! `terminate`. Every call runs under `contain_panic`: a panicking hook is
//! reported by the panic hook and skipped; the task and the worker go on.
//!
//! Invariants: HOOK-1: for every async task that `new_task_at` creates on a
//! runtime with hooks, `spawn` is called once before the task can be
//! polled and `terminate` once, after every poll; `before_poll` and
//! `after_poll` come in pairs, one pair per poll of the future.
//!
//! Concurrency: the callbacks are `Fn + Send + Sync` and may run on any
//! runtime thread at once (for different tasks): on the spawning thread,
//! the polling worker, or the thread that drops the runtime (for tasks
//! dropped at shutdown).

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
    pub(crate) fn spawn(&self, meta: &TaskMeta<'_>) {
        call(&self.spawn, meta);
    }

    /// The task is finished (HOOK-1).
    pub(crate) fn terminate(&self, header: &Header) {
        call(&self.terminate, &TaskMeta::of(header));
    }

    /// The task's future is about to be polled (HOOK-1).
    pub(crate) fn before_poll(&self, header: &Header) {
        call(&self.before_poll, &TaskMeta::of(header));
    }

    /// The task's future was just polled (HOOK-1).
    pub(crate) fn after_poll(&self, header: &Header) {
        call(&self.after_poll, &TaskMeta::of(header));
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
