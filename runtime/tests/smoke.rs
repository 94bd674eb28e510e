//! Smoke tests: the basic paths of both flavours work end to end.

use weft_runtime::{Builder, Runtime};

/// A spawned task's output reaches its JoinHandle (multi-thread).
#[test]
fn spawn_and_join_multi_thread() {
    let rt = Runtime::new().unwrap();
    let out = rt.block_on(async { weft_runtime::spawn(async { 40 + 2 }).await.unwrap() });
    assert_eq!(out, 42);
}

/// A spawned task's output reaches its JoinHandle (current-thread).
#[test]
fn spawn_and_join_current_thread() {
    let rt = Builder::new_current_thread().build().unwrap();
    let out = rt.block_on(async { weft_runtime::spawn(async { 40 + 2 }).await.unwrap() });
    assert_eq!(out, 42);
}
