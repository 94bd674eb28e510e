//! The guide's cancel-safety table (chapter 7, "Sidebar: which futures are
//! safe to drop in a `select!` loop"), row by row: each test runs the
//! pattern the table is about, a `select!` loop whose losing branch is
//! dropped on every turn, and counts what arrives.
//!
//! The "safe" rows must lose nothing however often their future is
//! dropped; the "not safe" rows show what is lost, and the way around it
//! the table gives. The chapter's exercise breaks the way around.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::UnixStream;
use weft::sync::{oneshot, Lock, Queue};
use weft::time::{interval, sleep, timeout};

/// Items per test: enough turns that a lossy branch would lose some.
const ITEMS: usize = 200;
/// A loss shows as a wait that never ends; every test here takes well
/// under a second.
const WATCHDOG: Duration = Duration::from_secs(10);

/// Counts its drops, to see whether an item was lost or delivered.
#[derive(Debug)]
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Written first in each `select!`: pending on its first poll (it wakes
/// itself), ready on the next, so every turn in which the other branch
/// did not finish at once drops it, granted or not.
async fn turn() {
    weft::yield_now().await;
}

#[weft::test]
async fn a_get_dropped_every_turn_loses_no_item() {
    let queue = Arc::new(Queue::unbounded());
    let producer = {
        let queue = queue.clone();
        weft::spawn(async move {
            for i in 0..ITEMS {
                queue.put(i).await.unwrap();
                weft::yield_now().await;
            }
        })
    };
    let mut received = Vec::new();
    let mut dropped_gets = 0;
    let consume = async {
        while received.len() < ITEMS {
            weft::select! {
                _ = turn() => dropped_gets += 1,
                item = queue.get() => received.push(item.unwrap()),
            }
        }
    };
    timeout(WATCHDOG, consume)
        .await
        .expect("an item was lost: a get dropped after it was granted kept it");
    producer.await.unwrap();
    assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
    assert!(dropped_gets > 0, "the loop must have dropped some gets");
}

#[weft::test]
async fn a_lock_dropped_every_turn_is_never_leaked() {
    let lock = Arc::new(Lock::new(0usize));
    let holders: Vec<_> = (0..4)
        .map(|_| {
            let lock = lock.clone();
            weft::spawn(async move {
                for _ in 0..ITEMS {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    // Held across a yield, so the loop below has to wait.
                    weft::yield_now().await;
                    drop(guard);
                }
            })
        })
        .collect();
    let (mut mine, mut dropped_locks) = (0, 0);
    let contend = async {
        while mine < ITEMS {
            weft::select! {
                _ = turn() => dropped_locks += 1,
                mut guard = lock.lock() => {
                    *guard += 1;
                    mine += 1;
                    weft::yield_now().await; // let the holders queue up behind us
                },
            }
        }
        for holder in holders {
            holder.await.unwrap();
        }
    };
    timeout(WATCHDOG, contend)
        .await
        .expect("the lock was leaked: a waiter dropped after it was granted kept it");
    assert!(
        dropped_locks > 0,
        "the loop must have dropped some lock waits"
    );
    assert_eq!(*lock.lock().await, 5 * ITEMS);
}

#[weft::test(start_paused = true)]
async fn an_interval_tick_dropped_every_turn_skips_no_tick() {
    let mut ticker = interval(Duration::from_millis(10));
    let mut ticks = Vec::new();
    while ticks.len() < 20 {
        weft::select! {
            at = ticker.tick() => ticks.push(at),
            _ = sleep(Duration::from_millis(3)) => {},
        }
    }
    let gaps: Vec<_> = ticks.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|gap| *gap == Duration::from_millis(10)),
        "{gaps:?}"
    );
}

#[weft::test]
async fn a_put_recreated_every_turn_drops_its_item_but_one_kept_across_turns_does_not() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let queue = Queue::bounded(1);
    queue.put(Tracked(dropped.clone())).await.unwrap(); // full from now on
                                                        // Recreated every turn: each losing turn drops a put and its item.
    for _ in 0..3 {
        weft::select! {
            _ = queue.put(Tracked(dropped.clone())) => unreachable!("the queue is full"),
            _ = turn() => {},
        }
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "three items lost with their puts"
    );
    // Kept across turns: only a reference is dropped; the item arrives.
    let mut put = queue.put(Tracked(dropped.clone()));
    let mut turns = 0;
    loop {
        weft::select! {
            done = &mut put => { done.unwrap(); break },
            _ = turn() => {
                turns += 1;
                if turns == 3 {
                    drop(queue.get().await.unwrap()); // make room
                }
            },
        }
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        4,
        "only the item taken out was dropped"
    );
    assert_eq!(queue.len(), 1, "the kept put delivered its item");
}

#[weft::test]
async fn a_oneshot_polled_by_reference_keeps_its_value() {
    let (tx, mut rx) = oneshot::channel::<usize>();
    let sender = weft::spawn(async move {
        for _ in 0..10 {
            weft::yield_now().await;
        }
        tx.send(42).unwrap();
    });
    let value = loop {
        weft::select! {
            value = &mut rx => break value.unwrap(),
            _ = turn() => {},
        }
    };
    sender.await.unwrap();
    assert_eq!(value, 42);
}

/// A `read_exact` dropped by `select!` after reading part of a message
/// takes those bytes with it.
///
/// On the paused clock: the 20 ms timeout must fire only after the reactor
/// has delivered "abc" to the read. On the real clock a slow first poll of
/// the timeout's `Sleep` (tens of ms under valgrind) let the timeout win
/// before the read saw "abc", and the next read got "abcde". The paused
/// clock jumps only when the runtime is idle, after a zero-timeout poll of
/// the reactor found nothing.
#[weft::test(start_paused = true)]
async fn read_exact_dropped_mid_message_loses_the_bytes_it_had_read() {
    let (mut ours, mut theirs) = UnixStream::pair().unwrap();
    let writer = weft::spawn(async move {
        theirs.write_all(b"abc").await.unwrap();
        sleep(Duration::from_millis(50)).await;
        theirs.write_all(b"defgh").await.unwrap();
    });
    let mut buf = [0u8; 8];
    weft::select! {
        _ = ours.read_exact(&mut buf) => unreachable!("only 3 of 8 bytes come before the timeout"),
        _ = sleep(Duration::from_millis(20)) => {},
    }
    // The dropped read_exact had consumed "abc"; a new one sees only the rest.
    let mut rest = [0u8; 5];
    ours.read_exact(&mut rest).await.unwrap();
    assert_eq!(&rest, b"defgh");
    writer.await.unwrap();
}
