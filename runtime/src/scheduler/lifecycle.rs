//! Summary: a runtime's life apart from the hot path: building the cores,
//! launching and counting worker threads, handing the current-thread core
//! between `block_on` calls, the unhandled-panic stop, and shutdown.
//!
//! Role: `Builder::build` calls [`build`] and runs each [`WorkerLaunch`] on
//! a thread it starts; `current.rs` takes and returns the current-thread
//! core through [`Lifecycle`]; `Runtime`'s shutdown calls
//! [`Shared::begin_shutdown`], [`Lifecycle::wait_workers_exited`] and
//! [`Shared::shutdown_tasks`], in that order (`runtime.rs`).
//!
//! Design: a worker is counted live from the moment its [`WorkerLaunch`]
//! exists until that value is dropped: after the thread's body and its
//! stop hook, on an unwind, or unrun if the thread could not be started.
//! One owner of the count means no path forgets to decrement it (it was
//! spread over `builder.rs`, `worker.rs` and `scheduler/mod.rs`). Thread
//! names, start/stop hooks and entering the runtime context stay with the
//! builder: they are the runtime's, not the scheduler's.
//!
//! Invariants:
//!
//! - LIFE-1: `live_workers` equals the number of `WorkerLaunch` values
//!   alive; `wait_workers_exited` returns true only once it is 0.
//! - LIFE-2: a core is either owned by one thread (SCHED-1) or in
//!   `unowned_cores`; returning one wakes every thread waiting for it.
//! - LIFE-3: a `LocalRuntime`'s core is only ever taken by its owner
//!   thread (`local_owner`): `take_core` refuses every other thread, and
//!   `wait_for_core` never has them wait for it. So its local tasks, which
//!   only that core runs, are only ever polled there (INV-10). Its
//!   shutdown runs where the `LocalRuntime` is dropped: it is `!Send`, so
//!   that is the owner thread too.
//!
//! Concurrency: every field is behind its own mutex; `core_returned` is
//! signalled under `live_workers` when a worker exits.

use super::core::Core;
use super::shared::Shared;
use super::{worker, Config, Flavor};
use crate::blocking::BlockingPool;
use crate::driver::DriverLock;
use crate::park::{DriverSeat, Parker};
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::task::Waker;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Worker lifetime state (see the module doc).
pub(crate) struct Lifecycle {
    /// Cores not currently owned by a thread (LIFE-2): the current-thread
    /// core while no `block_on` runs. Boxed because a core moves between a
    /// thread's stack and its context on every poll; a box makes that a
    /// pointer copy.
    #[allow(clippy::vec_box)]
    unowned_cores: Mutex<Vec<Box<Core>>>,
    /// Threads in `block_on` waiting for the current-thread core.
    core_waiters: Mutex<Vec<std::thread::Thread>>,
    /// Worker threads that have not yet exited (LIFE-1).
    live_workers: Mutex<usize>,
    /// Signalled when a worker exits.
    worker_exited: Condvar,
    /// The first panic message under `UnhandledPanic::ShutdownRuntime`, and
    /// the wakers of `block_on` calls waiting to report it.
    panic: Mutex<PanicState>,
    /// For a `LocalRuntime`, the only thread that may take the core (LIFE-3).
    local_owner: Option<ThreadId>,
}

#[derive(Default)]
struct PanicState {
    message: Option<String>,
    block_on_wakers: slab::Slab<Waker>,
}

/// Builds a scheduler of `num_workers` cores. The current-thread core is
/// kept for `block_on` to take; multi-thread cores come back as one
/// launch each, to be run on a thread of the caller's.
pub(crate) fn build(
    flavor: Flavor,
    num_workers: usize,
    driver: Arc<DriverLock>,
    blocking: BlockingPool,
    config: Config,
    rng_seed: Option<u64>,
) -> (Arc<Shared>, Vec<WorkerLaunch>) {
    let seat = DriverSeat::new(driver.clone());
    let cores: Vec<Box<Core>> = (0..num_workers)
        .map(|index| Core::new(index, Parker::new(&seat), rng_seed))
        .collect();
    let shared = Arc::new(Shared::new(flavor, &cores, driver, blocking, config));
    if flavor == Flavor::CurrentThread {
        shared.lifecycle().unowned_cores.lock().extend(cores);
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
    core: Option<Box<Core>>,
}

impl WorkerLaunch {
    fn new(shared: &Arc<Shared>, core: Box<Core>) -> WorkerLaunch {
        *shared.lifecycle().live_workers.lock() += 1;
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
        let lifecycle = self.shared.lifecycle();
        let mut live = lifecycle.live_workers.lock();
        *live -= 1;
        lifecycle.worker_exited.notify_all();
    }
}

impl Lifecycle {
    pub(super) fn new(local_owner: Option<ThreadId>) -> Lifecycle {
        Lifecycle {
            local_owner,
            unowned_cores: Mutex::new(Vec::new()),
            core_waiters: Mutex::new(Vec::new()),
            live_workers: Mutex::new(0),
            worker_exited: Condvar::new(),
            panic: Mutex::new(PanicState::default()),
        }
    }

    /// Takes the current-thread core if no thread owns it (LIFE-2) and this
    /// thread may drive it (LIFE-3).
    pub(crate) fn take_core(&self) -> Option<Box<Core>> {
        if !self.may_take_core() {
            return None;
        }
        self.unowned_cores.lock().pop()
    }

    /// False on a thread other than a `LocalRuntime`'s owner (LIFE-3).
    fn may_take_core(&self) -> bool {
        self.local_owner
            .map_or(true, |owner| owner == std::thread::current().id())
    }

    /// True if this is a `LocalRuntime` and the caller is its owner thread.
    pub(crate) fn is_local_owner(&self) -> bool {
        self.local_owner == Some(std::thread::current().id())
    }

    /// Gives a core back and wakes every `block_on` waiting for one (LIFE-2).
    pub(crate) fn return_core(&self, core: Box<Core>) {
        self.unowned_cores.lock().push(core);
        for waiter in self.core_waiters.lock().drain(..) {
            waiter.unpark();
        }
    }

    /// Registers this thread to be unparked when a core is returned. False
    /// if a core is free already (the caller should take it instead of
    /// sleeping). The waiter lock is held across the check, so a return
    /// between the check and the registration cannot be missed.
    pub(crate) fn wait_for_core(&self) -> bool {
        if !self.may_take_core() {
            // LIFE-3: never ours to take; wait for the main future alone.
            return true;
        }
        let mut waiters = self.core_waiters.lock();
        if !self.unowned_cores.lock().is_empty() {
            return false;
        }
        let me = std::thread::current();
        if !waiters.iter().any(|waiter| waiter.id() == me.id()) {
            waiters.push(me);
        }
        true
    }

    /// Waits until every worker thread has exited, or `timeout` passes.
    /// True if they all exited (LIFE-1).
    pub(crate) fn wait_workers_exited(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let mut live = self.live_workers.lock();
        while *live > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .worker_exited
                        .wait_until(&mut live, deadline)
                        .timed_out()
                    {
                        return *live == 0;
                    }
                }
                None => self.worker_exited.wait(&mut live),
            }
        }
        true
    }

    /// Records the first unhandled panic's message; returns the `block_on`
    /// wakers to wake, or `None` if a panic was recorded already.
    pub(super) fn record_panic(&self, message: &str) -> Option<Vec<Waker>> {
        let mut panic = self.panic.lock();
        if panic.message.is_some() {
            return None;
        }
        panic.message = Some(message.to_owned());
        Some(panic.block_on_wakers.drain().collect())
    }

    /// The message of the panic that shut the runtime down, if any.
    pub(crate) fn shutdown_panic(&self) -> Option<String> {
        self.panic.lock().message.clone()
    }

    /// Registers a `block_on` waker to be woken by an unhandled panic;
    /// returns the key for [`Lifecycle::remove_block_on_waker`].
    pub(crate) fn add_block_on_waker(&self, waker: Waker) -> usize {
        self.panic.lock().block_on_wakers.insert(waker)
    }

    pub(crate) fn remove_block_on_waker(&self, key: usize) {
        self.panic.lock().block_on_wakers.try_remove(key);
    }
}

impl Shared {
    /// Starts shutdown (SCHED-3): workers stop at their next check.
    pub(crate) fn begin_shutdown(&self) {
        self.set_shutdown_and_wake_all();
    }

    /// The last steps of shutdown, once the workers are gone (SCHED-3):
    /// cancel every task, drop every queued reference (SCHED-2), then the
    /// drivers (DRV-3).
    pub(crate) fn shutdown_tasks(&self) {
        let cores: Vec<Box<Core>> = std::mem::take(&mut *self.lifecycle().unowned_cores.lock());
        drop(cores);
        self.owned().close_and_shutdown_all();
        self.drain_queues();
        self.driver().shutdown();
    }
}
