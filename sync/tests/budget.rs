//! weft-sync and the cooperative budget (weft-coop): inside a budget scope
//! every primitive spends one unit per completed operation and yields,
//! without taking anything, once the budget is spent; under another
//! executor there is no budget scope and nothing ever yields for it.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use weft_sync::{oneshot, Barrier, Condition, Event, Lock, Queue, RwLock, Semaphore};

/// Counts wakes, so a test can see the self-wake of a budget yield.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // Relaxed: a test counter read on the same thread.
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

/// Spends the whole budget of the current scope.
fn spend_budget(cx: &mut Context<'_>) {
    while weft_coop::has_budget_remaining() {
        if let Poll::Ready(guard) = weft_coop::poll_proceed(cx) {
            guard.made_progress();
        }
    }
}

/// Under smol (no budget scope), 10,000 always-ready operations of every
/// primitive complete in one poll of the task: nothing yields for budget.
#[test]
fn under_another_executor_there_is_no_budget() {
    const OPS: usize = 10_000;
    let polls = Arc::new(AtomicUsize::new(0));
    let counted = polls.clone();
    let done = smol::block_on(std::future::poll_fn(move |cx| {
        // Relaxed: read after block_on returns, on this thread.
        counted.fetch_add(1, Ordering::Relaxed);
        let work = pin!(async {
            let (semaphore, lock, rwlock) = (Semaphore::new(1), Lock::new(0), RwLock::new(0));
            let (event, barrier, queue) = (Event::new(), Barrier::new(1), Queue::unbounded());
            event.set();
            for n in 0..OPS {
                drop(semaphore.acquire().await);
                *lock.lock().await += 1;
                drop(rwlock.read().await);
                event.wait().await;
                barrier.wait().await;
                queue.put(n).await.unwrap();
                queue.get().await.unwrap();
                let (sender, receiver) = oneshot::channel();
                sender.send(n).unwrap();
                receiver.await.unwrap();
            }
            lock.into_inner()
        });
        work.poll(cx)
    }));
    assert_eq!(done, OPS);
    assert_eq!(
        polls.load(Ordering::Relaxed),
        1,
        "a weft-sync operation yielded under smol"
    );
}

/// With the budget spent, an acquire that would succeed yields instead:
/// it wakes its task and has taken no permit, so dropping it (or polling
/// it again with a fresh budget) loses nothing.
#[test]
fn a_yield_for_budget_takes_no_permit() {
    let semaphore = Semaphore::new(1);
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut acquire = pin!(semaphore.acquire());
    weft_coop::with_budget(|| {
        spend_budget(&mut cx);
        assert!(acquire.as_mut().poll(&mut cx).is_pending());
    });
    assert_eq!(
        wakes.0.load(Ordering::Relaxed),
        1,
        "the yield woke the task"
    );
    assert_eq!(semaphore.available_permits(), 1, "a yield took a permit");
    let permit = weft_coop::with_budget(|| acquire.as_mut().poll(&mut cx));
    assert!(permit.is_ready());
    assert_eq!(semaphore.available_permits(), 0);
}

/// With the budget spent, a `get` with an item waiting yields and leaves
/// the item in the queue; a `put` with room yields and has not inserted.
#[test]
fn a_yield_for_budget_takes_no_item_and_inserts_none() {
    let queue = Queue::bounded(2);
    queue.put_nowait(1).unwrap();
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    weft_coop::with_budget(|| {
        spend_budget(&mut cx);
        assert!(pin!(queue.get()).poll(&mut cx).is_pending());
        assert!(pin!(queue.put(2)).poll(&mut cx).is_pending());
    });
    assert_eq!(
        queue.len(),
        1,
        "a yielded get took the item or a yielded put inserted"
    );
    assert_eq!(queue.get_nowait().unwrap(), 1);
}

/// A `Condition::wait` that was notified yields when the budget is spent
/// and keeps its notification: with a fresh budget it completes.
#[test]
fn condition_wait_spends_the_budget() {
    let lock = Lock::new(0);
    let condition = Condition::new();
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut wait = pin!(async { drop(condition.wait(lock.lock().await).await) });
    weft_coop::with_budget(|| assert!(wait.as_mut().poll(&mut cx).is_pending()));
    condition.notify_one();
    weft_coop::with_budget(|| {
        spend_budget(&mut cx);
        assert!(wait.as_mut().poll(&mut cx).is_pending());
    });
    weft_coop::with_budget(|| {
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        assert!(
            weft_coop::has_budget_remaining(),
            "one wait spends a unit or two, not the budget"
        );
    });
    assert!(!lock.is_locked());
}

/// Each completed operation spends exactly one unit: a budget's worth of
/// acquires fit in one poll, the next one yields.
#[test]
fn each_operation_spends_one_unit() {
    let semaphore = Semaphore::new(1);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    weft_coop::with_budget(|| {
        for n in 0..weft_coop::BUDGET_PER_POLL {
            let acquired = pin!(semaphore.acquire()).poll(&mut cx);
            assert!(acquired.is_ready(), "acquire {n} yielded within the budget");
        }
        assert!(pin!(semaphore.acquire()).poll(&mut cx).is_pending());
    });
}

/// A oneshot receive spends a unit only when it takes the value: waiting
/// polls leave the budget alone, and one that waits with the budget spent
/// still registers, so the send wakes it and a fresh budget takes the value.
/// With the value there and the budget spent it yields and leaves the value.
#[test]
fn a_oneshot_receive_spends_only_when_it_takes_the_value() {
    let (sender, receiver) = oneshot::channel();
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut receiver = pin!(receiver);
    weft_coop::with_budget(|| {
        for _ in 0..2 * usize::from(weft_coop::BUDGET_PER_POLL) {
            assert!(receiver.as_mut().poll(&mut cx).is_pending());
        }
        spend_budget(&mut cx);
        assert!(receiver.as_mut().poll(&mut cx).is_pending());
    });
    assert_eq!(
        wakes.0.load(Ordering::Relaxed),
        0,
        "a waiting receive yielded for budget"
    );
    sender.send(7).unwrap();
    assert_eq!(
        wakes.0.load(Ordering::Relaxed),
        1,
        "the send did not wake the receiver"
    );
    weft_coop::with_budget(|| {
        spend_budget(&mut cx);
        assert!(receiver.as_mut().poll(&mut cx).is_pending());
    });
    assert_eq!(
        wakes.0.load(Ordering::Relaxed),
        2,
        "the yield woke the task"
    );
    weft_coop::with_budget(|| {
        assert_eq!(receiver.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
        let left = (0..).take_while(|_| {
            let proceed = weft_coop::poll_proceed(&mut cx);
            if let Poll::Ready(guard) = &proceed {
                guard.made_progress();
            }
            proceed.is_ready()
        });
        assert_eq!(left.count(), usize::from(weft_coop::BUDGET_PER_POLL) - 1);
    });
}
