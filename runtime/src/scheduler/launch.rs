//! Summary: building a scheduler (its cores and its `Shared`) and
//! launching its worker threads' bodies.
//!
//! Role: `Builder::build` calls [`build`] and runs each [`WorkerLaunch`] on
//! a thread it starts; a launch runs the worker loop (`worker.rs`) and
//! counts its worker in and out of the `Lifecycle` (`lifecycle.rs`).
//!
//! Design: the top of the scheduler's files, since it ties the loop to the
//! state: tokio's `create` + `Launch` shape. Threads themselves (names,
//! start/stop hooks, entering the runtime context) are the builder's.
//!
//! Invariants: LIFE-1 (`lifecycle.rs`): a worker is counted live exactly
//! while its `WorkerLaunch` exists.
//!
//! Concurrency: a `WorkerLaunch` is built on the building thread and moved
//! to its worker thread.

use super::core::Core;
use super::shared::{Shared, WorkerCore};
use super::{worker, Config, Flavor};
use crate::driver::DriverLock;
use crate::park::{DriverSeat, Parker};
use std::sync::Arc;

/// Builds a scheduler of `num_workers` cores. The current-thread core is
/// kept for `block_on` to take; multi-thread cores come back as one
/// launch each, to be run on a thread of the caller's.
pub(crate) fn build(
    flavor: Flavor,
    num_workers: usize,
    driver: Arc<DriverLock>,
    config: Config,
    rng_seed: Option<u64>,
) -> (Arc<Shared>, Vec<WorkerLaunch>) {
    let seat = DriverSeat::new(driver.clone());
    let cores: Vec<Box<WorkerCore>> = (0..num_workers)
        .map(|index| Core::new(index, Parker::new(&seat), rng_seed))
        .collect();
    let shared = Arc::new(Shared::new(flavor, &cores, driver, config));
    if flavor == Flavor::CurrentThread {
        shared.lifecycle().add_unowned_cores(cores);
        return (shared, Vec::new());
    }
    let launches = cores
        .into_iter()
        .map(|core| WorkerLaunch::new(&shared, core))
        .collect();
    (shared, launches)
}

/// One worker thread's body, counted live until dropped (LIFE-1).
pub(crate) struct WorkerLaunch {
    shared: Arc<Shared>,
    core: Option<Box<WorkerCore>>,
}

impl WorkerLaunch {
    fn new(shared: &Arc<Shared>, core: Box<WorkerCore>) -> WorkerLaunch {
        shared.lifecycle().count_worker_started();
        WorkerLaunch {
            shared: shared.clone(),
            core: Some(core),
        }
    }

    /// Runs the worker loop on this thread until shutdown. Tasks left in
    /// its deque stay stealable through its `Stealer` until shutdown
    /// drains them (SCHED-2).
    pub(crate) fn run(&mut self) {
        let core = self.core.take().expect("a worker launch runs once");
        worker::run(self.shared.clone(), core);
    }
}

impl Drop for WorkerLaunch {
    fn drop(&mut self) {
        self.shared.lifecycle().count_worker_exited();
    }
}
