//! Panics in tasks and blocking closures become JoinErrors, and the
//! runtime keeps running; `UnhandledPanic::ShutdownRuntime` stops it.

mod common;

use common::runtimes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use weft_runtime::{Builder, UnhandledPanic};

/// A panicking task yields `is_panic()` with its payload; the worker and
/// the other tasks keep going.
#[test]
fn panic_in_task_becomes_join_error_and_runtime_keeps_running() {
    for rt in runtimes() {
        rt.block_on(async {
            let err = weft_runtime::spawn(async { panic!("task exploded") })
                .await
                .unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"task exploded"));
            // Plenty of tasks still run afterwards, on every worker.
            let ok = Arc::new(AtomicUsize::new(0));
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let ok = ok.clone();
                    weft_runtime::spawn(async move {
                        ok.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
            assert_eq!(ok.load(Ordering::SeqCst), 100);
        });
    }
}

/// A panicking blocking closure yields `is_panic()` too.
#[test]
fn panic_in_blocking_closure_becomes_join_error() {
    for rt in runtimes() {
        rt.block_on(async {
            let err = weft_runtime::spawn_blocking(|| -> u8 { panic!("blocking exploded") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert!(err.to_string().contains("blocking exploded"), "{err}");
            assert_eq!(weft_runtime::spawn_blocking(|| 3).await.unwrap(), 3);
        });
    }
}

/// With `ShutdownRuntime`, a task panic makes `block_on` panic with the
/// task's message (multi-thread).
#[test]
#[should_panic(expected = "task message for shutdown")]
fn unhandled_panic_shutdown_runtime_panics_block_on_multi_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    rt.block_on(async {
        weft_runtime::spawn(async { panic!("task message for shutdown") });
        std::future::pending::<()>().await
    });
}

/// With `ShutdownRuntime`, a task panic makes `block_on` panic with the
/// task's message (current-thread).
#[test]
#[should_panic(expected = "task message for shutdown")]
fn unhandled_panic_shutdown_runtime_panics_block_on_current_thread() {
    let rt = Builder::new_current_thread()
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    rt.block_on(async {
        weft_runtime::spawn(async { panic!("task message for shutdown") });
        std::future::pending::<()>().await
    });
}

/// A panicking destructor of a cancelled future is reported as a panic.
#[test]
fn panic_while_dropping_an_aborted_future_is_reported() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop exploded");
        }
    }
    let rt = Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        let handle = weft_runtime::spawn(async {
            let _bomb = PanicOnDrop;
            std::future::pending::<()>().await
        });
        weft_runtime::yield_now().await;
        handle.abort();
        handle.await.unwrap_err()
    });
    assert!(err.is_panic(), "{err:?}");
}

/// A panicking slow-poll callback does not kill the worker that called it:
/// every task still completes and the runtime drops.
#[test]
fn panicking_slow_poll_callback_is_contained() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .slow_poll_threshold(std::time::Duration::ZERO)
        .on_slow_poll(|_| panic!("the slow-poll callback panics"))
        .build()
        .unwrap();
    let total: u64 = rt.block_on(async {
        let handles: Vec<_> = (0..64u64)
            .map(|i| weft_runtime::spawn(async move { i }))
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..64).sum::<u64>());
}

/// A panicking thread-start hook does not stop the worker from running,
/// nor the runtime from shutting down.
#[test]
fn panicking_thread_start_hook_is_contained() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(|| panic!("the start hook panics"))
        .build()
        .unwrap();
    assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
    drop(rt);
}

/// A waker that panics when the timer driver fires it is contained: the
/// runtime keeps running timers and tasks (both flavours).
#[test]
fn panicking_waker_fired_by_the_timer_driver_is_contained() {
    struct PanickingWaker;
    impl std::task::Wake for PanickingWaker {
        fn wake(self: Arc<Self>) {
            panic!("this waker panics on wake");
        }
    }
    for rt in runtimes() {
        let ok = rt.block_on(async {
            let armed = weft_runtime::spawn(async {
                // 20 ms, not 1: under valgrind a 1 ms sleep could already
                // be due when it is first polled, and never reach the driver.
                let mut sleep = Box::pin(weft_timer::sleep(std::time::Duration::from_millis(20)));
                let waker = std::task::Waker::from(Arc::new(PanickingWaker));
                let polled = std::future::Future::poll(
                    sleep.as_mut(),
                    &mut std::task::Context::from_waker(&waker),
                );
                assert!(polled.is_pending());
                weft_timer::sleep(std::time::Duration::from_millis(60)).await;
            });
            let armed = armed.await;
            weft_timer::sleep(std::time::Duration::from_millis(1)).await;
            armed.is_ok() && weft_runtime::spawn(async { 4 }).await.unwrap() == 4
        });
        assert!(ok);
    }
}

/// The panicking timer and the task's own next timer share a deadline, so
/// the driver fires them in one batch, the panicking one first. The task
/// must still be woken: before the timer contained each wake, the unwind
/// dropped the rest of the batch and the task never ran again (a hang that
/// valgrind's slowdown once produced in the test above, by letting both of
/// its timers come due before one park).
#[test]
fn a_panicking_timer_waker_does_not_cost_its_batch_their_wake() {
    struct PanickingWaker;
    impl std::task::Wake for PanickingWaker {
        fn wake(self: Arc<Self>) {
            panic!("this waker panics on wake");
        }
    }
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for rt in runtimes() {
            let woke = rt.block_on(async {
                weft_runtime::spawn(async {
                    let deadline = weft_timer::Instant::now() + Duration::from_millis(30);
                    let mut armed = Box::pin(weft_timer::sleep_until(deadline));
                    let waker = std::task::Waker::from(Arc::new(PanickingWaker));
                    // Pending unless a heavy slowdown let the deadline pass
                    // already; the task must finish either way.
                    let _ = std::future::Future::poll(
                        armed.as_mut(),
                        &mut std::task::Context::from_waker(&waker),
                    );
                    weft_timer::sleep_until(deadline).await;
                })
                .await
                .is_ok()
            });
            done.send(woke).expect("the test waits for each flavour");
        }
    });
    for flavour in ["multi-thread", "current-thread"] {
        let finished_ok = finished
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{flavour}: the task's timer was never woken"));
        assert!(finished_ok, "{flavour}: the task did not finish cleanly");
    }
}
