//! Summary: the `tracing` shim with the feature: one `runtime.spawn` span
//! per task and one `runtime::waker` event per waker operation, in the
//! shape `trace/mod.rs` describes (what console-subscriber reads).
//!
//! Role: see `trace/mod.rs`.
//!
//! Design: the span is created with `tracing::trace_span!` at spawn, then
//! kept as its id plus the `Dispatch` it was reported to (holding one
//! reference of the subscriber's count for it, taken with `clone_span`), so
//! that it can be entered from any worker and closed when the task
//! completes, not when the task's memory goes.
//!
//! Invariants: TRACE-1 (`trace/mod.rs`): `closed` is swapped to true by the
//! one call that closes the span.
//!
//! Concurrency: `enter`/`exit` run on the polling thread; `waker` on any
//! thread; `close` once, guarded by the atomic swap.

use super::{Kind, WakerOp};
use crate::task::Id;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::dispatcher::{self, Dispatch};
use tracing::span;

/// True: the task paths report to the span.
pub(crate) const ENABLED: bool = true;

/// A task's span, or nothing when no subscriber wanted it at spawn.
pub(crate) struct TaskSpan {
    inner: Option<Inner>,
}

struct Inner {
    /// The span's id in `dispatch`; this struct holds one reference to it.
    id: span::Id,
    /// The subscriber that was current at spawn.
    dispatch: Dispatch,
    /// TRACE-1.
    closed: AtomicBool,
}

/// The span of one poll: exited when dropped.
pub(crate) struct Entered<'a> {
    inner: Option<&'a Inner>,
}

impl TaskSpan {
    /// The span for a task spawned now, on the current subscriber.
    pub(crate) fn new(
        kind: Kind,
        id: Id,
        name: Option<&str>,
        spawned_at: &'static Location<'static>,
    ) -> TaskSpan {
        let span = tracing::trace_span!(
            target: "weft::task",
            "runtime.spawn",
            kind = kind.as_str(),
            task.name = name,
            task.id = id.as_u64(),
            loc.file = spawned_at.file(),
            loc.line = spawned_at.line(),
            loc.col = spawned_at.column(),
        );
        // Our own reference to the span; `span` drops its one below.
        let inner = span.with_subscriber(|(id, dispatch)| Inner {
            id: dispatch.clone_span(id),
            dispatch: dispatch.clone(),
            closed: AtomicBool::new(false),
        });
        TaskSpan { inner }
    }

    /// No span (for the unit tests of `task/meta.rs`).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn none() -> TaskSpan {
        TaskSpan { inner: None }
    }

    /// Enters the span for one poll.
    pub(crate) fn enter(&self) -> Entered<'_> {
        if let Some(inner) = &self.inner {
            inner.dispatch.enter(&inner.id);
        }
        Entered {
            inner: self.inner.as_ref(),
        }
    }

    /// Closes the span: the task is finished (TRACE-1).
    pub(crate) fn close(&self) {
        let Some(inner) = &self.inner else { return };
        // AcqRel: exactly one caller wins the swap; nothing else is ordered.
        if !inner.closed.swap(true, Ordering::AcqRel) {
            inner.dispatch.try_close(inner.id.clone());
        }
    }

    /// Reports a waker operation to the span's subscriber.
    pub(crate) fn waker(&self, op: WakerOp) {
        let Some(inner) = &self.inner else { return };
        dispatcher::with_default(&inner.dispatch, || {
            tracing::trace!(
                target: "runtime::waker",
                op = op.as_str(),
                task.id = inner.id.into_u64(),
            );
        });
    }
}

impl Drop for TaskSpan {
    fn drop(&mut self) {
        self.close();
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner {
            inner.dispatch.exit(&inner.id);
        }
    }
}
