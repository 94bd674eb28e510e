//! event: several tasks wait until one of them says "go" (asyncio.Event).
//!
//! Three workers call `event.wait().await` and park; after 100 ms a fourth
//! task calls `event.set()`, which releases all of them at once. A task that
//! waits after `set()` passes straight through, until `clear()`.

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::sync::Event;
use weft::time::sleep;

/// How long the starter waits before setting the event.
const DELAY: Duration = Duration::from_millis(100);

/// Three waiters released by one `set()`.
pub async fn run() -> String {
    let ready = Arc::new(Event::new());
    let started = Instant::now();
    let waiters: Vec<_> = (0..3)
        .map(|id| {
            let ready = Arc::clone(&ready);
            weft::spawn(async move {
                ready.wait().await;
                let at = started.elapsed();
                println!("  waiter {id} released at {:.2} s", at.as_secs_f64());
                at
            })
        })
        .collect();
    let starter = {
        let ready = Arc::clone(&ready);
        weft::spawn(async move {
            sleep(DELAY).await;
            println!("  starter: set()");
            ready.set();
        })
    };
    let released = weft::gather(waiters).await;
    starter.await.expect("the starter does not panic");
    assert!(released
        .iter()
        .all(|at| at.as_ref().is_ok_and(|at| *at >= DELAY)));
    ready.wait().await; // already set: returns at once
    println!(
        "  a wait() after set() returns immediately; is_set = {}",
        ready.is_set()
    );
    format!(
        "3 waiters released together by one set() after {:.1} s",
        DELAY.as_secs_f64()
    )
}
