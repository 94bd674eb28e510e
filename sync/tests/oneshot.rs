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
