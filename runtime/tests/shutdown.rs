//! Shutdown: dropping a runtime drops every unfinished task exactly once,
//! wakers outliving it are harmless, and misuse panics clearly.

mod common;

use common::runtimes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use weft_runtime::{Builder, Runtime};

/// Counts drops of the future that owns it.
struct Count(Arc<AtomicUsize>);

impl Drop for Count {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending forever, leaking its waker to `slot` on each poll.
struct Parked {
    slot: Arc<Mutex<Vec<Waker>>>,
    _count: Count,
}

impl Future for Parked {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.slot.lock().unwrap().push(cx.waker().clone());
        Poll::Pending
    }
}

/// Dropping a runtime with 10k pending tasks (some polled, some never
/// polled) runs each future's destructor exactly once before drop returns,
/// and their JoinHandles report cancellation.
#[test]
fn destructors_shutdown_with_ten_thousand_pending_tasks() {
    const TASKS: usize = 10_000;
    for rt in runtimes() {
        let drops = Arc::new(AtomicUsize::new(0));
        let wakers = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                rt.spawn(Parked {
                    slot: wakers.clone(),
                    _count: Count(drops.clone()),
                })
            })
            .collect();
        // Let some of them be polled (all of them, for the multi-thread flavour, eventually).
        rt.block_on(weft_runtime::yield_now());
        drop(rt);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            TASKS,
            "every future dropped exactly once, before drop returns"
        );
        for handle in handles {
            assert!(handle.is_finished());
            let err = futures_block_on(handle).unwrap_err();
            assert!(err.is_cancelled());
        }
        // Wakers that outlived the runtime: waking and dropping them is harmless.
        let wakers = std::mem::take(&mut *wakers.lock().unwrap());
        let (first, rest) = wakers.split_at(wakers.len() / 2);
        first.iter().for_each(Waker::wake_by_ref);
        let rest = rest.to_vec();
        std::thread::spawn(move || rest.into_iter().for_each(Waker::wake))
            .join()
            .unwrap();
        drop(wakers);
        assert_eq!(drops.load(Ordering::SeqCst), TASKS);
    }
}

/// Wakers held past the runtime's drop, woken from many threads at once,
/// do nothing and free their tasks.
#[test]
fn wakers_outliving_the_runtime_are_harmless_from_other_threads() {
    let wakers = Arc::new(Mutex::new(Vec::new()));
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        for _ in 0..100 {
            let tx = tx.clone();
            let slot = wakers.clone();
            let count = Count(drops.clone());
            rt.spawn(async move {
                let _count = count;
                Parked {
                    slot,
                    _count: Count(Arc::new(AtomicUsize::new(0))),
                }
                .await;
                tx.send(()).unwrap();
            });
        }
        while wakers.lock().unwrap().len() < 100 {
            rt.block_on(weft_runtime::yield_now());
        }
        drop(rx);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 100);
    let wakers = std::mem::take(&mut *wakers.lock().unwrap());
    let threads: Vec<_> = wakers
        .chunks(25)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                for waker in chunk {
                    waker.wake_by_ref();
                    waker.wake();
                }
            })
        })
        .collect();
    threads
        .into_iter()
        .for_each(|thread| thread.join().unwrap());
}

/// Spawning on a handle whose runtime was dropped yields a cancelled task.
#[test]
fn spawn_after_shutdown_is_cancelled() {
    let rt = Builder::new_current_thread().build().unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let task = handle.spawn(async { 1 });
    assert!(task.is_finished());
    assert!(futures_block_on(task).unwrap_err().is_cancelled());
    let blocking = handle.spawn_blocking(|| 1);
    assert!(futures_block_on(blocking).unwrap_err().is_cancelled());
}

/// `shutdown_timeout` returns even while a blocking closure still runs.
#[test]
fn shutdown_timeout_does_not_wait_for_a_stuck_blocking_closure() {
    let rt = Runtime::new().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv();
    });
    started_rx.recv().unwrap();
    rt.shutdown_timeout(std::time::Duration::from_millis(50));
    release_tx.send(()).unwrap();
}

/// `block_on` inside `block_on` panics with a message saying why.
#[test]
#[should_panic(expected = "cannot block_on from a thread that is already driving a runtime")]
fn nested_block_on_panics_with_a_clear_message() {
    let rt = Builder::new_current_thread().build().unwrap();
    let handle = rt.handle().clone();
    rt.block_on(async move { handle.block_on(async {}) });
}

/// `block_on` on a worker thread (inside a task) panics, reported as the
/// task's JoinError, instead of deadlocking.
#[test]
fn block_on_inside_a_worker_panics_instead_of_deadlocking() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let err = rt
        .block_on(rt.spawn(async move { handle.block_on(async {}) }))
        .unwrap_err();
    let payload = err.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or(payload.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(message.contains("already driving a runtime"), "{message}");
}

/// `Handle::current` outside a runtime panics, saying so.
#[test]
#[should_panic(expected = "there is no weft runtime on this thread")]
fn handle_current_outside_a_runtime_panics() {
    let _ = weft_runtime::Handle::current();
}

/// `spawn` outside a runtime panics, saying so.
#[test]
#[should_panic(expected = "called outside a runtime")]
fn spawn_outside_a_runtime_panics() {
    drop(weft_runtime::spawn(async {}));
}

/// Polls a future to completion on this thread without any runtime.
fn futures_block_on<F: Future>(future: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
