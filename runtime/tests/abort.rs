//! Aborting tasks: before their first poll, while running, after finishing.

mod common;

use common::runtimes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use weft_runtime::Builder;

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A task aborted before its first poll never runs, and its JoinHandle
/// reports cancellation after the future was dropped. The multi-thread
/// runtime's workers are held busy (each blocked on a channel, on purpose)
/// so that nothing can poll the task before the abort.
#[test]
fn abort_before_first_poll_never_runs_the_future() {
    const WORKERS: usize = 2;
    for rt in runtimes() {
        let multi = rt.metrics().num_workers() == WORKERS;
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let blockers: Vec<_> = (0..if multi { WORKERS } else { 0 })
            .map(|_| {
                let (started_tx, release_rx) = (started_tx.clone(), release_rx.clone());
                rt.spawn(async move {
                    started_tx.send(()).unwrap();
                    release_rx.lock().unwrap().recv().unwrap();
                })
            })
            .collect();
        for _ in 0..blockers.len() {
            started_rx.recv().unwrap();
        }
        let ran = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let (ran2, flag) = (ran.clone(), DropFlag(dropped.clone()));
        let handle = rt.spawn(async move {
            let _flag = flag;
            ran2.store(true, Ordering::SeqCst);
        });
        handle.abort();
        for _ in 0..blockers.len() {
            release_tx.send(()).unwrap();
        }
        let err = rt.block_on(handle).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(
            dropped.load(Ordering::SeqCst),
            "the future is dropped before the JoinHandle returns"
        );
        assert!(!ran.load(Ordering::SeqCst), "an aborted task must not run");
        rt.block_on(async {
            for blocker in blockers {
                blocker.await.unwrap();
            }
        });
    }
}

/// A running task is stopped at its next `.await` that returns Pending.
#[test]
fn abort_while_running_takes_effect_at_next_yield() {
    for rt in runtimes() {
        let dropped = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let flag = DropFlag(dropped.clone());
        let polls2 = polls.clone();
        let handle = rt.spawn(async move {
            let _flag = flag;
            started_tx.send(()).unwrap();
            loop {
                polls2.fetch_add(1, Ordering::SeqCst);
                weft_runtime::yield_now().await;
            }
        });
        let abort = handle.abort_handle();
        let err = rt.block_on(async move {
            // The current-thread flavour runs the task only once we await.
            weft_runtime::yield_now().await;
            started_rx.recv().unwrap();
            abort.abort();
            handle.await.unwrap_err()
        });
        assert!(err.is_cancelled());
        assert!(dropped.load(Ordering::SeqCst));
        assert!(polls.load(Ordering::SeqCst) >= 1);
    }
}

/// Aborting a finished task changes nothing: its output is kept.
#[test]
fn abort_after_finish_keeps_the_output() {
    for rt in runtimes() {
        let value = rt.block_on(async {
            let handle = weft_runtime::spawn(async { 5 });
            while !handle.is_finished() {
                weft_runtime::yield_now().await;
            }
            handle.abort();
            handle.abort_handle().abort();
            handle.await
        });
        assert_eq!(value.unwrap(), 5);
    }
}

/// Pending until dropped; counts polls.
struct Forever(Arc<AtomicUsize>);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Poll::Pending
    }
}

/// An AbortHandle cancels from another OS thread; is_finished follows.
#[test]
fn abort_handle_cancels_from_another_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let handle = rt.spawn(Forever(polls.clone()));
    let abort = handle.abort_handle();
    assert!(!abort.is_finished());
    std::thread::spawn(move || abort.abort()).join().unwrap();
    let err = rt.block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
    assert!(
        polls.load(Ordering::SeqCst) <= 1,
        "an idle aborted task is not polled again"
    );
}

/// Many tasks aborted while others wake them: every JoinHandle finishes,
/// each future is dropped exactly once.
#[test]
fn destructors_run_once_under_concurrent_abort() {
    const TASKS: usize = 2_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let count = Count(drops.clone());
            rt.spawn(async move {
                let _count = count;
                loop {
                    weft_runtime::yield_now().await;
                }
            })
        })
        .collect();
    let aborts: Vec<_> = handles.iter().map(|handle| handle.abort_handle()).collect();
    let aborter = std::thread::spawn(move || aborts.iter().for_each(|abort| abort.abort()));
    aborter.join().unwrap();
    rt.block_on(async {
        for handle in handles {
            assert!(handle.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), TASKS);
}

/// A queued `spawn_blocking` closure aborted before a pool thread takes it
/// never runs; one already running finishes and keeps its output.
#[test]
fn abort_of_a_queued_blocking_closure_prevents_it_from_running() {
    let rt = Builder::new_current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let running = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        "finished"
    });
    started_rx.recv().unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let ran2 = ran.clone();
    let queued = rt.spawn_blocking(move || ran2.store(true, Ordering::SeqCst));
    queued.abort();
    running.abort();
    release_tx.send(()).unwrap();
    let (running, queued) = rt.block_on(async { (running.await, queued.await) });
    assert_eq!(
        running.unwrap(),
        "finished",
        "a started closure cannot be stopped"
    );
    assert!(queued.unwrap_err().is_cancelled());
    assert!(!ran.load(Ordering::SeqCst));
}
