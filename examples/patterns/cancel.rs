//! cancel: abort a running task and watch its cleanup run (Task.cancel and
//! the `except CancelledError: cleanup; raise` pattern).
//!
//! Rust has no `CancelledError`: cancelling a task drops its future at the
//! `.await` where it is parked, and dropping runs every destructor in scope.
//! So cleanup goes in a `Drop` guard, which runs on success, on error, on
//! panic *and* on cancellation alike. The awaiting side sees a `JoinError`
//! whose `is_cancelled()` is true.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use weft::time::sleep;

/// Interval between heartbeats of the cancellable worker.
const HEARTBEAT: Duration = Duration::from_millis(30);
/// How long the worker runs before it is cancelled.
const RUN_FOR: Duration = Duration::from_millis(110);

/// Releases a resource when dropped, however the task ended.
struct CleanupGuard {
    released: Arc<AtomicBool>,
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        println!("  cleanup guard: releasing the resource (the task was dropped)");
        self.released.store(true, Ordering::SeqCst);
    }
}

async fn cancellable_worker(released: Arc<AtomicBool>, beats: Arc<AtomicUsize>) {
    let _guard = CleanupGuard { released };
    loop {
        sleep(HEARTBEAT).await; // the task is cancelled at one of these awaits
        beats.fetch_add(1, Ordering::SeqCst);
    }
}

/// Spawns a worker, aborts it, and checks that its guard ran.
pub async fn run() -> String {
    let released = Arc::new(AtomicBool::new(false));
    let beats = Arc::new(AtomicUsize::new(0));
    let worker = weft::spawn(cancellable_worker(
        Arc::clone(&released),
        Arc::clone(&beats),
    ));
    sleep(RUN_FOR).await;
    worker.abort();
    let outcome = worker.await;
    let cancelled = matches!(&outcome, Err(err) if err.is_cancelled());
    let beats = beats.load(Ordering::SeqCst);
    println!("  worker beat {beats} times, then abort(); join result: cancelled = {cancelled}");
    assert!(cancelled, "an aborted task yields a cancelled JoinError");
    assert!(
        released.load(Ordering::SeqCst),
        "the guard runs before the JoinError is delivered"
    );

    // Aborting a task that already finished changes nothing: its output is kept.
    let finished = weft::spawn(async { 7 });
    while !finished.is_finished() {
        weft::yield_now().await;
    }
    finished.abort();
    let kept = finished
        .await
        .expect("a finished task's output survives abort()");
    println!("  abort() after the task finished: its output {kept} is kept");
    format!("aborted after {beats} beats; Drop guard released the resource")
}
