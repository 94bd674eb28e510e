//! weft-compose: composing futures the asyncio way ([`gather()`],
//! [`try_gather`], [`race()`], [`join!`], [`select!`]) and async iteration
//! ([`stream`]), under any executor.
//!
//! # Summary
//! | asyncio | weft | when the first fails |
//! |---|---|---|
//! | `gather(*aws)` | [`gather()`] (outputs in input order) | n/a |
//! | `gather(*aws, return_exceptions=True)` | [`gather()`] of `Result`s | every result comes back |
//! | `gather(*aws)` raising | [`try_gather`] | the rest are dropped, the `Err` returned |
//! | `wait(aws, FIRST_COMPLETED)` + cancel | [`race()`] | n/a: the first to finish wins |
//! | `gather(a, b)` of mixed types | [`join!`] | n/a |
//! | `wait(..., FIRST_COMPLETED)` with per-branch code | [`select!`] | n/a |
//! | `async for` | [`stream::StreamExt`] over [`stream::Stream`] | n/a |
//!
//! asyncio's `TaskGroup` and `as_completed` are `weft::task::TaskGroup`,
//! which lives in weft-runtime because it spawns; it is built on this
//! crate's [`ready::ReadyList`].
//!
//! Everything here runs its futures *inside the calling task*: nothing is
//! spawned, so the futures need not be `Send` or `'static`, and dropping the
//! combinator drops (cancels) every child still running. That is the Rust
//! form of cancellation: no `CancelledError` is raised, the future is simply
//! never polled again and its destructors run.
//!
//! ```
//! // Any executor: smol's here, weft's through the facade (`weft::gather`).
//! let outputs = smol::block_on(weft_compose::gather((1..=3).map(|n| async move { n * 10 })));
//! assert_eq!(outputs, [10, 20, 30]);
//! ```
//!
//! # Role
//! A leaf crate: it depends on `std` and `futures-core` (the [`stream::Stream`]
//! trait) only, and on no weft crate. weft-runtime re-exports it at the paths
//! it always had (`weft_runtime::compose::{gather, try_gather, race}`,
//! `weft_runtime::{join, select}`, `weft_runtime::stream`), and the facade
//! as `weft::{gather, try_gather, race, join, select}` and `weft::stream`.
//! weft-runtime's `TaskGroup` uses [`ready::ReadyList`].
//!
//! Why a crate of its own: none of this code knows a task, a scheduler, a
//! reactor or a clock; it only polls futures with wakers it makes. Inside
//! weft-runtime it sat between the task and scheduler chapters without
//! using either, and nothing stopped a later change from reaching into the
//! runtime's internals. As its own crate the "works under any executor"
//! claim is checked by the compiler (the crate cannot name the runtime) and
//! by `tests/smol.rs` (gather, race, `join!`, `select!` and a stream
//! adapter on smol's executor, no weft runtime linked). The rejected
//! alternatives: keeping the files in weft-runtime (the claim held only by
//! convention), and one crate per piece (combinators, streams): `stream.rs`
//! shares the test executor and is 0.5k lines, too small to stand alone.
//!
//! # Design
//! The naive combinator hands every child the parent's waker and, whenever
//! the parent wakes, polls all N children. If the children finish one at a
//! time that is N + (N-1) + ... polls: gathering 100k futures does ~5·10⁹
//! polls. Here every child gets its own waker that records the child's index
//! in a shared ready list (`ready.rs`), and the parent polls only those
//! indices (`children.rs`): each wake costs one child poll, so the whole
//! gather is O(N). The unit tests count polls to prove it. Measured once
//! (release build, 2 cores): 40 000 futures that finish one at a time take
//! 23 ms to gather this way and 27.6 s when every child is polled on every
//! wake; a million take 0.46 s.
//!
//! The children are pinned in one `Box<[Option<F>]>` allocation; a finished
//! child is dropped in place at once, so a gather of long-lived futures does
//! not keep finished ones' resources alive. The one `unsafe` block of this
//! crate (projecting the pinned slice to one element) is in `children.rs`,
//! with its invariant; the ready list is safe code (`Arc` + `std::task::Wake`).
//!
//! `join!` and `select!` handle a handful of branches of different types and
//! poll each unfinished branch on every wake; see `macros.rs` for why that is
//! the right trade there.
//!
//! A cooperative budget (weft's, tokio's) needs no support here: a child
//! whose budget ran out wakes itself and returns `Pending`, and the ready
//! list yields to the executor after a few such self-wakes
//! ([`ready::ReadyList::poll_woken`]), so gathering budgeted children stays
//! linear (`tests.rs`, and the facade's `tests/budget_fairness.rs` under
//! weft's own budget). So the crate needs no weft-coop.
//!
//! # Invariants
//! - No `use` of a runtime: the crate compiles with `std` and `futures-core`
//!   alone, so every combinator works under any executor that honours the
//!   `Waker` contract.
//! - Each file lists its own: `ready.rs` (a child is queued at most once; the
//!   parent waker is registered before the queue is drained), `children.rs`
//!   (pinned children never move), `gather.rs`, `race.rs`, `macros.rs`,
//!   `stream.rs`.
//!
//! # Concurrency
//! A combinator is polled by one task at a time; its child wakers may be
//! called from any thread and only touch the ready list's mutex. The loom
//! model of that meeting point is `ready.rs`'s `loom_*` test
//! (`RUSTFLAGS="--cfg loom" cargo test --release -p weft-compose --lib loom`).
//!
//! # References
//! futures-util `FuturesUnordered` and `join_all`; Python's `asyncio.gather`,
//! `asyncio.wait`, `asyncio.TaskGroup`.

mod children;
mod gather;
mod macros;
mod race;
pub mod ready;
pub mod stream;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use gather::{gather, try_gather, Gather, TryGather};
pub use race::{race, Race};

/// Helpers that `join!` and `select!` expand to. Not public API: names and
/// signatures may change in any release.
#[doc(hidden)]
pub mod __private {
    /// Either of two branch outputs; `select!` nests these, one level per branch.
    #[derive(Debug)]
    pub enum Either<L, R> {
        /// The output of the branch at this nesting level.
        Left(L),
        /// The output of a later branch.
        Right(R),
    }

    /// Takes a finished `join!` branch's output.
    pub fn take_output<T>(output: &mut Option<T>) -> T {
        output
            .take()
            .expect("join! collects outputs only after every branch finished")
    }
}
