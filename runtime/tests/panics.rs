//! Panics in tasks and blocking closures become JoinErrors, and the
//! runtime keeps running; `UnhandledPanic::ShutdownRuntime` stops it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use weft_runtime::{Builder, Runtime, UnhandledPanic};

fn runtimes() -> Vec<Runtime> {
    vec![
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ]
}

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
