//! Multi-thread stress: many tasks on several worker threads of the tiny
//! runner in `common`, with exact final counts. Some tasks give up waiting
//! after a few polls ([`give_up_after`]), so grants race with cancellation
//! across threads.

#![cfg(not(loom))]

mod common;

use common::{run_on_threads, yield_now, BoxFuture};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use weft_sync::{oneshot, Barrier, Condition, Event, Lock, Queue, RwLock, Semaphore};

/// Worker threads of the runner: more than the machine's 2 cores, so
/// tasks are preempted mid-operation.
const THREADS: usize = 4;

/// Relaxed is enough for test counters read after `run_on_threads` joins
/// the workers (the join is the synchronisation).
const COUNT: Ordering = Ordering::Relaxed;

/// Polls `future` up to `polls` times, then drops it: a cancellation that
/// races with the grant on another thread.
struct GiveUp<F> {
    future: Pin<Box<F>>,
    polls_left: usize,
}

fn give_up_after<F: Future>(polls: usize, future: F) -> GiveUp<F> {
    GiveUp {
        future: Box::pin(future),
        polls_left: polls,
    }
}

impl<F: Future> Future for GiveUp<F> {
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if self.polls_left == 0 {
            return Poll::Ready(None);
        }
        self.polls_left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn tasks<F>(count: usize, make: impl Fn(usize) -> F) -> Vec<BoxFuture>
where
    F: Future<Output = ()> + Send + 'static,
{
    (0..count).map(|i| Box::pin(make(i)) as BoxFuture).collect()
}

/// Lock stress: 64 tasks x 200 increments, some attempts abandoned; the
/// count equals the completed increments exactly.
#[test]
fn lock_stress() {
    let lock = Arc::new(Lock::new(0usize));
    let completed = Arc::new(AtomicUsize::new(0));
    let work = tasks(64, |task| {
        let (lock, completed) = (lock.clone(), completed.clone());
        async move {
            for round in 0..200 {
                let attempt = async {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                };
                if give_up_after((task + round) % 3, attempt).await.is_some() {
                    completed.fetch_add(1, COUNT);
                }
                if round % 16 == 0 {
                    yield_now().await;
                }
            }
        }
    });
    run_on_threads(THREADS, work);
    assert_eq!(*lock.try_lock().unwrap(), completed.load(COUNT));
    assert!(completed.load(COUNT) > 0);
}

/// Semaphore stampede: never more permits out than exist; all come back.
#[test]
fn semaphore_stampede() {
    const PERMITS: usize = 4;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let in_use = Arc::new(AtomicUsize::new(0));
    let work = tasks(100, |task| {
        let (sem, in_use) = (sem.clone(), in_use.clone());
        async move {
            for round in 0..20 {
                let wanted = 1 + (task + round) % PERMITS;
                let Some(_permit) = give_up_after(task % 4, sem.acquire_many(wanted)).await else {
                    continue;
                };
                // SeqCst-free check: the permit itself orders these updates.
                let now = in_use.fetch_add(wanted, COUNT) + wanted;
                assert!(now <= PERMITS, "{now} permits out of {PERMITS}");
                yield_now().await;
                in_use.fetch_sub(wanted, COUNT);
            }
        }
    });
    run_on_threads(THREADS, work);
    assert_eq!(sem.available_permits(), PERMITS);
}

/// RwLock: writers are exclusive, readers never see a half-done write.
#[test]
fn rwlock_stress() {
    let lock = Arc::new(RwLock::new((0usize, 0usize)));
    let work = tasks(32, |task| {
        let lock = lock.clone();
        async move {
            for _ in 0..100 {
                if task % 4 == 0 {
                    let mut pair = lock.write().await;
                    pair.0 += 1;
                    yield_now().await;
                    pair.1 += 1;
                } else {
                    let pair = lock.read().await;
                    assert_eq!(pair.0, pair.1, "a reader saw a half-done write");
                }
            }
        }
    });
    run_on_threads(THREADS, work);
    assert_eq!(*lock.try_read().unwrap(), (800, 800));
}

/// Queue stress: 4 producers x 2,000 items, 4 consumers, capacity 16; every
/// item arrives exactly once and `join` returns after the last `task_done`.
#[test]
fn queue_stress() {
    const PRODUCERS: usize = 4;
    const ITEMS: usize = 2_000;
    let queue = Arc::new(Queue::bounded(16));
    let sum = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let producers_done = Arc::new(AtomicUsize::new(0));
    let all_put = Arc::new(Event::new());
    let mut work = tasks(PRODUCERS, |producer| {
        let (queue, producers_done, all_put) =
            (queue.clone(), producers_done.clone(), all_put.clone());
        async move {
            for n in 0..ITEMS {
                queue.put(producer * ITEMS + n).await.unwrap();
            }
            // AcqRel: the last producer sees every other producer's count.
            if producers_done.fetch_add(1, Ordering::AcqRel) + 1 == PRODUCERS {
                all_put.set();
            }
        }
    });
    work.extend(tasks(4, |_| {
        let (queue, sum, received) = (queue.clone(), sum.clone(), received.clone());
        async move {
            loop {
                // Abandoned gets must never lose an item.
                match give_up_after(2, queue.get()).await {
                    None => continue,
                    Some(Ok(item)) => {
                        sum.fetch_add(item, COUNT);
                        received.fetch_add(1, COUNT);
                        queue.task_done();
                    }
                    Some(Err(_)) => return,
                }
            }
        }
    }));
    work.extend(tasks(1, |_| {
        let (queue, all_put) = (queue.clone(), all_put.clone());
        async move {
            all_put.wait().await;
            queue.join().await;
            queue.shutdown(false);
        }
    }));
    run_on_threads(THREADS, work);
    let total = PRODUCERS * ITEMS;
    assert_eq!(received.load(COUNT), total);
    assert_eq!(sum.load(COUNT), total * (total - 1) / 2);
}

/// Single producer, single consumer: FIFO order is kept across threads.
#[test]
fn queue_spsc() {
    const ITEMS: usize = 5_000;
    let queue = Arc::new(Queue::bounded(8));
    let producer = {
        let queue = queue.clone();
        async move {
            for n in 0..ITEMS {
                queue.put(n).await.unwrap();
            }
            queue.shutdown(false);
        }
    };
    let consumer = {
        let queue = queue.clone();
        async move {
            let mut expected = 0;
            while let Ok(item) = queue.get().await {
                assert_eq!(item, expected);
                expected += 1;
            }
            assert_eq!(expected, ITEMS);
        }
    };
    run_on_threads(2, vec![Box::pin(producer), Box::pin(consumer)]);
}

/// Condition: a bounded buffer built from a Lock and two Conditions moves
/// every item exactly once.
#[test]
fn condition_bounded_buffer_stress() {
    const CAPACITY: usize = 4;
    const PER_PRODUCER: usize = 500;
    let shared = Arc::new((Lock::new(Vec::new()), Condition::new(), Condition::new()));
    let consumed = Arc::new(AtomicUsize::new(0));
    let mut work = tasks(3, |_| {
        let shared = shared.clone();
        async move {
            let (buffer, not_full, not_empty) = &*shared;
            for n in 0..PER_PRODUCER {
                let guard = buffer.lock().await;
                let mut guard = not_full
                    .wait_for(guard, |items| items.len() < CAPACITY)
                    .await;
                guard.push(n);
                not_empty.notify_one();
            }
        }
    });
    work.extend(tasks(3, |_| {
        let (shared, consumed) = (shared.clone(), consumed.clone());
        async move {
            let (buffer, not_full, not_empty) = &*shared;
            for _ in 0..PER_PRODUCER {
                let guard = buffer.lock().await;
                let mut guard = not_empty.wait_for(guard, |items| !items.is_empty()).await;
                guard.pop();
                consumed.fetch_add(1, COUNT);
                not_full.notify_one();
            }
        }
    }));
    run_on_threads(THREADS, work);
    assert_eq!(consumed.load(COUNT), 3 * PER_PRODUCER);
    assert!(shared.0.try_lock().unwrap().is_empty());
}

/// Barrier: 8 tasks x 50 rounds give exactly 50 leaders.
#[test]
fn barrier_stress() {
    const PARTIES: usize = 8;
    const ROUNDS: usize = 50;
    let barrier = Arc::new(Barrier::new(PARTIES));
    let leaders = Arc::new(AtomicUsize::new(0));
    let work = tasks(PARTIES, |_| {
        let (barrier, leaders) = (barrier.clone(), leaders.clone());
        async move {
            for _ in 0..ROUNDS {
                if barrier.wait().await.is_leader() {
                    leaders.fetch_add(1, COUNT);
                }
            }
        }
    });
    run_on_threads(THREADS, work);
    assert_eq!(leaders.load(COUNT), ROUNDS);
}

/// Event stampede: every waiter is released by one `set` from another task,
/// even though `clear` follows at once. The setter waits until every waiter
/// has registered (its first poll returned Pending), so no waiter can arrive
/// after the `set`/`clear` pair and wait forever.
#[test]
fn event_stampede() {
    const WAITERS: usize = 100;
    let event = Arc::new(Event::new());
    let registered = Arc::new(AtomicUsize::new(0));
    let released = Arc::new(AtomicUsize::new(0));
    let mut work = tasks(WAITERS, |_| {
        let (event, registered, released) = (event.clone(), registered.clone(), released.clone());
        async move {
            let mut wait = std::pin::pin!(event.wait());
            // Poll once by hand: after this the waiter is in the event's list.
            let first = std::future::poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
            assert!(
                first.is_pending(),
                "the event is not set before every waiter registered"
            );
            // Release/Acquire: the setter that sees every count also sees every
            // registration it follows.
            registered.fetch_add(1, Ordering::Release);
            wait.await;
            released.fetch_add(1, COUNT);
        }
    });
    work.extend(tasks(1, |_| {
        let (event, registered) = (event.clone(), registered.clone());
        async move {
            while registered.load(Ordering::Acquire) < WAITERS {
                yield_now().await;
            }
            event.set();
            event.clear();
        }
    }));
    run_on_threads(THREADS, work);
    assert_eq!(released.load(COUNT), WAITERS);
}

/// oneshot smoke: 500 ping-pongs across threads.
#[test]
fn oneshot_smoke() {
    let work = tasks(1, |_| async {
        for n in 0..500usize {
            let (ping_tx, ping_rx) = oneshot::channel();
            let (pong_tx, pong_rx) = oneshot::channel();
            let echo = std::thread::spawn(move || {
                let value = common::block_on(ping_rx).unwrap();
                pong_tx.send(value + 1).unwrap();
            });
            ping_tx.send(n).unwrap();
            assert_eq!(pong_rx.await, Ok(n + 1));
            echo.join().unwrap();
        }
    });
    run_on_threads(1, work);
}

/// Lock no_starvation: while 8 tasks hammer the lock, a latecomer still gets
/// it (FIFO), so the hammering stops.
#[test]
fn no_starvation() {
    let lock = Arc::new(Lock::new(false));
    let mut work = tasks(8, |_| {
        let lock = lock.clone();
        async move {
            while !*lock.lock().await {
                yield_now().await;
            }
        }
    });
    work.extend(tasks(1, |_| {
        let lock = lock.clone();
        async move {
            yield_now().await;
            *lock.lock().await = true;
        }
    }));
    run_on_threads(THREADS, work);
    assert!(*lock.try_lock().unwrap());
}

/// Every item is dropped exactly once, whether taken, left in the queue,
/// dropped by `shutdown(true)`, or returned by a failed `put`.
#[test]
fn destructors() {
    static LIVE: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Counted {
        fn new() -> Self {
            LIVE.fetch_add(1, Ordering::SeqCst);
            Counted
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let queue = Arc::new(Queue::bounded(4));
    let mut work = tasks(4, |_| {
        let queue = queue.clone();
        async move {
            for _ in 0..200 {
                if queue.put(Counted::new()).await.is_err() {
                    return;
                }
            }
        }
    });
    work.extend(tasks(2, |_| {
        let queue = queue.clone();
        async move {
            for _ in 0..150 {
                if give_up_after(1, queue.get())
                    .await
                    .is_some_and(|got| got.is_err())
                {
                    return;
                }
            }
            queue.shutdown(true);
        }
    }));
    run_on_threads(THREADS, work);
    drop(queue);
    assert_eq!(
        LIVE.load(Ordering::SeqCst),
        0,
        "an item leaked or was dropped twice"
    );
}
