//! A task's future and output are each dropped exactly once, whoever ends
//! up with them: the JoinHandle that reads the output, the JoinHandle
//! dropped before or after the task completes, the task itself, or the
//! runtime's drop for a task that never ran. The task block keeps no tag
//! saying which of the two it holds (`runtime/src/task/raw.rs`, INV-11),
//! so these paths are the ones that must agree on it.

mod common;

use common::runtimes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use weft_runtime::Builder;

/// Counts its drops.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the test does with a kept JoinHandle.
enum Kept<T> {
    /// Awaits it: the output is read.
    Read(weft_runtime::task::JoinHandle<T>),
    /// Drops it once the task is complete, the output unread.
    Unread(weft_runtime::task::JoinHandle<T>),
}

/// Every way an output can go: read by the JoinHandle, dropped with a
/// JoinHandle dropped after completion, dropped by the task when its
/// JoinHandle went first. Each output is dropped once, and each future.
#[test]
fn every_output_and_future_is_dropped_exactly_once() {
    const TASKS: usize = 300;
    for rt in runtimes() {
        let outputs = Arc::new(AtomicUsize::new(0));
        let futures = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut kept = Vec::new();
            for i in 0..TASKS {
                let output = Counted(outputs.clone());
                let future = Counted(futures.clone());
                let handle = weft_runtime::spawn(async move {
                    let _future = future;
                    weft_runtime::task::yield_now().await;
                    output
                });
                match i % 3 {
                    0 => kept.push(Kept::Read(handle)),
                    1 => kept.push(Kept::Unread(handle)),
                    _ => drop(handle),
                }
            }
            for handle in kept {
                match handle {
                    Kept::Read(handle) => drop(handle.await.expect("not cancelled")),
                    Kept::Unread(handle) => {
                        while !handle.is_finished() {
                            weft_runtime::task::yield_now().await;
                        }
                        drop(handle);
                    }
                }
            }
        });
        drop(rt);
        assert_eq!(outputs.load(Ordering::SeqCst), TASKS);
        assert_eq!(futures.load(Ordering::SeqCst), TASKS);
    }
}

/// Tasks that never ran (spawned, then the runtime dropped) have their
/// futures dropped once, and produce no output.
#[test]
fn a_task_that_never_ran_drops_its_future_once() {
    for rt in runtimes() {
        let outputs = Arc::new(AtomicUsize::new(0));
        let futures = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..10 {
            let output = Counted(outputs.clone());
            let future = Counted(futures.clone());
            handles.push(rt.spawn(async move {
                let _future = future;
                std::future::pending::<()>().await;
                output
            }));
        }
        drop(rt);
        assert_eq!(futures.load(Ordering::SeqCst), 10);
        for handle in handles {
            let error = futures_lite_block_on(handle).expect_err("cancelled at shutdown");
            assert!(error.is_cancelled());
        }
        // The outputs were moved into futures that never finished.
        assert_eq!(outputs.load(Ordering::SeqCst), 10);
    }
}

/// A JoinHandle that returned `Ready` panics if it is polled again (the
/// output is gone; nothing of it is read twice).
#[test]
#[should_panic(expected = "JoinHandle polled after it returned Ready")]
fn join_handle_polled_after_ready_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    let mut handle = rt.spawn(async { 7 });
    rt.block_on(async {
        assert_eq!((&mut handle).await.unwrap(), 7);
    });
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let _ = Pin::new(&mut handle).poll(&mut cx);
}

/// Polls a future to completion on this thread, with a no-op waker
/// (enough for a JoinHandle whose task is complete).
fn futures_lite_block_on<F: Future + Unpin>(mut future: F) -> F::Output {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = Pin::new(&mut future).poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// A waker that does nothing.
fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}
