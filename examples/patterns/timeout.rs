//! timeout: give up on an operation that takes too long (asyncio.wait_for,
//! asyncio.timeout), protect a task from that (asyncio.shield), and `race`
//! two sources (asyncio.wait FIRST_COMPLETED).
//!
//! `weft::time::timeout(limit, future)` resolves to `Ok(output)` or
//! `Err(Elapsed)`; on timeout the inner future is dropped, which cancels it,
//! just as wait_for cancels the awaited coroutine. One trap for Python
//! programmers: a `JoinHandle` is only a handle, so a timeout around it
//! drops the handle and *detaches* the task; call `abort()` to cancel the
//! task itself. That same fact is `shield`: time out on `&mut handle`, and
//! the task runs on until you await the handle again.

use std::time::{Duration, Instant};
use weft::time::{sleep, timeout};

/// The time limit applied to each operation.
const LIMIT: Duration = Duration::from_millis(200);

async fn slow_operation(duration: Duration) -> &'static str {
    sleep(duration).await;
    "finished"
}

/// A timeout that elapses, one that does not, a spawned task, and a race.
pub async fn run() -> String {
    let started = Instant::now();
    match timeout(LIMIT, slow_operation(Duration::from_secs(5))).await {
        Ok(result) => println!("  unexpected: {result}"),
        Err(elapsed) => println!(
            "  5 s operation timed out after {:.2} s: {elapsed}",
            started.elapsed().as_secs_f64()
        ),
    }
    let quick = timeout(LIMIT, slow_operation(LIMIT / 4)).await;
    println!("  a 50 ms operation within the limit: {quick:?}");

    // wait_for on a task: abort it on timeout, or it keeps running.
    let task = weft::spawn(slow_operation(Duration::from_secs(5)));
    let abort = task.abort_handle();
    if timeout(LIMIT, task).await.is_err() {
        abort.abort();
        println!("  task timed out and was aborted explicitly (a timeout alone would detach it)");
    }

    // shield: stop waiting, but let the task finish and collect it later.
    let mut shielded = weft::spawn(slow_operation(LIMIT * 2));
    if timeout(LIMIT, &mut shielded).await.is_err() {
        println!(
            "  stopped waiting for a shielded task after {:.1} s; it keeps running",
            LIMIT.as_secs_f64()
        );
    }
    let late = shielded.await.expect("the shielded task does not panic");
    println!("  ... and collected it later: {late:?}");

    let mirrors = [
        Box::pin(slow_operation(LIMIT / 2))
            as std::pin::Pin<Box<dyn std::future::Future<Output = &str> + Send>>,
        Box::pin(async {
            sleep(LIMIT / 4).await;
            "mirror answered first"
        }),
    ];
    let winner = weft::race(mirrors).await;
    println!("  race of two mirrors: {winner:?}; the loser was dropped");
    assert!(quick.is_ok());
    format!(
        "5 s call cut at {:.1} s; race picked the fastest",
        LIMIT.as_secs_f64()
    )
}
