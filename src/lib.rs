//! weft: a small, fast async runtime that gives Rust the patterns of
//! Python's asyncio.
//!
//! This crate is the facade: it re-exports the member crates under the paths
//! of the public API, so user code names `weft::spawn`, `weft::time::sleep`,
//! `weft::sync::Queue`, and never a member crate.
//!
//! # A first program (asyncio.run, create_task, gather)
//!
//! ```
//! use std::time::Duration;
//!
//! let total = weft::run(async {
//!     // asyncio.create_task: starts running at once, on any worker.
//!     let background = weft::spawn(async { 40 });
//!     // asyncio.gather: three futures run concurrently inside this task.
//!     let parts = weft::gather((0..3).map(|i| async move {
//!         weft::time::sleep(Duration::from_millis(10)).await;
//!         i
//!     }))
//!     .await;
//!     background.await.expect("the task did not panic") + parts.iter().sum::<i32>()
//! });
//! assert_eq!(total, 43);
//! ```
//!
//! # Reading order
//!
//! The guide (`docs/guide/README.md`) walks this code chapter by chapter;
//! the crates in the same order:
//!
//! 1. `weft_runtime::task`: one allocation per task, the state word, the
//!    waker that is the task itself.
//! 2. `weft_runtime::scheduler`: workers, local queues, stealing, parking.
//! 3. `weft_io`: the reactor, tokens with generations, readiness.
//! 4. `weft_timer`: the hierarchical wheel and the paused clock.
//! 5. `weft_sync`: one fair waiter list under every primitive.
//! 6. `weft_compose`: gather, race, `join!`, `select!` and async iteration
//!    (`weft_compose::stream`), under any executor; then `TaskGroup` in
//!    `weft_runtime`, the one combinator that spawns.
//!
//! `docs/architecture.md` maps every topic to its file, and `docs/asyncio.md`
//! maps every asyncio name to its weft counterpart.

pub use weft_compose::{gather, join, race, select, try_gather};
pub use weft_macros::{main, test};
pub use weft_runtime::task_local;
pub use weft_runtime::{
    run, run_local, spawn, spawn_blocking, yield_now, Builder, Handle, Histogram, LocalRuntime,
    Runtime, RuntimeMetrics, SlowPoll, TaskDump, TaskInfo, TaskMeta, TaskState, UnhandledPanic,
    WorkerStats,
};

/// Tasks: handles, errors, ids and groups (asyncio.Task, TaskGroup).
pub mod task {
    pub use weft_runtime::compose::TaskGroup;
    pub use weft_runtime::task::{
        consume_budget, coop, id, spawn_local, try_id, unconstrained, AbortHandle, Builder, Id,
        JoinError, JoinHandle, LocalKey, Scope, Unconstrained,
    };
}

/// Schedule exploration: run a test under many seeded schedules and replay
/// the failing one from its seed (`#[weft::test(explore = N)]`).
pub mod explore {
    pub use weft_runtime::explore::*;
}

/// Time: sleep, timeout, interval and the paused test clock (asyncio.sleep, wait_for).
pub mod time {
    pub use weft_timer::{
        advance, interval, interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
        Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout,
    };
}

/// Networking: TCP, UDP and Unix sockets on weft's reactor.
pub mod net {
    pub use weft_io::net::*;
}

/// Async I/O traits and helpers (futures-io's traits, read/write extensions, buffers).
pub mod io {
    pub use weft_io::io::*;
}

/// Files on the blocking pool (the aiofiles pattern).
pub mod fs {
    pub use weft_io::fs::*;
}

/// Signals: `ctrl_c()` for graceful shutdown.
pub mod signal {
    pub use weft_io::signal::*;
}

/// asyncio's synchronisation primitives, usable under any executor.
pub mod sync {
    pub use weft_sync::*;
}

/// Async iteration (`async for`): the `Stream` trait and a small `StreamExt`.
pub mod stream {
    pub use weft_compose::stream::*;
}

/// hyper 1.x on weft (feature `hyper`): the executor, timer and I/O
/// adapter hyper's `rt` traits ask for, and the connector for hyper-util's
/// pooled client. No tokio runtime, reactor or thread is involved.
#[cfg(feature = "hyper")]
pub mod hyper {
    pub use weft_hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};
}

/// The README's code blocks, compiled as doctests so the front page cannot
/// drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
