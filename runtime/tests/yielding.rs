//! `yield_now` yields: every task runnable when it is called runs before
//! the yielder runs again, on both flavours.

use std::sync::{Arc, Mutex};
use weft_runtime::Builder;

/// Where the yielding tasks are spawned from.
#[derive(Clone, Copy)]
enum SpawnedFrom {
    /// The test thread, before `block_on`: the tasks wait in the injector,
    /// where only the yield's turn (CORE-3) lets them in before the
    /// yielder runs again.
    Outside,
    /// The future given to `block_on`: the tasks go to the core's own
    /// deque, in spawn order.
    MainFuture,
}

/// Spawns `tasks` tasks that each log `(task, round)` then yield, `ROUNDS`
/// times, on a current-thread runtime; returns the log.
fn yield_log_current_thread(tasks: usize, from: SpawnedFrom) -> Vec<(usize, usize)> {
    const ROUNDS: usize = 3;
    let rt = Builder::new_current_thread().build().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let spawn_all = || -> Vec<_> {
        (0..tasks)
            .map(|task| {
                let log = log.clone();
                rt.spawn(async move {
                    for round in 0..ROUNDS {
                        log.lock().unwrap().push((task, round));
                        weft_runtime::yield_now().await;
                    }
                })
            })
            .collect()
    };
    let outside = match from {
        SpawnedFrom::Outside => spawn_all(),
        SpawnedFrom::MainFuture => Vec::new(),
    };
    rt.block_on(async {
        let handles = match from {
            SpawnedFrom::Outside => outside,
            SpawnedFrom::MainFuture => spawn_all(),
        };
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let log = log.lock().unwrap().clone();
    log
}

/// The order a strict round-robin gives: round by round, task by task.
fn round_robin(tasks: usize, rounds: usize) -> Vec<(usize, usize)> {
    (0..rounds)
        .flat_map(|round| (0..tasks).map(move |task| (task, round)))
        .collect()
}

/// Spawned from outside the runtime, so they start in the injector.
#[test]
fn two_yielding_tasks_interleave_strictly_on_current_thread() {
    let log = yield_log_current_thread(2, SpawnedFrom::Outside);
    assert_eq!(log, round_robin(2, 3));
}

/// Spawned from outside the runtime, so they start in the injector.
#[test]
fn three_yielding_tasks_interleave_strictly_on_current_thread() {
    let log = yield_log_current_thread(3, SpawnedFrom::Outside);
    assert_eq!(log, round_robin(3, 3));
}

/// Spawned by the main future, so they start on the core's deque.
#[test]
fn yielding_tasks_spawned_by_the_main_future_interleave_strictly() {
    let log = yield_log_current_thread(3, SpawnedFrom::MainFuture);
    assert_eq!(log, round_robin(3, 3));
}

/// On the multi-thread flavour every yielding task keeps running: none is
/// starved by the others' yields, wherever they were spawned.
#[test]
fn every_yielding_task_progresses_on_multi_thread() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    const TASKS: usize = 5;
    const ENOUGH: u64 = 200;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..TASKS).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|task| {
                let (counters, stop) = (counters.clone(), stop.clone());
                weft_runtime::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        counters[task].fetch_add(1, Ordering::Relaxed);
                        weft_runtime::yield_now().await;
                    }
                })
            })
            .collect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while counters.iter().any(|c| c.load(Ordering::Relaxed) < ENOUGH) {
            assert!(
                std::time::Instant::now() < deadline,
                "a yielding task starved: {counters:?}"
            );
            weft_timer::sleep(std::time::Duration::from_millis(1)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

/// A task that only ever yields still lets the drivers run: a timer fires
/// while it loops (the drivers get a turn before the yielder runs again).
#[test]
fn a_yield_loop_lets_a_timer_fire_on_current_thread() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let rt = Builder::new_current_thread().build().unwrap();
    let fired = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let flag = fired.clone();
        let sleeper = weft_runtime::spawn(async move {
            weft_timer::sleep(std::time::Duration::from_millis(1)).await;
            flag.store(true, Ordering::Relaxed);
        });
        let flag = fired.clone();
        let yielder = weft_runtime::spawn(async move {
            let mut yields = 0u64;
            while !flag.load(Ordering::Relaxed) {
                yields += 1;
                assert!(
                    yields < 50_000_000,
                    "the timer never fired while a task yielded"
                );
                weft_runtime::yield_now().await;
            }
        });
        sleeper.await.unwrap();
        yielder.await.unwrap();
    });
    assert!(fired.load(Ordering::Relaxed));
}
