//! Compile-time auto-trait checks for every public type (as in tokio's
//! `tests/async_send_sync.rs`): `Send + Sync` when the contents are.

#![cfg(not(loom))]

use std::cell::Cell;
use std::rc::Rc;
use weft_sync::*;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn send_sync<T: Send + Sync>() {}
fn unpin<T: Unpin>() {}

fn future_is_send<F: std::future::Future + Send>(_: F) {}

/// Every primitive and guard is `Send + Sync` over `Send + Sync` contents.
#[test]
fn primitives_and_guards_are_send_and_sync() {
    send_sync::<Lock<Vec<u8>>>();
    send_sync::<LockGuard<'static, Vec<u8>>>();
    send_sync::<OwnedLockGuard<Vec<u8>>>();
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<Event>();
    send_sync::<Condition>();
    send_sync::<Barrier>();
    send_sync::<Queue<String>>();
    send_sync::<LifoQueue<String>>();
    send_sync::<PriorityQueue<String>>();
    send_sync::<oneshot::Sender<String>>();
    send_sync::<oneshot::Receiver<String>>();
    send_sync::<QueueShutDown<String>>();
    send_sync::<PutError<String>>();
    send_sync::<GetError>();
    send_sync::<ReleaseError>();
    send_sync::<BarrierWaitResult>();
}

/// A `Lock` only needs `Send` contents to be shared (like `std::sync::Mutex`).
#[test]
fn lock_of_send_only_value_is_sync() {
    send_sync::<Lock<Cell<u8>>>();
    send_sync::<Queue<Cell<u8>>>();
    send::<LockGuard<'static, Cell<u8>>>();
}

/// The futures returned by every waiting method are `Send`, so they run on
/// multi-threaded executors.
#[test]
fn waiting_futures_are_send() {
    let lock = Lock::new(0);
    let rw = RwLock::new(0);
    let sem = Semaphore::new(1);
    let bounded = BoundedSemaphore::new(1);
    let event = Event::new();
    let cond = Condition::new();
    let barrier = Barrier::new(1);
    let queue = Queue::<u8>::unbounded();
    future_is_send(lock.lock());
    future_is_send(rw.read());
    future_is_send(rw.write());
    future_is_send(sem.acquire());
    future_is_send(sem.acquire_many(1));
    future_is_send(bounded.acquire());
    future_is_send(std::sync::Arc::new(Semaphore::new(1)).acquire_owned());
    future_is_send(std::sync::Arc::new(Lock::new(1)).lock_owned());
    future_is_send(event.wait());
    future_is_send(async { drop(cond.wait(lock.lock().await).await) });
    future_is_send(barrier.wait());
    future_is_send(queue.put(1));
    future_is_send(queue.get());
    future_is_send(queue.join());
    future_is_send(oneshot::channel::<u8>().1);
}

/// Named futures are `Unpin`, so they can be polled without pinning.
#[test]
fn named_futures_are_unpin() {
    unpin::<EventWait<'static>>();
    unpin::<BarrierWait<'static>>();
    unpin::<Put<'static, std::collections::VecDeque<Rc<u8>>>>();
    unpin::<Get<'static, std::collections::VecDeque<u8>>>();
    unpin::<Join<'static, std::collections::VecDeque<u8>>>();
    unpin::<oneshot::Receiver<u8>>();
    sync::<Event>();
}
