//! weft-timer: weft's time — a hierarchical timer wheel, the time driver,
//! `sleep` / `timeout` / `interval`, and a test clock that can be paused.
//!
//! Users reach all of this as `weft::time`; this crate is the implementation,
//! written to be read.
//!
//! # A tour
//!
//! ```
//! use std::time::Duration;
//! use weft_timer::{interval, sleep, timeout, Instant};
//!
//! # weft_timer::doc_support::block_on_paused(async {
//! let start = Instant::now();
//!
//! // asyncio.sleep(0.5)
//! sleep(Duration::from_millis(500)).await;
//!
//! // asyncio.wait_for(slow(), timeout=1): the slow future is dropped (cancelled).
//! let slow = async {
//!     sleep(Duration::from_secs(10)).await;
//!     "finished"
//! };
//! assert!(timeout(Duration::from_secs(1), slow).await.is_err());
//!
//! // A fast future wins, and its timer never even enters the wheel.
//! assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
//!
//! // A periodic task; the first tick is immediate.
//! let mut every_100ms = interval(Duration::from_millis(100));
//! for _ in 0..3 {
//!     every_100ms.tick().await;
//! }
//!
//! // The clock in this example is paused, so all of that took no real
//! // time, and the arithmetic is exact.
//! assert_eq!(start.elapsed(), Duration::from_millis(500 + 1000 + 200));
//! # });
//! ```
//!
//! # How it fits together
//!
//! ```text
//!  sleep / timeout / interval          (sleep.rs, timeout.rs, interval.rs)
//!        | register on first poll, cancel on drop
//!        v
//!  context: the thread's current Handle and shard; pause / resume /
//!        |  advance, Instant::now   (context.rs: the only thread-locals)
//!        v
//!  Handle --Arc--> Shared { clock, one Mutex<wheel + park state> per
//!        ^                  worker (shard), unpark }
//!        |                   (handle.rs, shared.rs, shard.rs, clock.rs)
//!        | park_timeout / process / auto_advance
//!  Driver  <-- the runtime's parking worker  (driver.rs; docs/architecture.md: the seam)
//!        |
//!        v
//!  Wheel: 6 levels x 64 slots, entries in a slab-backed arena
//!                                            (wheel/{mod,level,arena}.rs)
//! ```
//!
//! Every import between files points down this list: wheel, shard, clock
//! and instant, shared, handle, driver, context, then the futures. Only
//! `context.rs` asks which runtime the calling thread is in.
//!
//! # Reading order
//!
//! 1. `wheel/level.rs`: slot and level arithmetic, the heart of a hierarchical wheel.
//! 2. `wheel/arena.rs`: where entries live and why (no `unsafe`).
//! 3. `wheel/mod.rs`: insert, cancel, cascade, poll; the model test beside it.
//! 4. `clock.rs`: real and paused time, and instants to ticks.
//! 5. `shared.rs`: the shards and why, the park protocol (no lost unpark),
//!    firing; `shard.rs`: one shard and its park state machine; `driver.rs`
//!    and `handle.rs`: the runtime's and the futures' owners of that state.
//! 6. `context.rs`: how a thread finds its runtime's timers.
//! 7. `sleep.rs`, `timeout.rs`, `interval.rs`: the futures.
//!
//! # Coming from asyncio
//!
//! | asyncio | weft |
//! |---|---|
//! | `await asyncio.sleep(s)` | `sleep(Duration::from_secs_f64(s)).await` |
//! | `await asyncio.wait_for(aw, t)` | `timeout(t, fut).await` → `Result<_, Elapsed>` |
//! | `async with asyncio.timeout(t):` | `timeout(t, async { .. }).await` |
//! | `loop.time()` | `Instant::now()` |
//! | a `while True: ...; await asyncio.sleep(p)` loop | `interval(p)` with a [`MissedTickBehavior`] |
//!
//! Resolution is 125 us (an eighth of a millisecond) and timers never fire
//! early: a deadline is rounded up to the next tick of the runtime's clock.

mod clock;
mod context;
#[doc(hidden)]
pub mod doc_support;
mod driver;
mod handle;
mod instant;
mod interval;
mod loom;
mod shard;
mod shared;
mod sleep;
mod timeout;
pub mod wheel;

pub use context::{advance, pause, resume, EnterGuard, ShardGuard};
pub use driver::Driver;
pub use handle::Handle;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior, MISSED_TICK_TOLERANCE};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
