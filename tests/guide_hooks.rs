//! The guide's promise about the terminate hook (chapter 8, "Hooks"): by
//! the time a `JoinHandle` hands out its output, the task's terminate hook
//! has run. The hook runs in `Harness::complete` before
//! `transition_to_complete` publishes the output; the chapter's exercise
//! moves it after, and this test catches it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weft::task::Id;

/// A waker that does nothing: the test polls the handle in a loop, so it
/// sees the output the instant it is published, not when a wake arrives.
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn the_terminate_hook_has_run_when_the_join_handle_returns() {
    let terminated: Arc<Mutex<Vec<Id>>> = Arc::default();
    let record = terminated.clone();
    let rt = weft::Builder::new_multi_thread()
        .worker_threads(2)
        .on_task_terminate(move |meta| {
            // Slow, so that a handle able to see the output before the hook
            // ran would see it: the window is the whole sleep.
            std::thread::sleep(Duration::from_millis(20));
            record.lock().unwrap().push(meta.id());
        })
        .build()
        .expect("the runtime builds");
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    for round in 0..5 {
        let mut handle = rt.spawn(async move { round });
        let id = handle.id();
        let output = loop {
            match Pin::new(&mut handle).poll(&mut cx) {
                Poll::Ready(output) => break output.expect("the task finishes"),
                Poll::Pending => std::thread::yield_now(),
            }
        };
        assert_eq!(output, round);
        assert!(
            terminated.lock().unwrap().contains(&id),
            "round {round}: the JoinHandle returned before the task's terminate hook ran"
        );
    }
}
