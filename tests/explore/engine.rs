//! Explore mode itself: determinism, what a failure report holds, the
//! choices it makes (timer ties), and the cost of a seed.

use crate::round_trip;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft::explore::{self, Failure, Options, Strategy};

/// Compile-time: the report travels like any error, across threads too.
#[test]
fn failure_is_an_error_and_options_are_send() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    fn is_send_sync<T: Send + Sync + Clone>() {}
    is_error::<Failure>();
    is_send_sync::<Options>();
    is_send_sync::<Strategy>();
}

/// A program with many tasks, sleeps, a lock and a queue.
async fn busy_program() {
    let queue = Arc::new(weft::sync::Queue::bounded(2));
    let total = Arc::new(weft::sync::Lock::new(0u64));
    let producers: Vec<_> = (0..4u64)
        .map(|id| {
            let queue = queue.clone();
            weft::spawn(async move {
                for item in 0..5 {
                    weft::time::sleep(Duration::from_millis(id % 2)).await;
                    queue.put(id * 10 + item).await.unwrap();
                }
            })
        })
        .collect();
    let consumer = {
        let (queue, total) = (queue.clone(), total.clone());
        weft::spawn(async move {
            for _ in 0..20 {
                let item = queue.get().await.unwrap();
                round_trip().await;
                *total.lock().await += item;
            }
        })
    };
    for producer in producers {
        producer.await.unwrap();
    }
    consumer.await.unwrap();
    assert_eq!(
        *total.lock().await,
        (0..4).map(|id| id * 50 + 10).sum::<u64>()
    );
}

/// Every seed, run twice, polls the same tasks in the same order (the check
/// `WEFT_EXPLORE_CHECK=1` turns on for every explore run), under both
/// strategies.
#[test]
fn every_seed_gives_the_same_schedule_twice() {
    for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
        explore::run(
            Options::new().seeds(100).strategy(strategy).check(true),
            busy_program,
        )
        .unwrap_or_else(|failure| panic!("{failure}"));
    }
}

/// A body whose task count changes from one run to the next (state kept
/// across runs) is caught by the check, with a reason saying so.
#[test]
fn the_check_catches_a_body_that_does_not_repeat() {
    let runs = Arc::new(AtomicU64::new(0));
    let failure = explore::run(Options::new().seeds(5).check(true), || {
        let extra_tasks = runs.fetch_add(1, Ordering::SeqCst) % 2;
        async move {
            for _ in 0..=extra_tasks {
                weft::spawn(round_trip()).await.unwrap();
            }
        }
    })
    .expect_err("the second run of seed 0 spawns another task");
    assert_eq!(failure.seed(), 0);
    assert!(
        failure.reason().starts_with("nondeterministic:"),
        "{failure}"
    );
}

/// Different seeds explore different schedules: two sleeps due at the same
/// instant wake in both orders, and the main body is interleaved with them.
#[test]
fn timer_ties_follow_the_seed() {
    let orders = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    explore::run(Options::new().seeds(64), || {
        let orders = orders.clone();
        async move {
            let woke = Arc::new(Mutex::new(Vec::new()));
            let sleepers: Vec<_> = ["a", "b", "c"]
                .into_iter()
                .map(|name| {
                    let woke = woke.clone();
                    weft::spawn(async move {
                        weft::time::sleep(Duration::from_millis(10)).await;
                        woke.lock().unwrap().push(name);
                    })
                })
                .collect();
            for sleeper in sleepers {
                sleeper.await.unwrap();
            }
            orders.lock().unwrap().insert(woke.lock().unwrap().concat());
        }
    })
    .unwrap();
    let orders = orders.lock().unwrap();
    assert_eq!(
        orders.len(),
        6,
        "all six wake orders of three tied timers: {orders:?}"
    );
}

/// A deadlock report names the seed, the strategy, the replay command and
/// every waiting task with its spawn site.
#[test]
fn a_deadlock_report_holds_what_a_ci_log_needs() {
    let failure = explore::run(Options::new().seeds(3).name("engine::stuck"), || async {
        let never = Arc::new(weft::sync::Event::new());
        let waiter = weft::spawn(async move { never.wait().await });
        waiter.await.unwrap();
    })
    .expect_err("nothing sets the event");
    assert_eq!(failure.seed(), 0);
    assert!(failure.reason().starts_with("deadlock:"), "{failure}");
    assert_eq!(
        failure.replay_command(),
        "WEFT_SEED=0 cargo test engine::stuck"
    );
    assert_eq!(failure.dump().tasks().len(), 1);
    assert_eq!(failure.dump().tasks()[0].spawned_at().file(), file!());
    let report = failure.to_string();
    for part in [
        "seed 0",
        "strategy random",
        "deadlock:",
        "replay: WEFT_SEED=0 cargo test engine::stuck",
        "engine.rs",
    ] {
        assert!(report.contains(part), "report lacks {part:?}:\n{report}");
    }
    assert!(
        !report.contains("note:"),
        "no real I/O took part:\n{report}"
    );
}

/// A task's panic fails the run even when nobody awaits the task.
#[test]
fn a_panic_in_a_task_nobody_awaits_fails_the_run() {
    let failure = explore::run(Options::new().seeds(10), || async {
        weft::spawn(async { panic!("background task failed") });
        weft::time::sleep(Duration::from_millis(1)).await;
    })
    .expect_err("the task runs before the sleep ends");
    assert!(failure.reason().starts_with("panic: task "), "{failure}");
    assert!(
        failure
            .reason()
            .ends_with("panicked: background task failed"),
        "{failure}"
    );
}

/// A run that touched a real socket says that its replay may differ.
#[test]
fn a_run_with_real_io_says_it_may_not_replay() {
    let failure = explore::run(Options::new().seeds(1), || async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        drop(listener);
        panic!("failed after using a socket");
    })
    .expect_err("the body panics");
    assert!(
        failure.to_string().contains("note: the run used sockets"),
        "{failure}"
    );
}

/// Task ids count from 1 in every explore run, so a replay shows the ids
/// of the original report.
#[test]
fn task_ids_count_from_one_in_every_run() {
    explore::run(Options::new().seeds(3), || async {
        let first = weft::spawn(async { weft::task::id() });
        let second = weft::spawn(async { weft::task::id() });
        assert_eq!(first.await.unwrap().as_u64(), 1);
        assert_eq!(second.await.unwrap().as_u64(), 2);
    })
    .unwrap();
}

/// Tasks in one seed of the cost test.
const TASKS: u64 = 1000;

/// One seed of a 1,000-task program (each task yields twice, then joins):
/// the target is under 5 ms in an optimised build (0.36 ms measured with
/// the bench profile); the bound here is generous, for debug builds.
#[test]
fn a_seed_of_a_thousand_tasks_is_cheap() {
    let seeds = 5;
    let start = Instant::now();
    explore::run(Options::new().seeds(seeds), || async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                weft::spawn(async {
                    round_trip().await;
                    round_trip().await;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    })
    .unwrap();
    let per_seed = start.elapsed() / seeds as u32;
    eprintln!("one seed of {TASKS} tasks: {per_seed:?}");
    // Memory checkers run code 20 to 50 times slower: no bound there.
    if !crate::is_checker() {
        assert!(per_seed < Duration::from_secs(2), "{per_seed:?} per seed");
    }
}
