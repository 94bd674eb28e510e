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
//! A timer future holds a [`ShardHome`] instead: the driver and the shard
//! its entries go to, behind an `Arc` of its own. Each thread that enters a
//! driver makes one home (each runtime worker for its own shard), and every
//! `Sleep` made on that thread clones that home, so the reference count a
//! sleep writes when it is made and dropped lives in a block its own thread
//! writes, not in the driver's `Arc`, which every worker would then write
//! for every timer. Rejected: a `Sleep` borrowing the driver with no count
//! at all: a sleep can outlive its runtime (moved into a struct or another
//! executor), and its drop must still find the shard it registered in.
//!
//! # Concurrency
//!
//! A `Handle` and a `ShardHome` are `Send + Sync`; everything they reach is
//! behind the shard locks and the clock's lock of `shared.rs`.

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

    /// How many handles and homes keep the driver alive.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn driver_count(&self) -> usize {
        Arc::strong_count(&self.shared)
    }
}

/// A driver and one of its shards: what a timer future keeps to register,
/// re-poll and cancel its entry (see the module doc for why it is not a
/// [`Handle`]). Shared through an `Arc` by the sleeps of one thread.
pub(crate) struct ShardHome {
    shared: Arc<Shared>,
    shard: usize,
}

impl ShardHome {
    /// A home in shard `shard` of `handle`'s driver.
    ///
    /// # Panics
    ///
    /// If the driver has no shard `shard`.
    pub(crate) fn new(handle: &Handle, shard: usize) -> Arc<ShardHome> {
        assert!(
            shard < handle.shared().shard_count(),
            "a timer shard index beyond the driver's shards"
        );
        Arc::new(ShardHome {
            shared: handle.shared.clone(),
            shard,
        })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The shard this home registers entries in.
    pub(crate) fn shard(&self) -> usize {
        self.shard
    }
}

impl fmt::Debug for ShardHome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardHome")
            .field("shard", &self.shard)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
