//! Compile-time checks of the auto traits of every public type.

use std::future::Ready;

use weft_timer::{
    Driver, Elapsed, EnterGuard, Handle, Instant, Interval, MissedTickBehavior, ShardGuard, Sleep,
    Timeout,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn clone<T: Clone>() {}

/// Timer futures can move between threads and be shared; `Sleep` and
/// `Interval` need no pinning; `Handle` is a cheap clone for any thread.
#[test]
fn public_types_have_the_expected_auto_traits() {
    send::<Sleep>();
    sync::<Sleep>();
    unpin::<Sleep>();
    send::<Timeout<Ready<()>>>();
    sync::<Timeout<Ready<()>>>();
    unpin::<Timeout<Ready<()>>>();
    send::<Interval>();
    sync::<Interval>();
    unpin::<Interval>();
    send::<Handle>();
    sync::<Handle>();
    clone::<Handle>();
    send::<Driver>();
    sync::<Driver>();
    send::<Instant>();
    sync::<Instant>();
    send::<Elapsed>();
    sync::<Elapsed>();
    send::<MissedTickBehavior>();
    sync::<MissedTickBehavior>();
    unpin::<EnterGuard>();
    // Not `Send` (the guards restore a thread-local): see the `compile_fail`
    // doctests on `EnterGuard` and `ShardGuard`.
    unpin::<ShardGuard>();
}
