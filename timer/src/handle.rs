//! The timer [`Handle`]: a cheap, cloneable reference to a driver's shared
//! state.
//!
//! # Summary
//!
//! A `Handle` is an `Arc<Shared>`; timer futures keep one to register,
//! re-poll and cancel their entries. It reads no thread-local: the runtime
//! makes a handle current on a thread, and futures find it there, through
//! `context.rs`, the one layer that does ([`Handle::enter`],
//! [`Handle::current`] and [`Handle::enter_shard`] live there). Nothing is
//! global: two runtimes in one process each have their own driver, clock and
//! context.
//!
//! # Concurrency
//!
//! A `Handle` is `Send + Sync`; everything it reaches is behind the shard
//! locks and the clock's lock of `shared.rs`.

use std::fmt;
use std::sync::Arc;

use crate::shared::Shared;

/// A reference to a runtime's time driver, used by timer futures to register
/// deadlines.
///
/// Cheap to clone, `Send + Sync`. Obtain one from
/// [`Driver::handle`](crate::Driver::handle), or from the context with
/// [`Handle::current`].
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The driver's address: identifies it while this handle keeps it alive.
    pub(crate) fn driver_ptr(&self) -> *const Shared {
        Arc::as_ptr(&self.shared)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
