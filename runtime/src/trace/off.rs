//! Summary: the `tracing` shim without the feature: nothing, at no cost.
//!
//! Role and design: see `trace/mod.rs`; every item mirrors one in
//! `console.rs` and compiles to nothing.
//!
//! Invariants: none. Concurrency: no state.

use super::{Kind, WakerOp};
use crate::task::Id;
use std::panic::Location;

/// False: callers skip the tracing work entirely.
pub(crate) const ENABLED: bool = false;

/// No span.
pub(crate) struct TaskSpan;

/// No entered span.
pub(crate) struct Entered;

impl TaskSpan {
    /// No span is made.
    #[inline]
    pub(crate) fn new(
        _kind: Kind,
        _id: Id,
        _name: Option<&str>,
        _spawned_at: &'static Location<'static>,
    ) -> TaskSpan {
        TaskSpan
    }

    /// No span (for the unit tests of `task/meta.rs`).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn none() -> TaskSpan {
        TaskSpan
    }

    /// Nothing to enter.
    #[inline]
    pub(crate) fn enter(&self) -> Entered {
        Entered
    }

    /// Nothing to close.
    #[inline]
    pub(crate) fn close(&self) {}

    /// Nothing to report.
    #[inline]
    pub(crate) fn waker(&self, _op: WakerOp) {}
}
