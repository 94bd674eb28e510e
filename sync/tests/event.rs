//! `Event`, after CPython's `test_locks.py` `EventTests`.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, poll_with, CountingWaker};
use std::pin::pin;
use weft_sync::Event;

/// `set` releases every current waiter (test_wait).
#[test]
fn set_releases_every_waiter() {
    let event = Event::new();
    let (wakes, waker) = CountingWaker::new();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(event.wait())).collect();
    for waiter in &mut waiters {
        assert!(poll_with(waiter.as_mut(), &waker).is_pending());
    }
    event.set();
    assert_eq!(wakes.count(), 3);
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut()).is_ready());
    }
}

/// `wait` on a set event returns at once (test_wait_on_set).
#[test]
fn wait_on_set_event_returns_at_once() {
    let event = Event::new();
    event.set();
    assert!(poll_once(pin!(event.wait())).is_ready());
    assert!(event.is_set());
}

/// A waiter present at `set` is released even if `clear` follows before it
/// runs (test_clear_with_waiters).
#[test]
fn waiter_present_at_set_is_released_despite_clear() {
    let event = Event::new();
    let mut early = pin!(event.wait());
    assert!(poll_once(early.as_mut()).is_pending());
    event.set();
    event.clear();
    let mut late = pin!(event.wait());
    assert!(
        poll_once(late.as_mut()).is_pending(),
        "a waiter arriving after clear waits"
    );
    assert!(poll_once(early.as_mut()).is_ready());
    assert!(!event.is_set());
}

/// `clear` resets the flag (test_clear).
#[test]
fn clear_resets_the_flag() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.clear();
    assert!(!event.is_set());
}

/// A cancelled waiter does not affect the others (test_wait_cancel).
#[test]
fn cancelled_waiter_does_not_affect_others() {
    let event = Event::new();
    let mut kept = pin!(event.wait());
    assert!(poll_once(kept.as_mut()).is_pending());
    {
        let mut dropped = pin!(event.wait());
        assert!(poll_once(dropped.as_mut()).is_pending());
    }
    event.set();
    assert!(poll_once(kept.as_mut()).is_ready());
}

/// `Debug` shows the flag (test_repr).
#[test]
fn debug_shows_the_flag() {
    let event = Event::default();
    assert_eq!(format!("{event:?}"), "Event { is_set: false }");
    event.set();
    block_on(event.wait());
    assert_eq!(format!("{event:?}"), "Event { is_set: true }");
}

/// A parked waiter carries its future: `EventWait` is the `&Event` and a
/// 4-byte key, packed to 12 bytes, so an `async` block holding an `Arc`
/// of the event and the future is three words, not four.
#[test]
#[cfg(target_pointer_width = "64")]
fn a_wait_future_is_12_bytes_and_an_async_block_around_it_24() {
    use std::sync::Arc;
    let event = Arc::new(Event::new());
    assert_eq!(std::mem::size_of_val(&event.wait()), 12);
    let shared = event.clone();
    let waiting = async move { shared.wait().await };
    assert_eq!(std::mem::size_of_val(&waiting), 24);
}
