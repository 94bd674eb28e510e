//! Summary: `block_on` for both flavours: drive a future to completion on
//! the calling thread.
//!
//! Role: `Runtime::block_on` and `Handle::block_on` call [`block_on`].
//! For the current-thread flavour the calling thread also runs the
//! runtime's tasks, with the one `Core` (the same `worker::run_task` and
//! `Core::next_task` the worker threads use). For the multi-thread flavour
//! it only polls the given future; the workers run the tasks.
//!
//! Design: the main future is polled only when its waker fired (a flag set
//! by `MainWaker`, `main_future.rs`), after each batch of at most `EVENT_INTERVAL` tasks, so
//! a task-heavy runtime still answers the main future promptly and a main
//! future that keeps yielding cannot starve the tasks. If another thread already holds the
//! current-thread core, this `block_on` polls its own future and waits to
//! take the core over when it is returned (tokio does the same).
//!
//! The main future is polled with the core lent to the worker context
//! (`poll_main`), as a task is: what it spawns or wakes is queued on the
//! core directly, in spawn order. Rejected: polling it with the core held
//! back, which sent each of its spawns through the injector and an unpark
//! of the thread that was about to run them anyway.
//!
//! Invariants: SCHED-1: the core is owned by exactly one `block_on`; a
//! `CoreGuard` (`main_future.rs`) returns it to the `Lifecycle` even if the main future
//! panics, so a later `block_on` can drive the runtime again.
//!
//! Concurrency: the main waker may fire from any thread; it sets an atomic
//! flag (Release, read with Acquire by the driving loop so the waker's
//! writes are visible) and unparks the driving thread.

use super::core::EVENT_INTERVAL;
use super::explore;
use super::main_future::{Driving, MainRegistration, WakeTarget};
use super::shared::{Shared, WorkerCore};
use super::worker::{find_task, park_in_context, run_task, tick};
use super::worker_context::WorkerContext;
use super::Flavor;
use crate::blocking::BlockingPool;
use crate::metrics::WorkerCounter;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Drives `future` to completion on this thread (see the module doc).
/// `blocking` is the runtime's pool, which explore mode asks whether a
/// closure in flight may still wake a task (EXP-5).
pub(crate) fn block_on<F: Future>(
    shared: &Arc<Shared>,
    blocking: &BlockingPool,
    future: F,
) -> F::Output {
    let mut future = pin!(future);
    loop {
        if shared.flavor() == Flavor::CurrentThread {
            if let Some(core) = shared.lifecycle().take_core() {
                // Explore mode replaces the driving loop, not its parts.
                if let Some(explore) = shared.explore() {
                    return explore::drive(shared, core, explore, blocking, future.as_mut());
                }
                return drive(shared, core, future.as_mut());
            }
        }
        if let Poll::Ready(output) = wait_without_core(shared, future.as_mut()) {
            return output;
        }
    }
}

/// Panics if an unhandled task panic shut the runtime down.
fn check_shutdown_panic(shared: &Shared) {
    if let Some(message) = shared.lifecycle().shutdown_panic() {
        panic!("a spawned task panicked and the runtime is configured to shut down on unhandled panic: {message}");
    }
}

/// Polls `future` whenever woken, parking the thread in between. Returns
/// `Pending` when the current-thread core became free to take.
fn wait_without_core<F: Future>(shared: &Arc<Shared>, mut future: Pin<&mut F>) -> Poll<F::Output> {
    let registration = MainRegistration::new(shared, WakeTarget::Thread(std::thread::current()));
    let main = &registration.main;
    let mut cx = Context::from_waker(&registration.waker);
    loop {
        check_shutdown_panic(shared);
        if main.take_woken() {
            // The main future gets a fresh cooperative budget per poll, as tasks do.
            if let Poll::Ready(output) = weft_coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                return Poll::Ready(output);
            }
        }
        if shared.flavor() == Flavor::CurrentThread && !shared.lifecycle().wait_for_core() {
            return Poll::Pending;
        }
        if !main.woken.load(Ordering::Acquire) && !shared.lifecycle().has_shutdown_panic() {
            std::thread::park();
        }
    }
}

/// Drives the current-thread core and `future` until the future is ready.
fn drive<F: Future>(
    shared: &Arc<Shared>,
    core: Box<WorkerCore>,
    mut future: Pin<&mut F>,
) -> F::Output {
    let mut driving = Driving::enter(shared, core);
    let guard = &mut driving.guard;
    let worker_cx = &guard.worker_cx;
    let main = &driving.registration.main;
    let mut cx = Context::from_waker(&driving.registration.waker);
    loop {
        check_shutdown_panic(shared);
        if main.take_woken() {
            let core = guard
                .core
                .take()
                .expect("block_on holds the core (SCHED-1)");
            let (core, polled) = poll_main(worker_cx, core, future.as_mut(), &mut cx);
            guard.core = Some(core);
            if let Poll::Ready(output) = polled {
                return output;
            }
        }
        let core = guard
            .core
            .take()
            .expect("block_on holds the core (SCHED-1)");
        let (core, ran) = run_batch(worker_cx, core);
        guard.core = Some(core);
        if ran == 0 && !main.woken.load(Ordering::Acquire) {
            let core = guard
                .core
                .take()
                .expect("block_on holds the core (SCHED-1)");
            // In the context, so I/O and timer wakes land on this core
            // without an unpark (worker::in_context).
            let core = park_in_context(worker_cx, core, |parker| {
                parker.park(None, &|| shared.is_quiescent())
            });
            shared.count(core.index(), WorkerCounter::Parks);
            guard.core = Some(core);
        }
    }
}

/// Runs up to `EVENT_INTERVAL` tasks before the main future is polled
/// again, even if it is already woken: a main future that keeps yielding
/// must not starve the tasks it waits for. Stops early when no task is
/// left or at shutdown (tested before each task, as the worker loop does).
/// Returns the core and how many tasks ran.
///
/// One function for the whole batch, with `tick`, `find_task` and
/// `run_task` inlined: the core stays in a local from one task to the next
/// instead of going back to the `CoreGuard` after each (the guard only
/// needs it between batches: during a poll the core is in the worker
/// context, where the guard finds it on an unwind, as before). Out of
/// line and not generic, so one copy serves every `block_on` future type:
/// inlined into the generic `drive`, it pushed the task's poll and the
/// deque's pop out of line (`docs/performance.md`, "A cheaper task poll").
#[inline(never)]
fn run_batch(worker_cx: &WorkerContext, mut core: Box<WorkerCore>) -> (Box<WorkerCore>, u32) {
    let shared = &*worker_cx.shared;
    let mut ran = 0;
    while ran < EVENT_INTERVAL && !shared.is_shutdown() {
        core = tick(worker_cx, core);
        let (found, task) = find_task(worker_cx, core);
        let Some(task) = task else {
            return (found, ran);
        };
        core = run_task(worker_cx, found, task);
        ran += 1;
    }
    (core, ran)
}

/// Polls the main future with the core lent to the worker context, as a
/// task's poll is: the tasks it spawns and wakes go straight to the core,
/// where through the injector each would cost a push on a shared queue and
/// an unpark of this very thread. The last of them sits in the LIFO slot,
/// which would run it before the others; it goes to the back of the deque,
/// so the main future's spawns run in the order it made them, as they did
/// through the injector and as asyncio runs `create_task`s.
fn poll_main<F: Future>(
    worker_cx: &WorkerContext,
    core: Box<WorkerCore>,
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> (Box<WorkerCore>, Poll<F::Output>) {
    // Not a task: its poll is no task's poll time (HIST-2).
    worker_cx.shared.break_poll_run(core.index());
    // The main future gets a fresh cooperative budget per poll, as tasks do.
    let (mut core, polled) = worker_cx.lend(core, || weft_coop::with_budget(|| future.poll(cx)));
    if let Some(last) = core.take_lifo() {
        core.push_back(last);
    }
    (core, polled)
}
