//! weft-sync: asyncio's synchronisation primitives for Rust, usable under
//! any executor.
//!
//! Every type here takes `&self`, is `Send + Sync` when its contents are,
//! is shared through `Arc` or `&`, and knows nothing about the runtime: it
//! only stores `Waker`s. The facade re-exports this crate as `weft::sync`.
//!
//! # A short tour
//!
//! ```
//! use std::sync::Arc;
//! use weft_sync::{Event, Lock, Queue, Semaphore};
//!
//! smol::block_on(async {
//!     // A lock-protected counter (asyncio.Lock).
//!     let counter = Lock::new(0u32);
//!     *counter.lock().await += 1;
//!
//!     // At most two holders at once (asyncio.Semaphore).
//!     let limit = Semaphore::new(2);
//!     let _permit = limit.acquire().await;
//!
//!     // A start signal (asyncio.Event).
//!     let go = Event::new();
//!     go.set();
//!     go.wait().await;
//!
//!     // Producer / consumer with join (asyncio.Queue).
//!     let queue = Arc::new(Queue::bounded(8));
//!     let consumer = {
//!         let queue = queue.clone();
//!         smol::spawn(async move {
//!             let mut sum = 0;
//!             while let Ok(item) = queue.get().await {
//!                 sum += item;
//!                 queue.task_done();
//!             }
//!             sum
//!         })
//!     };
//!     for item in 1..=10 {
//!         queue.put(item).await.unwrap();
//!     }
//!     queue.join().await;
//!     queue.shutdown(false);
//!     assert_eq!(consumer.await, 55);
//!     assert_eq!(*counter.lock().await, 1);
//! });
//! ```
//!
//! # Guarantees (all primitives)
//!
//! - **First come, first served.** Waiters are served in arrival order; while
//!   any wait, `try_lock`/`try_acquire`/`put_nowait` do not jump ahead.
//! - **Cancel-safe.** Dropping a waiting future never loses a wakeup meant
//!   for someone else and never leaks a permit, an item or the lock.
//!
//! # Which should I use?
//!
//! - `Lock<T>` vs `std::sync::Mutex<T>`: if the guard is never held across
//!   an `.await`, prefer the std (or parking_lot) mutex: it is cheaper. Use
//!   [`Lock`] when you must hold it across an `.await`, need FIFO fairness,
//!   or want a [`Condition`].
//! - [`Queue`] vs [`oneshot`]: a oneshot carries exactly one value to one
//!   receiver; a queue carries a stream of values between many tasks.
//! - [`Event`] vs [`Condition`]: an event is a sticky flag with no lock; a
//!   condition signals changes to state protected by a [`Lock`].
//!
//! # Deviations from asyncio
//!
//! | asyncio | weft-sync | why |
//! |---|---|---|
//! | `lock.release()` | drop the [`LockGuard`] | RAII: cannot release twice or forget to |
//! | `async with lock:` | `let guard = lock.lock().await;` | guards give `&mut T` |
//! | `Lock()` holds no data | `Lock<T>` owns the value | the borrow checker enforces locking |
//! | `sem.release()` | drop the [`SemaphorePermit`]; `add_permits(n)` | RAII |
//! | `BoundedSemaphore.release()` raises `ValueError` | [`BoundedSemaphore::release`] returns [`ReleaseError`]; it restores a `forget`-ten permit | errors as values |
//! | `Condition(lock)` binds one lock | `Condition::new()`; `wait(guard)` takes any [`LockGuard`] | like `std::sync::Condvar` |
//! | a cancelled `Condition.wait()` re-acquires the lock before raising | a dropped `wait` future does not hold the lock | a dropped future cannot run code |
//! | `Queue(maxsize=0)` is unbounded | [`Queue::unbounded()`](GenericQueue::unbounded); `bounded(0)` panics | say what you mean |
//! | `QueueFull`, `QueueEmpty` exceptions | [`PutError::Full`] (gives the item back), [`GetError::Empty`] | errors as values |
//! | `qsize()`, `empty()`, `full()` | `len()`, `is_empty()`, `is_full()` | Rust naming |
//! | `async for` over a queue | [`GenericQueue::stream`] | `Stream` |
//! | `Barrier.abort()`, `reset()`, `BrokenBarrierError` | not provided; a dropped `wait()` does not count as arrived | cancellation replaces abort |
//! | `asyncio.Future` as a one-value channel | [`oneshot::channel`] | typed sender/receiver halves |
//! | — | [`RwLock`] (FIFO; writers are not starved) | common in Rust |
//! | `task.cancel()` raises `CancelledError` at the task's `await` | the task awaits [`CancellationToken::cancelled`] and runs its cleanup | a Rust future can only be dropped, not interrupted |
//!
//! # Reading order
//!
//! 1. `waitlist.rs` — the FIFO waiter kernel and its register/notify/cancel protocol.
//! 2. `batch_semaphore.rs` — permits on top of it; then `semaphore.rs`, `lock.rs`, `rwlock.rs`.
//! 3. `event.rs`, `condition.rs`, `barrier.rs` — broadcast-style grants.
//! 4. `queue/` — two semaphores (items and slots) and a counter in one state.
//! 5. `oneshot.rs` — a single slot, no waitlist needed.
//! 6. `cancel.rs` — `CancellationToken`: a tree of never-cleared events.

mod barrier;
mod batch_semaphore;
mod budget;
mod cancel;
mod condition;
mod event;
mod lock;
mod loom;
pub mod oneshot;
mod queue;
mod rwlock;
mod semaphore;
#[cfg(all(test, loom))]
mod tests;
mod waitlist;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use cancel::{CancellationToken, Cancelled, DropGuard};
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use lock::{Lock, LockGuard, OwnedLockGuard};
pub use queue::{
    GenericQueue, Get, GetError, Join, LifoQueue, PriorityQueue, Put, PutError, Queue,
    QueueShutDown, QueueStorage, QueueStream,
};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{
    BoundedSemaphore, OwnedSemaphorePermit, ReleaseError, Semaphore, SemaphorePermit,
};
