//! Tasks: the unit of work the scheduler runs, and the handles to it.
//!
//! # Summary
//!
//! A task is a spawned future plus everything needed to run it, wake it,
//! cancel it and hand its output back, in **one heap allocation**:
//!
//! ```text
//!  +------------------- Cell<F, S> (repr C) --------------------+
//!  | Header (48 B): state word | vtable | id | site (meta.rs) |  |
//!  |      spawned (u64 stamp) | owned key (u32) | polls (u32)   |
//!  | scheduler: S (an Arc to the runtime's shared state)       |
//!  | stage: Running(F) | Finished(Result<F::Output>) | Consumed|
//!  | join waker: Option<Waker>                                 |
//!  +-----------------------------------------------------------+
//! ```
//!
//! # Role
//!
//! The scheduler (`crate::scheduler`) creates tasks with `new_task`, keeps
//! every live one in an `OwnedTasks` list so shutdown can find it, pushes
//! `Notified` handles through its queues and calls `Notified::run`. Users
//! see [`JoinHandle`], [`AbortHandle`], [`JoinError`] and [`Id`].
//!
//! # Design
//!
//! The handles are reference-counted pointers to the one block; the count
//! lives in the state word (`state.rs`) so that every lifecycle change and
//! its reference change are a single atomic step. The `Waker` handed to the
//! future *is* the task pointer, so waking never allocates. Which handle may
//! touch the future, the output or the join waker at any moment is decided
//! by the state word alone: read `state.rs` first (its diagram and INV-1..5),
//! then `raw.rs` (layout, INV-6..8), then `harness.rs` (the paths).
//!
//! Alternatives rejected: `Arc<Mutex<Option<F>>>` per task (three
//! allocations, a lock per poll, and no way to tell "woken while running"
//! from "idle"); async-task's separate crate (we want the state machine in
//! the reader's hands). Tokio's layout is followed, trimmed of its LIFO and
//! "waker being written" bits.
//!
//! The handles and who holds them:
//!
//! | handle          | owner                     | reference | may touch                     |
//! |-----------------|---------------------------|-----------|-------------------------------|
//! | `Task<S>`       | the owned-tasks list      | one       | header (dump), shutdown       |
//! | `Notified<S>`   | a run queue               | one       | the future, once `run`        |
//! | `JoinHandle<T>` | the spawner               | one       | output after COMPLETE, join waker |
//! | `AbortHandle`   | anyone                    | one       | the state word                |
//! | `Waker`         | whatever the future gave it to | one  | the state word, then a queue  |
//!
//! # Invariants
//!
//! INV-1..5 are in `state.rs`, INV-6..10 in `raw.rs`, BLOCK-1..2 in
//! `blocks.rs`. Only `raw.rs`, `harness.rs` and `blocks.rs` (the cache of
//! freed task blocks) contain `unsafe` blocks; everything else is safe
//! code on top.
//!
//! The files import one way only, so each can be read knowing just the
//! ones below it: `state.rs`, `id.rs`, `error.rs`, `stamp.rs`, `blocks.rs` at the
//! bottom; then `meta.rs` (the site), `raw.rs` (the block, its vtable
//! *type* and the waker: it does not know the harness, which fills the
//! vtable in), `schedule.rs` (the `Schedule` trait and the scheduler's
//! `Task`/`Notified` handles), `join.rs`, `harness.rs` (the typed paths
//! and the vtable for each `F`/`S`), `list.rs`, `spawn.rs` (making a task),
//! `builder.rs`; this file only declares and re-exports them.
//!
//! # Concurrency
//!
//! Every handle is `Send` (a `JoinHandle<T>` when `T` is; a local task's
//! future is only ever touched on its owner thread, INV-10); any thread
//! may wake, abort or drop a handle at any time. Only one thread polls a task at a time (INV-1), and a task
//! woken while it runs is requeued by its runner, never polled twice
//! (INV-5).
//!
//! # References
//!
//! tokio `runtime/task/mod.rs` (the handle table), async-task (one
//! allocation, vtable, waker as task pointer).

mod blocks;
mod builder;
mod error;
mod harness;
mod id;
mod join;
mod list;
mod meta;
mod raw;
mod schedule;
mod spawn;
pub(crate) mod stamp;
mod state;
pub(crate) mod task_local;
mod yield_now;

#[cfg(all(test, loom))]
mod tests;

pub use crate::local::spawn_local;
pub use builder::Builder;
pub(crate) use error::panic_message;
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub(crate) use list::OwnedTasks;
pub(crate) use meta::Site;
pub use meta::TaskMeta;
pub(crate) use raw::Header;
pub(crate) use schedule::{Notified, Schedule, Task};
#[cfg(all(test, loom))]
pub(crate) use spawn::new_task;
pub(crate) use spawn::{new_local_task, new_task_at, Observer, SpawnMeta};
pub use task_local::{LocalKey, Scope};
pub use weft_coop::{consume_budget, unconstrained, Unconstrained};
pub use yield_now::yield_now;

/// The cooperative budget, for futures written outside weft.
///
/// Every poll of a weft task starts with
/// [`BUDGET_PER_POLL`](crate::task::coop::BUDGET_PER_POLL) units; every
/// weft leaf future (socket reads, writes and accepts, sleeps and timeouts,
/// `JoinHandle`, oneshot, every weft-sync primitive) spends one when it
/// completes, and once they are spent it wakes its task and returns
/// `Pending` instead, so a task looping over always-ready operations yields
/// every `BUDGET_PER_POLL` of them. A future of your own can take part
/// with [`poll_proceed`](crate::task::coop::poll_proceed):
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
///
/// /// A counter that is always ready, yet lets the other tasks run.
/// struct Next<'a>(&'a mut u64);
///
/// impl Future for Next<'_> {
///     type Output = u64;
///     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
///         let coop = ready!(weft_runtime::task::coop::poll_proceed(cx));
///         *self.0 += 1;
///         coop.made_progress();
///         Poll::Ready(*self.0)
///     }
/// }
///
/// weft_runtime::run(async {
///     let mut count = 0;
///     while Next(&mut count).await < 1_000 {}
///     assert_eq!(count, 1_000);
/// });
/// ```
pub mod coop {
    pub use weft_coop::{has_budget_remaining, poll_proceed, RestoreOnPending, BUDGET_PER_POLL};
}
