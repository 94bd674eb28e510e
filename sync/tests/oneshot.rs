//! `oneshot`: one value from one sender to one receiver.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker};
use std::task::Poll;
use weft_sync::oneshot::{self, RecvError};

/// A value sent before or after the receiver waits arrives.
#[test]
fn value_arrives_whether_sent_before_or_after_waiting() {
    let (tx, rx) = oneshot::channel();
    tx.send(1).unwrap();
    assert_eq!(block_on(rx), Ok(1));

    let (tx, mut rx) = oneshot::channel();
    let (wakes, waker) = CountingWaker::new();
    assert!(poll_with(std::pin::Pin::new(&mut rx), &waker).is_pending());
    tx.send(2).unwrap();
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(std::pin::Pin::new(&mut rx)), Poll::Ready(Ok(2)));
}

/// Dropping the sender wakes the receiver with `RecvError`.
#[test]
fn dropped_sender_gives_recv_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (wakes, waker) = CountingWaker::new();
    assert!(poll_with(std::pin::Pin::new(&mut rx), &waker).is_pending());
    drop(tx);
    assert_eq!(wakes.count(), 1);
    assert_eq!(block_on(rx), Err(RecvError));
}

/// Sending to a dropped receiver hands the value back; `is_closed` tells first.
#[test]
fn send_to_dropped_receiver_returns_the_value() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send("v"), Err("v"));
}

/// `try_recv` reports not-yet, the value, and a dropped sender.
#[test]
fn try_recv_reports_each_state() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Ok(None));
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(Some(3)));
    assert_eq!(rx.try_recv(), Err(RecvError));
}

/// The value crosses threads.
#[test]
fn value_crosses_threads() {
    let (tx, rx) = oneshot::channel();
    let sender = std::thread::spawn(move || tx.send(vec![1, 2]).unwrap());
    assert_eq!(block_on(rx), Ok(vec![1, 2]));
    sender.join().unwrap();
}

/// The two halves let go of their shared block from two threads at once,
/// every way round (sent or not, received or not, the receiver waiting or
/// not): the block is freed once, by the half that lets go last, and the
/// value dropped once. Under AddressSanitizer (`scripts/asan.sh -p
/// weft-sync`) a free too early or twice fails the run.
#[test]
fn halves_dropped_on_two_threads_free_the_block_once() {
    use std::sync::{Arc, Barrier};
    let value = Arc::new(());
    let start = Arc::new(Barrier::new(2));
    for round in 0..2_000 {
        let (tx, mut rx) = oneshot::channel::<Arc<()>>();
        let (_wakes, waker) = CountingWaker::new();
        if round % 2 == 0 {
            // The receiver waits first, so the sender has a waker to wake.
            assert!(poll_with(std::pin::Pin::new(&mut rx), &waker).is_pending());
        }
        let sent = value.clone();
        let go = start.clone();
        let sender = std::thread::spawn(move || {
            go.wait();
            match round % 3 {
                0 => drop(tx),
                _ => drop(tx.send(sent)),
            }
        });
        start.wait();
        if round % 5 == 0 {
            // Take the value if it is there already, then let go.
            let _ = rx.try_recv();
        }
        drop(rx);
        sender.join().unwrap();
        assert_eq!(Arc::strong_count(&value), 1, "round {round}");
    }
}

/// A receiver's waker that panics when the sender wakes it: the panic
/// reaches the sender's caller, and the shared block is still freed once
/// both halves are gone (under `scripts/asan.sh`, LeakSanitizer would
/// report it otherwise).
#[test]
fn a_panicking_waker_does_not_leak_the_channel() {
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    struct Panicking;
    impl Wake for Panicking {
        fn wake(self: Arc<Self>) {
            panic!("waker panicked");
        }
        fn wake_by_ref(self: &Arc<Self>) {
            panic!("waker panicked");
        }
    }
    let value = Arc::new(());
    let (tx, mut rx) = oneshot::channel::<Arc<()>>();
    let waker = Waker::from(Arc::new(Panicking));
    assert!(poll_with(std::pin::Pin::new(&mut rx), &waker).is_pending());
    let sent = value.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.send(sent)));
    assert!(result.is_err(), "the waker's panic reaches the sender");
    drop(rx);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the value went with the block"
    );
}
