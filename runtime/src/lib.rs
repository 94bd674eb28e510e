//! weft-runtime: tasks, the work-stealing scheduler, the blocking pool and
//! the entry points (`Runtime`, `Builder`, `Handle`, `spawn`, `block_on`).
//!
//! # A short tour
//!
//! ```
//! // asyncio.run(main())
//! let total = weft_runtime::run(async {
//!     // asyncio.create_task: runs concurrently on the worker threads
//!     let tasks: Vec<_> = (1..=4u64).map(|n| weft_runtime::spawn(async move { n * 10 })).collect();
//!     // loop.run_in_executor: blocking work goes to the blocking pool
//!     let blocking = weft_runtime::spawn_blocking(|| 2);
//!     let mut total = blocking.await.unwrap();
//!     for task in tasks {
//!         total += task.await.unwrap();
//!     }
//!     total
//! });
//! assert_eq!(total, 102);
//! ```
//!
//! Cancelling and catching panics:
//!
//! ```
//! weft_runtime::run(async {
//!     let stuck = weft_runtime::spawn(std::future::pending::<()>());
//!     stuck.abort();
//!     assert!(stuck.await.unwrap_err().is_cancelled());
//!     let failing = weft_runtime::spawn(async { panic!("oops") });
//!     assert!(failing.await.unwrap_err().is_panic());
//! });
//! ```
//!
//! A spawned future and its output must be `Send`, since any worker may run
//! it; this does not compile:
//!
//! ```compile_fail
//! weft_runtime::run(async {
//!     let local = std::rc::Rc::new(1);
//!     weft_runtime::spawn(async move { *local }).await.unwrap();
//! });
//! ```
//!
//! The guard of [`Handle::enter`] belongs to the thread that entered, so it
//! is not `Send`:
//!
//! ```compile_fail
//! let rt = weft_runtime::Runtime::new().unwrap();
//! let guard = rt.handle().enter();
//! std::thread::scope(|scope| {
//!     scope.spawn(move || drop(guard));
//! });
//! ```
//!
//! # Reading order
//!
//! 1. `task/mod.rs`: what a task is, the handles to it (the design essay).
//! 2. `task/state.rs`: the state word, its bits, transitions and diagram.
//! 3. `task/raw.rs`, `task/harness.rs`: the allocation and the typed paths
//!    (where the crate's `unsafe` lives; see below).
//! 4. `scheduler/mod.rs`: the scheduler's map; `scheduler/schedule.rs`:
//!    spawn and where woken tasks go; `scheduler/shared.rs`: the shared
//!    state and the one task-poll function; `scheduler/queues.rs` and
//!    `scheduler/core.rs`: the queues other threads reach, a worker's own
//!    queues and the next-task choice; `scheduler/worker.rs`: the worker
//!    loop; `scheduler/sleepers.rs`: who sleeps and who is woken;
//!    `scheduler/launch.rs`, `scheduler/lifecycle.rs`: launching and
//!    counting workers.
//! 5. `park.rs`, `driver.rs`: how a thread with nothing to run sleeps, and
//!    the driver seam.
//! 6. `blocking.rs`, `runtime.rs`, `builder.rs`, `handle.rs`, `context.rs`:
//!    the pool and the entry points.
//! 7. `task_group.rs`: `TaskGroup`, the spawning member of the combinators;
//!    `compose.rs` re-exports it beside gather, try_gather, race, `join!`,
//!    `select!` and the `stream` module, which live in weft-compose (they
//!    know no runtime).
//! 8. `debug.rs`, `metrics.rs`: slow-poll reports, task dumps, counters;
//!    then `task/meta.rs` (task names and `TaskMeta` in one word per
//!    task), `hooks.rs` (task hooks), `histogram.rs` (poll-time and
//!    schedule-latency histograms) and `trace/` (the spans tokio-console
//!    reads, feature `tracing`).
//! 9. `task/task_local.rs`: context variables and how a spawn copies them;
//!    `local.rs`: local (`!Send`) tasks on a `LocalRuntime`.
//!
//! # Unsafe
//!
//! `task::raw` and `task::harness` hold the task's `unsafe` (the only modules allowed to):
//! every block cites an invariant INV-n of `task/state.rs` or `task/raw.rs`.
//! `task/task_local.rs` holds three more, also justified in its module doc:
//! the pin projection of a context-variable `Scope` onto its future, and
//! the borrow of the frame behind the thread-local context pointer (CTXV-1).
//! `scheduler/schedule.rs` holds one, `Shared::spawn_local`: creating a task
//! whose future is not `Send` (INV-10), next to the check that the caller
//! is the `LocalRuntime`'s owner thread (LIFE-3).
//! `task/meta.rs` holds three more, justified in its module doc: they turn
//! a task's tagged site word back into the reference it was made from
//! (TAG-1); a safe enum would grow every task header by a word.
//! `scheduler/lifo.rs` holds two, the LIFO slot's hand-back of a task
//! reference it keeps as a pointer in an atomic (LIFO-1), so that a task
//! stranded behind a worker stuck in one poll can be rescued.
//!
//! # Glossary
//!
//! One word per meaning; the module docs use these.
//!
//! - **idle task**: a task neither running nor queued (the task state's
//!   IDLE bit, [`TaskState::Idle`] in a dump). Only tasks are "idle".
//! - **sleepers**: the protocol by which workers with nothing to do sleep
//!   and are woken one at a time (`scheduler/sleepers.rs`; a worker is
//!   *running*, *searching* or *parked*).
//! - **quiescent**: the whole runtime has nothing runnable: every worker
//!   parked, every queue empty (`Shared::is_quiescent`; only then may a
//!   paused clock jump).
//! - **unowned core**: a `Core` no thread holds (the current-thread core
//!   between `block_on` calls; `Lifecycle`).
//! - **a driver**: `weft_io::Driver` (the reactor) or `weft_timer::Driver`
//!   (the wheel). **The drivers**: both, driven together as one
//!   `DriverPair` by one thread at a time; **the drivers lock**:
//!   `DriverLock` (`driver.rs`), which the parked thread holds and hands
//!   over (`park.rs`, PARK-3).
//! - **turn**: what a yielded task is owed before it runs again: the
//!   drivers polled, the injector's waiting tasks run (`scheduler/core.rs`,
//!   CORE-3).
//! - **stuck worker** / **rescue**: a worker in one poll for a whole
//!   stall-check interval, and the driver holder taking its LIFO task.
//! - **Remote**: what other threads may touch of one worker (its
//!   stealer, its LIFO slot for a rescue, its unparker, its counters);
//!   **`Queues`**: the injector and every worker's `Remote`, with the
//!   sleepers protocol that wakes them (`scheduler/queues.rs`).
//! - **blocking pool**: the threads that run `spawn_blocking` closures
//!   (`blocking.rs`); a sibling of the scheduler that `Runtime` and
//!   `Handle` hold beside it, not part of the scheduler's `Shared`.
//! - **current runtime**: the thread-local `Handle` set by `enter`,
//!   `block_on` and the runtime's own threads (`context.rs`, the crate's one
//!   thread-local layer).

pub mod compose;
pub mod explore;
pub mod task;

/// Async iteration (`async for`): weft-compose's `stream` module, at the
/// path it had in this crate.
pub use weft_compose::stream;
/// Await several futures of different types (weft-compose's macros, at the
/// paths they had in this crate).
pub use weft_compose::{join, select};
// The helpers `join!` and `select!` expand to, at the root paths they had in
// this crate; the macros themselves reach them through weft-compose.
#[doc(hidden)]
pub use weft_compose::{__join_internal, __select_internal};

mod blocking;
mod builder;
mod context;
mod debug;
mod driver;
mod handle;
mod histogram;
mod hooks;
mod local;
mod loom;
mod metrics;
mod park;
mod poll_clock;
mod rng;
mod runtime;
mod scheduler;
mod task_group;
mod trace;

pub use builder::Builder;
pub use context::EnterGuard;
pub use debug::{SlowPoll, TaskDump, TaskInfo, TaskState, UnhandledPanic};
pub use handle::Handle;
pub use histogram::Histogram;
pub use local::LocalRuntime;
pub use metrics::{RuntimeMetrics, WorkerStats};
pub use runtime::Runtime;
pub use task::{yield_now, TaskMeta};

use std::future::Future;
use task::JoinHandle;

/// Runs `future` to completion on a new multi-thread runtime, then shuts
/// the runtime down (asyncio's `run`).
///
/// # Panics
///
/// Panics if the runtime cannot be built (the OS refused a thread), or
/// when called inside a runtime.
///
/// ```
/// assert_eq!(weft_runtime::run(async { 7 }), 7);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let runtime = Runtime::new()
        .unwrap_or_else(|err| panic!("failed to build the weft runtime for run(): {err}"));
    runtime.block_on(future)
}

/// Spawns `future` on the current runtime (asyncio's `create_task`).
///
/// # Panics
///
/// Panics outside a runtime, saying so.
///
/// ```
/// weft_runtime::run(async {
///     assert_eq!(weft_runtime::spawn(async { "done" }).await.unwrap(), "done");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // Only the scheduler is cloned out of the thread-local, not the whole
    // `Handle` (`handle.rs`).
    match context::current_scheduler() {
        Some(shared) => handle::spawn_on(&shared, future),
        None => panic!("weft::spawn called outside a runtime: spawn inside Runtime::block_on, weft::run or another task, or use Handle::spawn"),
    }
}

/// Runs the blocking closure `f` on the current runtime's blocking pool
/// (asyncio's `run_in_executor`).
///
/// # Panics
///
/// Panics outside a runtime, saying so.
///
/// ```
/// weft_runtime::run(async {
///     let len = weft_runtime::spawn_blocking(|| "abc".len()).await.unwrap();
///     assert_eq!(len, 3);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match Handle::try_current() {
        Some(handle) => handle.spawn_blocking(f),
        None => panic!("weft::spawn_blocking called outside a runtime: call it inside Runtime::block_on, weft::run or a task, or use Handle::spawn_blocking"),
    }
}

/// Runs `future` to completion on a new [`LocalRuntime`] on this thread,
/// then shuts it down (asyncio's `run`, single-threaded like asyncio).
///
/// # Panics
///
/// Panics if the runtime cannot be built, or when called inside a runtime.
///
/// ```
/// let answer = weft_runtime::run_local(async {
///     let shared = std::rc::Rc::new(21);
///     let task = weft_runtime::task::spawn_local({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run_local<F: Future>(future: F) -> F::Output {
    let runtime = Builder::new_current_thread()
        .build_local()
        .unwrap_or_else(|err| {
            panic!("failed to build the weft LocalRuntime for run_local(): {err}")
        });
    runtime.block_on(future)
}
