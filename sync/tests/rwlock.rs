//! `RwLock`: shared readers, exclusive writers, FIFO so writers are not starved.

#![cfg(not(loom))]

mod common;

use common::{block_on, poll_once, Tracked};
use std::pin::pin;
use weft_sync::RwLock;

/// Many readers hold the lock at once; a writer excludes everyone.
#[test]
fn readers_share_and_writers_exclude() {
    let lock = RwLock::new(1);
    let a = lock.try_read().unwrap();
    let b = lock.try_read().unwrap();
    assert_eq!(*a + *b, 2);
    assert!(lock.try_write().is_none());
    drop((a, b));
    let mut writer = lock.try_write().unwrap();
    *writer = 5;
    assert!(lock.try_read().is_none());
    drop(writer);
    assert_eq!(*block_on(lock.read()), 5);
}

/// A queued writer blocks later readers, so a stream of readers cannot
/// starve it; readers behind it then run together.
#[test]
fn queued_writer_is_not_starved_by_later_readers() {
    let lock = RwLock::new(Vec::new());
    let early_reader = lock.try_read().unwrap();
    let mut writer = Tracked::new(async { lock.write().await.push("w") });
    assert!(!writer.poll());
    assert!(
        lock.try_read().is_none(),
        "a late try_read must not pass the queued writer"
    );
    let mut readers: Vec<_> = (0..3)
        .map(|_| Tracked::new(async { lock.read().await.len() }))
        .collect();
    for reader in &mut readers {
        assert!(!reader.poll());
    }
    drop(early_reader);
    for reader in &mut readers {
        assert!(!reader.poll(), "readers wait behind the writer");
    }
    assert!(writer.poll());
    for reader in &mut readers {
        assert!(reader.poll());
        assert_eq!(reader.output, Some(1), "readers see the writer's push");
    }
}

/// A cancelled queued writer lets the readers behind it proceed.
#[test]
fn cancelled_writer_unblocks_readers_behind_it() {
    let lock = RwLock::new(());
    let reader = lock.try_read().unwrap();
    let mut writer = Box::pin(lock.write());
    assert!(poll_once(writer.as_mut()).is_pending());
    let mut late_reader = pin!(lock.read());
    assert!(poll_once(late_reader.as_mut()).is_pending());
    drop(writer);
    assert!(poll_once(late_reader.as_mut()).is_ready());
    drop(reader);
}

/// `get_mut` and `into_inner` need no locking.
#[test]
fn get_mut_and_into_inner_bypass_the_lock() {
    let mut lock = RwLock::<u32>::default();
    *lock.get_mut() += 3;
    assert_eq!(lock.into_inner(), 3);
}
