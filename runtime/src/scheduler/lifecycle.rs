//! Summary: a runtime's worker lifetime state apart from the hot path:
//! counting live worker threads, handing the current-thread core between
//! `block_on` calls, and the unhandled-panic stop.
//!
//! Role: `launch.rs` counts each worker in and out
//! ([`Lifecycle::count_worker_started`], [`Lifecycle::count_worker_exited`]);
//! `current.rs` takes and returns the current-thread core
//! ([`Lifecycle::take_core`], [`Lifecycle::return_core`]); `Runtime`'s
//! shutdown waits on [`Lifecycle::wait_workers_exited`] between
//! `Shared::begin_shutdown` and `Shared::shutdown_tasks` (`runtime.rs`).
//!
//! Design: a worker is counted live from the moment its `WorkerLaunch`
//! (`launch.rs`) exists until that value is dropped: after the thread's
//! body and its stop hook, on an unwind, or unrun if the thread could not
//! be started. One owner of the count means no path forgets to decrement
//! it. Thread names, start/stop hooks and entering the runtime context
//! stay with the builder: they are the runtime's, not the scheduler's.
//! The state is generic over the core type, so this file names no other
//! file of the scheduler (rejected: a field of type `Core<Arc<Shared>>`,
//! which made `shared -> lifecycle -> core -> shared` a circle).
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
//! - LIFE-4: `panicked` is set (Release, under the `panic` lock) right
//!   after the panic message is, and never cleared; a reader that loads it
//!   false (Acquire) treats the stop as not yet recorded, exactly as if it
//!   had taken the lock just before `record_panic` did. `block_on`'s loops
//!   test it on every turn, so the common case (no panic) is one load,
//!   not a lock and an unlock; a loop that misses a stop being recorded
//!   is woken by it (`record_panic` hands back the `block_on` wakers).
//!
//! Concurrency: every field but `panicked` is behind its own mutex;
//! `worker_exited` is signalled under `live_workers` when a worker exits.

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Worker lifetime state (see the module doc). Generic over the core type
/// `C` so this file need not name the `Shared` that holds it (the runtime's
/// is a `Lifecycle<Core<Arc<Shared>>>`).
pub(crate) struct Lifecycle<C> {
    /// Cores not currently owned by a thread (LIFE-2): the current-thread
    /// core while no `block_on` runs. Boxed because a core moves between a
    /// thread's stack and its context on every poll; a box makes that a
    /// pointer copy.
    #[allow(clippy::vec_box)]
    unowned_cores: Mutex<Vec<Box<C>>>,
    /// Threads in `block_on` waiting for the current-thread core.
    core_waiters: Mutex<Vec<std::thread::Thread>>,
    /// Worker threads that have not yet exited (LIFE-1).
    live_workers: Mutex<usize>,
    /// Signalled when a worker exits.
    worker_exited: Condvar,
    /// The first panic message under `UnhandledPanic::ShutdownRuntime`, and
    /// the wakers of `block_on` calls waiting to report it.
    panic: Mutex<PanicState>,
    /// True once `panic.message` is set (LIFE-4).
    panicked: AtomicBool,
    /// For a `LocalRuntime`, the only thread that may take the core (LIFE-3).
    local_owner: Option<ThreadId>,
}

#[derive(Default)]
struct PanicState {
    message: Option<String>,
    block_on_wakers: slab::Slab<Waker>,
}

impl<C> Lifecycle<C> {
    pub(super) fn new(local_owner: Option<ThreadId>) -> Lifecycle<C> {
        Lifecycle {
            local_owner,
            unowned_cores: Mutex::new(Vec::new()),
            core_waiters: Mutex::new(Vec::new()),
            live_workers: Mutex::new(0),
            worker_exited: Condvar::new(),
            panic: Mutex::new(PanicState::default()),
            panicked: AtomicBool::new(false),
        }
    }

    /// Takes the current-thread core if no thread owns it (LIFE-2) and this
    /// thread may drive it (LIFE-3).
    pub(crate) fn take_core(&self) -> Option<Box<C>> {
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
    pub(crate) fn return_core(&self, core: Box<C>) {
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

    /// Keeps cores no thread owns yet (the current-thread core, built
    /// before any `block_on`).
    pub(super) fn add_unowned_cores(&self, cores: impl IntoIterator<Item = Box<C>>) {
        self.unowned_cores.lock().extend(cores);
    }

    /// Takes every core no thread owns (shutdown drops them).
    pub(super) fn take_unowned_cores(&self) -> Vec<Box<C>> {
        std::mem::take(&mut *self.unowned_cores.lock())
    }

    /// Counts one worker live (LIFE-1: a `WorkerLaunch` was made).
    pub(super) fn count_worker_started(&self) {
        *self.live_workers.lock() += 1;
    }

    /// Counts one worker out (LIFE-1: its `WorkerLaunch` was dropped) and
    /// wakes the shutdown waiting for it.
    pub(super) fn count_worker_exited(&self) {
        let mut live = self.live_workers.lock();
        *live -= 1;
        self.worker_exited.notify_all();
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
        // LIFE-4: after the message, so a reader that sees the flag finds it.
        self.panicked.store(true, Ordering::Release);
        Some(panic.block_on_wakers.drain().collect())
    }

    /// The message of the panic that shut the runtime down, if any.
    #[inline]
    pub(crate) fn shutdown_panic(&self) -> Option<String> {
        if !self.has_shutdown_panic() {
            return None;
        }
        self.panic.lock().message.clone()
    }

    /// True if a panic shut the runtime down: one load (LIFE-4).
    #[inline]
    pub(crate) fn has_shutdown_panic(&self) -> bool {
        self.panicked.load(Ordering::Acquire)
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
