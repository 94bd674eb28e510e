//! Loom models of the grant/cancel race, one per primitive, through the
//! public API (the crate's `loom.rs` swaps its mutex for loom's).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p weft-sync --release --lib --tests loom`
//! (every model's name starts with `loom_`, so the `loom` filter of `.ci/run` selects them).
//! Each model has two or three threads and a preemption bound of
//! [`PREEMPTIONS`], so the whole file explores in well under three minutes
//! on two cores. A lost wakeup shows up as a loom deadlock (every thread
//! blocked), a lost permit or item as a failed final assertion.

#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use weft_sync::{
    oneshot, Barrier, CancellationToken, Condition, Event, Lock, Queue, RwLock, Semaphore,
};

/// Bounded preemptions keep each model's state space small; 3 is more than enough to
/// interleave a grant between a waiter's poll and its drop.
const PREEMPTIONS: usize = 3;

fn model(body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(body);
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls `future` once with a waker nobody listens to, then drops it: the
/// waiter is cancelled at whatever point the race left it.
fn poll_once_then_drop<F: Future>(future: F) -> bool {
    let waker = Waker::from(Arc::new(Noop));
    pin!(future)
        .poll(&mut Context::from_waker(&waker))
        .is_ready()
}

/// Waitlist register vs notify vs cancel, through the semaphore: a waiter
/// granted permits and dropped hands them to the next waiter.
#[test]
fn loom_semaphore_grant_vs_cancel() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let cancelled = {
            let sem = sem.clone();
            thread::spawn(move || {
                poll_once_then_drop(sem.acquire_many(2));
            })
        };
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire())))
        };
        sem.add_permits(2);
        cancelled.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

/// The owned futures (`acquire_owned`, `lock_owned`) keep their `Arc` until
/// they complete: one granted and dropped hands its permit on through it.
#[test]
fn loom_owned_grant_vs_cancel() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let lock = Arc::new(Lock::new(0));
        let guard = lock.try_lock().unwrap();
        let cancelled = {
            let (sem, lock) = (sem.clone(), lock.clone());
            thread::spawn(move || {
                poll_once_then_drop(sem.acquire_owned());
                poll_once_then_drop(lock.lock_owned());
            })
        };
        let waiter = {
            let (sem, lock) = (sem.clone(), lock.clone());
            thread::spawn(move || {
                drop(block_on(sem.acquire_owned()));
                *block_on(lock.lock_owned()) += 1;
            })
        };
        sem.add_permits(1);
        drop(guard);
        cancelled.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(*lock.try_lock().expect("lock leaked"), 1);
    });
}

/// Lock: a waiter handed the lock and dropped passes it on.
#[test]
fn loom_lock_handoff_vs_cancel() {
    model(|| {
        let lock = Arc::new(Lock::new(0));
        let guard = lock.try_lock().unwrap();
        let cancelled = {
            let lock = lock.clone();
            thread::spawn(move || {
                poll_once_then_drop(lock.lock());
            })
        };
        let waiter = {
            let lock = lock.clone();
            thread::spawn(move || *block_on(lock.lock()) += 1)
        };
        drop(guard);
        cancelled.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(*lock.try_lock().expect("lock leaked"), 1);
    });
}

/// RwLock: a cancelled queued writer does not strand a reader behind it.
#[test]
fn loom_rwlock_writer_cancel_vs_reader() {
    model(|| {
        let lock = Arc::new(RwLock::new(()));
        let held = Arc::new(lock.try_read().unwrap_or_else(|| unreachable!()));
        drop(held);
        let reader_guard = lock.try_read().unwrap();
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                poll_once_then_drop(lock.write());
            })
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || drop(block_on(lock.read())))
        };
        drop(reader_guard);
        writer.join().unwrap();
        reader.join().unwrap();
        assert!(lock.try_write().is_some(), "rwlock leaked");
    });
}

/// Event: a waiter present at `set` is released even if `clear` follows,
/// and a cancelled waiter does not absorb the release.
#[test]
fn loom_event_set_then_clear_vs_cancel() {
    model(|| {
        let event = Arc::new(Event::new());
        let cancelled = {
            let event = event.clone();
            thread::spawn(move || poll_once_then_drop(event.wait()))
        };
        let waiter = {
            let event = event.clone();
            thread::spawn(move || block_on(event.wait()))
        };
        event.set();
        event.clear();
        // The waiter may not have queued before `clear`; a second `set`
        // stands for "the program sets it again later".
        let _ = cancelled.join().unwrap();
        event.set();
        waiter.join().unwrap();
        assert!(event.is_set());
    });
}

/// Condition: a notification meant for a cancelled waiter reaches the other.
#[test]
fn loom_condition_notify_vs_cancel() {
    model(|| {
        let shared = Arc::new((Lock::new(false), Condition::new()));
        let cancelled = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (lock, cond) = &*shared;
                if poll_once_then_drop(async { drop(cond.wait(lock.lock().await).await) }) {
                    // Its one poll spanned the notify and it returned: the
                    // notification was used, not lost; re-issue it for the
                    // other waiter as a real consumer would.
                    cond.notify_one();
                }
            })
        };
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (lock, cond) = &*shared;
                block_on(async { drop(cond.wait_for(lock.lock().await, |ready| *ready).await) });
            })
        };
        let (lock, cond) = &*shared;
        *block_on(lock.lock()) = true;
        cond.notify_one();
        cancelled.join().unwrap();
        waiter.join().unwrap();
    });
}

/// Queue: an item reserved for a cancelled getter reaches the other getter.
#[test]
fn loom_queue_get_cancel_vs_put() {
    model(|| {
        let queue = Arc::new(Queue::unbounded());
        let cancelled = {
            let queue = queue.clone();
            thread::spawn(move || poll_once_then_drop(queue.get()))
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.get()))
        };
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let took_one = cancelled.join().unwrap();
        let got = getter.join().unwrap().unwrap();
        let left = queue.len();
        assert_eq!(
            usize::from(took_one) + 1 + left,
            2,
            "got {got}, {left} left"
        );
    });
}

/// Queue: a slot reserved for a cancelled putter reaches the other putter,
/// and the cancelled put inserted nothing.
#[test]
fn loom_queue_put_cancel_vs_get() {
    model(|| {
        let queue = Arc::new(Queue::bounded(1));
        queue.put_nowait(0).unwrap();
        let cancelled = {
            let queue = queue.clone();
            thread::spawn(move || poll_once_then_drop(queue.put(1)))
        };
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.put(2)).unwrap())
        };
        assert_eq!(block_on(queue.get()), Ok(0));
        if cancelled.join().unwrap() {
            assert_eq!(
                block_on(queue.get()),
                Ok(1),
                "a completed put inserted its item"
            );
        }
        putter.join().unwrap();
        assert_eq!(queue.get_nowait(), Ok(2));
        assert!(queue.is_empty(), "the cancelled put must not insert");
    });
}

/// Queue: `shutdown(true)` wakes a blocked getter and putter.
#[test]
fn loom_queue_shutdown_vs_waiters() {
    model(|| {
        let queue = Arc::new(Queue::bounded(1));
        queue.put_nowait(0).unwrap();
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.put(1)).is_err())
        };
        queue.shutdown(true);
        assert!(putter.join().unwrap(), "put after shutdown must fail");
        assert!(block_on(queue.get()).is_err());
    });
}

/// Queue: a getter cancelled while `shutdown` closes it and a `put` may
/// grant it first: whichever its node records (granted, closed, or still
/// waiting), its drop must settle it so (the node keeps no state byte:
/// a closed node read as granted would hand on an item that is not there).
#[test]
fn loom_queue_cancel_vs_put_vs_shutdown() {
    model(|| {
        let queue = Arc::new(Queue::unbounded());
        let cancelled = {
            let queue = queue.clone();
            thread::spawn(move || {
                let waker = Waker::from(Arc::new(Noop));
                let polled = pin!(queue.get()).poll(&mut Context::from_waker(&waker));
                matches!(polled, std::task::Poll::Ready(Ok(_)))
            })
        };
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || queue.put_nowait(1).is_ok())
        };
        queue.shutdown(false);
        let took = cancelled.join().unwrap();
        let put = putter.join().unwrap();
        let left = queue.len();
        assert_eq!(
            usize::from(took) + left,
            usize::from(put),
            "took {took}, put {put}, {left} left"
        );
        if left == 1 {
            assert_eq!(block_on(queue.get()), Ok(1));
        }
        assert!(block_on(queue.get()).is_err(), "shut down and drained");
    });
}

/// Barrier: a dropped wait does not count as arrived.
#[test]
fn loom_barrier_arrival_vs_cancel() {
    model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let cancelled = {
            let barrier = barrier.clone();
            thread::spawn(move || poll_once_then_drop(barrier.wait()))
        };
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut mine = Box::pin(barrier.wait());
        let mine_first = mine.as_mut().poll(&mut cx).is_ready();
        let theirs_first = cancelled.join().unwrap();
        assert!(
            !(mine_first && theirs_first),
            "only the second arrival completes a round"
        );
        if !mine_first && !theirs_first {
            // They arrived and left before we arrived: their arrival is void.
            assert_eq!(
                barrier.n_waiting(),
                1,
                "a dropped wait still counts as arrived"
            );
            assert!(pin!(barrier.wait()).poll(&mut cx).is_ready());
        }
        // Whichever way the round formed, our wait is released now.
        assert!(mine_first || mine.as_mut().poll(&mut cx).is_ready());
    });
}

/// oneshot: send vs receiver drop never loses or duplicates the value.
#[test]
fn loom_oneshot_send_vs_receive() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(1).is_ok());
        assert_eq!(block_on(rx), Ok(1));
        assert!(sender.join().unwrap());
    });
}

/// oneshot: a sender dropped while the receiver registers its waker still
/// wakes it (S2 vs R5 with no value).
#[test]
fn loom_oneshot_sender_drop_vs_register() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let sender = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx), Err(oneshot::RecvError));
        sender.join().unwrap();
    });
}

/// oneshot: a receiver that re-polls with a different waker (R3 clears the
/// old one, R4 stores the new one) while the value is sent is still woken.
#[test]
fn loom_oneshot_waker_swap_vs_send() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).is_ok());
        let mut rx = Box::pin(rx);
        let first_waker = Waker::from(Arc::new(Noop));
        let early = rx.as_mut().poll(&mut Context::from_waker(&first_waker));
        let value = match early {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => block_on(rx),
        };
        assert_eq!(value, Ok(7));
        assert!(sender.join().unwrap());
    });
}

/// oneshot: both halves dropped at once, neither having sent nor waited:
/// the shared block is freed exactly once, by whichever let go second
/// (INV-5; loom's leak tracker in the block fails the model if nobody
/// does, and a second free would drop the tracker twice).
#[test]
fn loom_oneshot_both_halves_dropped_at_once() {
    model(|| {
        let (tx, rx) = oneshot::channel::<Arc<()>>();
        let sender = thread::spawn(move || drop(tx));
        drop(rx);
        sender.join().unwrap();
    });
}

/// oneshot: a receiver that registered its waker is dropped while the
/// sender sends: the sender wakes the stored waker (S4) and only then
/// lets go, so the block is freed after the wake, once, and the value is
/// dropped exactly once, by whichever half frees the block or by the
/// sender that got it back.
#[test]
fn loom_oneshot_send_vs_registered_receiver_drop() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let value = Arc::new(());
        let sent = value.clone();
        let mut rx = Box::pin(rx);
        let waker = Waker::from(Arc::new(Noop));
        let early = rx.as_mut().poll(&mut Context::from_waker(&waker));
        assert!(early.is_pending());
        let sender = thread::spawn(move || drop(tx.send(sent)));
        drop(rx);
        sender.join().unwrap();
        assert_eq!(Arc::strong_count(&value), 1);
    });
}

/// oneshot: as above with the sender dropped instead of sending.
#[test]
fn loom_oneshot_sender_drop_vs_registered_receiver_drop() {
    model(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let mut rx = Box::pin(rx);
        let waker = Waker::from(Arc::new(Noop));
        assert!(rx
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let sender = thread::spawn(move || drop(tx));
        drop(rx);
        sender.join().unwrap();
    });
}

/// oneshot: send vs receiver drop: the value comes back to the sender
/// exactly when the receiver closed first, and is dropped exactly once.
#[test]
fn loom_oneshot_send_vs_receiver_drop() {
    model(|| {
        let (tx, rx) = oneshot::channel();
        let value = Arc::new(());
        let sent = value.clone();
        let sender = thread::spawn(move || tx.send(sent).is_err());
        drop(rx);
        let returned = sender.join().unwrap();
        // The value was dropped exactly once, whichever side ended with it.
        assert_eq!(Arc::strong_count(&value), 1, "returned: {returned}");
    });
}

/// CancellationToken: cancel racing a `cancelled()` that registers (and
/// one that registers and is dropped): the waiter always completes, and the
/// dropped one neither blocks nor absorbs the wake-up.
#[test]
fn loom_cancel_vs_cancelled() {
    model(|| {
        let token = CancellationToken::new();
        let waiter = {
            let token = token.clone();
            thread::spawn(move || block_on(token.cancelled()))
        };
        let dropped = {
            let token = token.clone();
            thread::spawn(move || {
                poll_once_then_drop(token.cancelled());
            })
        };
        token.cancel();
        waiter.join().unwrap();
        dropped.join().unwrap();
        assert!(token.is_cancelled());
    });
}

/// CancellationToken: cancel racing `child_token()` on another thread: the
/// child is cancelled whether it was linked before the cancel (and is
/// reached through the tree) or made after it (and is born cancelled), and
/// its waiter completes; a child dropped meanwhile unlinks without harm.
#[test]
fn loom_cancel_vs_child_token() {
    model(|| {
        let root = CancellationToken::new();
        let child_waiter = {
            let root = root.clone();
            thread::spawn(move || {
                let child = root.child_token();
                drop(root.child_token());
                block_on(child.cancelled());
                assert!(child.is_cancelled());
            })
        };
        root.cancel();
        child_waiter.join().unwrap();
    });
}
