//! create_task: start background tasks, keep working, collect the results
//! later (asyncio.create_task), and join a `TaskGroup` in completion order
//! (asyncio.as_completed).
//!
//! `weft::spawn` starts the task at once on the runtime's workers and returns
//! a `JoinHandle`; awaiting the handle gives `Ok(output)` or a `JoinError`.
//! Dropping a handle does *not* cancel the task (it detaches it); dropping a
//! `TaskGroup` does cancel its members.

use std::time::{Duration, Instant};
use weft::task::TaskGroup;
use weft::time::sleep;

/// Unit of simulated work.
const STEP: Duration = Duration::from_millis(100);

async fn background_task(name: &'static str, delay: Duration, started: Instant) -> String {
    println!(
        "  {name} started at {:.2} s",
        started.elapsed().as_secs_f64()
    );
    sleep(delay).await;
    format!("result from {name}")
}

/// Spawns two tasks, works meanwhile, then awaits both; then a TaskGroup.
pub async fn run() -> String {
    let started = Instant::now();
    let task1 = weft::spawn(background_task("task 1", STEP * 2, started));
    let task2 = weft::spawn(background_task("task 2", STEP, started));
    println!("  doing other work while they run");
    sleep(STEP / 2).await;
    let result1 = task1.await.expect("task 1 does not panic");
    let result2 = task2.await.expect("task 2 does not panic");
    println!(
        "  {result1:?} and {result2:?} after {:.2} s (not {:.2} s: they overlapped)",
        started.elapsed().as_secs_f64(),
        (STEP * 3).as_secs_f64()
    );

    let mut group = TaskGroup::new();
    for (name, steps) in [("slow", 3), ("fast", 1), ("medium", 2)] {
        group.spawn(async move {
            sleep(STEP * steps).await;
            name
        });
    }
    let mut order = Vec::new();
    while let Some(result) = group.join_next().await {
        order.push(result.expect("group members do not panic"));
    }
    println!("  TaskGroup spawned slow, fast, medium; they completed as {order:?}");
    format!(
        "2 tasks overlapped; TaskGroup joined them as {}",
        order.join(", ")
    )
}
