//! Summary: the one shim between the runtime and the `tracing` crate: a
//! span per task and an event per waker operation, in the shape that
//! tokio-console's `console-subscriber` reads. Without the `tracing`
//! feature every item here is a unit struct or an empty inline function.
//!
//! Role: `task::meta` keeps a [`TaskSpan`] in a task's details (created at
//! spawn, from `task::new_task_at`); `task::harness` enters it around each
//! poll and closes it when the task completes; the waker functions in
//! `task::raw` report clone, wake, wake-by-ref and drop through it.
//!
//! Design: the feature selects one of two files here, where the module is
//! declared, so no `#[cfg(feature)]` appears in task or scheduler code:
//! callers test the constant [`ENABLED`] (folded away by the compiler when
//! it is false) or call functions that do nothing. What console-subscriber
//! (0.5, `ConsoleLayer::register_callsite`, `on_new_span`, `on_event` and
//! `visitors.rs`) matches on, and so what `console.rs` emits:
//!
//! - a task is a span whose *name* is `runtime.spawn` (any target; its
//!   filter keeps spans named `runtime.*`). Fields: `kind` ("task",
//!   "local" or "blocking"), `task.name` (only when the task has one), `task.id`
//!   (weft's id), and the spawn location as `loc.file` (a string),
//!   `loc.line` and `loc.col` (integers), which it shows as the task's
//!   location; every other field is shown as is.
//! - a poll is an enter and an exit of that span: poll counts and busy
//!   time come from `on_enter`/`on_exit`; the span's close marks the task
//!   finished.
//! - a waker operation is an event whose *target* is `runtime::waker` (its
//!   filter keeps events whose target starts with `runtime`), with a string
//!   field `op` = `waker.wake` | `waker.wake_by_ref` | `waker.clone` |
//!   `waker.drop` and a `u64` field `task.id` holding the task span's
//!   tracing id (not weft's id): that is how it finds the task.
//!
//! Everything is reported to the subscriber that was current where the
//! task was spawned (the span keeps its `Dispatch`), so a waker fired on a
//! worker thread or a driver reaches the same subscriber as the span.
//!
//! Rejected: `tracing::Span` stored as is (closing it early, when the task
//! completes rather than when its last reference goes, needs `&mut`);
//! instrumenting the future with `tracing::Instrument` (a wrapper type per
//! spawn, and no way to report waker operations).
//!
//! Invariants: TRACE-1: a task's span is closed at most once (by
//! `TaskSpan::close` when the task completes, or by its drop otherwise).
//!
//! Concurrency: a `TaskSpan` is shared by every handle of its task; entering
//! happens only on the polling thread (INV-1 of `task/state.rs`); waker
//! events may come from any thread; the close flag is atomic.

#[cfg(feature = "tracing")]
mod console;
#[cfg(feature = "tracing")]
pub(crate) use console::{TaskSpan, ENABLED};

#[cfg(not(feature = "tracing"))]
mod off;
#[cfg(not(feature = "tracing"))]
pub(crate) use off::{TaskSpan, ENABLED};

/// What kind of task a span stands for (console's `kind` field).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An async task run by the scheduler.
    Task,
    /// A local (`!Send`) task of a `LocalRuntime`.
    Local,
    /// A `spawn_blocking` closure on the blocking pool.
    Blocking,
}

impl Kind {
    /// The field value console-subscriber shows.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Task => "task",
            Kind::Local => "local",
            Kind::Blocking => "blocking",
        }
    }
}

/// A waker operation, reported as console's `op` field.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum WakerOp {
    /// `Waker::wake` (consumes the waker).
    Wake,
    /// `Waker::wake_by_ref`.
    WakeByRef,
    /// `Waker::clone`.
    Clone,
    /// `Waker::drop`.
    Drop,
}

impl WakerOp {
    /// The field value console-subscriber matches on.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WakerOp::Wake => "waker.wake",
            WakerOp::WakeByRef => "waker.wake_by_ref",
            WakerOp::Clone => "waker.clone",
            WakerOp::Drop => "waker.drop",
        }
    }
}
