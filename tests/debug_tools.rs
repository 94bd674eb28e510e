//! The debugging surface (`Builder::on_slow_poll`, `Handle::dump`, metrics),
//! through the facade:
//! slow-poll reports, task dumps, the unhandled-panic policy, the seeded
//! deterministic mode and the metrics.
//!
//! Each test says what it demonstrates; each runs under the watchdog of
//! `reliability_support::within`, so a hang fails instead of stalling.
//! Slow polls are made by busy-waiting inside a poll (blocking the worker
//! is the behaviour under test); nothing sleeps for ordering.

mod reliability_support;

use reliability_support::{flavours, settle_alive_tasks, within};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft::sync::{Event, Queue};
use weft::{SlowPoll, TaskState, UnhandledPanic};

/// Generous bound for each scenario.
const LIMIT: Duration = Duration::from_secs(20);
/// The slow-poll threshold of these tests: far above any healthy poll,
/// even on a loaded two-core machine.
const SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(150);
/// How long the deliberately slow poll blocks its worker.
const SLOW_POLL_BLOCK: Duration = Duration::from_millis(200);

/// Blocks the calling thread (a worker, inside a poll) for `duration`.
fn block_worker_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

/// A slow poll is reported through `on_slow_poll` with the task's id, the
/// user's spawn line (`#[track_caller]` on `spawn`) and a duration at
/// least the time it blocked; a fast task is not reported. Both flavours.
#[test]
fn slow_poll_report_names_task_id_spawn_site_and_duration() {
    within("slow-poll report", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let reports: Arc<Mutex<Vec<SlowPoll>>> = Arc::default();
            let sink = reports.clone();
            let rt = builder
                .slow_poll_threshold(SLOW_POLL_THRESHOLD)
                .on_slow_poll(move |slow| {
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(slow.clone())
                })
                .build()
                .expect("runtime builds");
            let slow_future = async { block_worker_for(SLOW_POLL_BLOCK) };
            let (slow, spawn_line) = (rt.spawn(slow_future), line!());
            let fast = rt.spawn(async {});
            let (slow_id, fast_id) = (slow.id(), fast.id());
            rt.block_on(async {
                slow.await.expect("the slow task finishes");
                fast.await.expect("the fast task finishes");
            });
            // The report is made after the poll returns, so it may come after the
            // JoinHandle resolved; dropping the runtime waits for its workers.
            drop(rt);
            let reports = reports.lock().unwrap();
            let report = reports
                .iter()
                .find(|report| report.task_id() == slow_id)
                .unwrap_or_else(|| {
                    panic!("{flavour}: the slow poll was not reported: {reports:?}")
                });
            assert_eq!(report.spawned_at().file(), file!(), "{flavour}");
            assert_eq!(report.spawned_at().line(), spawn_line, "{flavour}");
            assert!(
                report.duration() >= SLOW_POLL_BLOCK,
                "{flavour}: {report:?}"
            );
            assert!(report.to_string().contains(&slow_id.to_string()));
            assert!(
                reports.iter().all(|report| report.task_id() != fast_id),
                "{flavour}: a fast poll was reported as slow"
            );
        }
    });
}

/// `weft::spawn` (the free function), `Handle::spawn` and
/// `TaskGroup::spawn` record the user's line, not weft's
/// (`#[track_caller]`). (`spawn_blocking` closures are not in the dump, so
/// their spawn site is not observable.)
#[test]
fn spawn_functions_record_the_callers_line() {
    within("spawn sites", LIMIT, || {
        let rt = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let pending = std::future::pending::<()>;
        let (by_handle, handle_line) = (rt.handle().spawn(pending()), line!());
        let mut group = weft::task::TaskGroup::new();
        let (by_free_fn, free_fn_line, by_group, group_line) = rt.block_on(async {
            let (by_free_fn, free_fn_line) = (weft::spawn(pending()), line!());
            let (by_group, group_line) = (group.spawn(pending()), line!());
            (by_free_fn, free_fn_line, by_group, group_line)
        });
        let dump = rt.handle().dump();
        let sites = [
            (by_handle.id(), handle_line),
            (by_free_fn.id(), free_fn_line),
            (by_group.id(), group_line),
        ];
        for (id, line) in sites {
            let info = dump
                .tasks()
                .iter()
                .find(|task| task.id() == id)
                .expect("the pending task is in the dump");
            assert_eq!(
                (info.spawned_at().file(), info.spawned_at().line()),
                (file!(), line)
            );
        }
    });
}

/// `Handle::dump` lists live tasks with id, spawn site, state, poll count
/// and age: a never-polled task is Scheduled with 0 polls, a task waiting
/// on an Event is Idle with at least one poll, a task dumping itself is
/// Running; finished tasks are gone; `Display` prints one line per task.
#[test]
fn dump_lists_live_tasks_with_state_polls_and_age() {
    within("task dump", LIMIT, || {
        let rt = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let gate = Arc::new(Event::new());
        let waiting = {
            let gate = gate.clone();
            rt.spawn(async move { gate.wait().await })
        };
        let finished = rt.spawn(async {});
        let finished_id = finished.id();
        rt.block_on(async { finished.await.expect("finishes") });
        // Spawned from outside `block_on` on the current-thread runtime: queued, never polled.
        let queued = rt.spawn(async {});
        let dump = rt.handle().dump();
        let find = |id| dump.tasks().iter().find(|task| task.id() == id);
        let idle = find(waiting.id()).expect("the waiting task is live");
        assert_eq!(idle.state(), TaskState::Idle);
        assert!(idle.polls() >= 1);
        assert!(idle.age() > Duration::ZERO);
        let scheduled = find(queued.id()).expect("the queued task is live");
        assert_eq!(
            (scheduled.state(), scheduled.polls()),
            (TaskState::Scheduled, 0)
        );
        assert!(find(finished_id).is_none(), "a finished task is not listed");
        let text = dump.to_string();
        assert_eq!(
            text.lines().count(),
            dump.tasks().len(),
            "one line per task:\n{text}"
        );
        for task in dump.tasks() {
            let line = text
                .lines()
                .find(|line| line.contains(&format!("task {:>6}", task.id())))
                .unwrap_or_else(|| panic!("no line for task {}:\n{text}", task.id()));
            assert!(line.contains(&task.spawned_at().to_string()), "{line}");
        }
        let running = rt.block_on(rt.spawn(async {
            let me = weft::task::id();
            let dump = weft::Handle::current().dump();
            dump.tasks()
                .iter()
                .find(|task| task.id() == me)
                .map(|task| task.state())
        }));
        assert_eq!(running.ok(), Some(Some(TaskState::Running)));
        gate.set();
        rt.block_on(async {
            waiting.await.expect("released");
            queued.await.expect("runs");
        });
        assert!(rt.handle().dump().tasks().is_empty());
    });
}

/// `weft::task::id()` inside a task is the id its `JoinHandle` reports.
#[test]
fn task_id_inside_a_task_matches_its_join_handle() {
    within("task ids", LIMIT, || {
        let rt = weft::Runtime::new().expect("runtime builds");
        let join = rt.spawn(async { weft::task::id() });
        let expected = join.id();
        assert_eq!(rt.block_on(join).ok(), Some(expected));
        assert_eq!(weft::task::try_id(), None);
    });
}

/// Under `UnhandledPanic::ShutdownRuntime` a task's panic makes `block_on`
/// panic with the task's message, on both flavours, and the runtime then
/// drops cleanly.
#[test]
fn shutdown_runtime_policy_makes_block_on_panic_with_the_task_message() {
    within("ShutdownRuntime", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .unhandled_panic(UnhandledPanic::ShutdownRuntime)
                .build()
                .expect("runtime builds");
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async {
                    weft::spawn(async { panic!("fatal task 42") });
                    std::future::pending::<()>().await
                })
            }));
            let payload = caught.expect_err("block_on panics");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            assert!(message.contains("fatal task 42"), "{flavour}: {message:?}");
            drop(rt);
        }
    });
}

/// Under `UnhandledPanic::Ignore` (the default) a task's panic reaches only
/// its `JoinHandle`; `block_on` and the other tasks carry on.
#[test]
fn ignore_policy_keeps_the_runtime_running() {
    within("Ignore", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .unhandled_panic(UnhandledPanic::Ignore)
                .build()
                .expect("runtime builds");
            let (failed, healthy) = rt.block_on(async {
                let failed = weft::spawn(async { panic!("ignored panic") }).await;
                let healthy = weft::spawn(async { 9 }).await;
                (failed, healthy)
            });
            assert!(failed.expect_err("panicked").is_panic(), "{flavour}");
            assert_eq!(healthy.ok(), Some(9), "{flavour}");
        }
    });
}

/// Runs a fixed workload on a fresh current-thread runtime built with
/// `rng_seed(seed)` and the paused clock, and returns the order in which
/// task steps were polled with the (virtual) time of each (labels, not
/// ids: ids differ between runtimes of one process).
fn poll_order_trace(seed: u64) -> Vec<(u32, u32, u64)> {
    const WORKERS: u32 = 16;
    const STEPS: u32 = 8;
    let rt = weft::Builder::new_current_thread()
        .rng_seed(seed)
        .start_paused(true)
        .build()
        .expect("runtime builds");
    let trace: Arc<Mutex<Vec<(u32, u32, u64)>>> = Arc::default();
    rt.block_on(async {
        let start = weft::time::Instant::now();
        let queue = Arc::new(Queue::bounded(4));
        let joins: Vec<_> = (0..WORKERS)
            .map(|label| {
                let (trace, queue) = (trace.clone(), queue.clone());
                weft::spawn(async move {
                    for step in 0..STEPS {
                        let at_ms = start.elapsed().as_millis() as u64;
                        trace.lock().unwrap().push((label, step, at_ms));
                        // Producers and consumers hand items over through a
                        // small queue, so wake order matters, not only spawn order.
                        if label % 2 == 0 {
                            queue.put(label * 100 + step).await.expect("open");
                        } else {
                            queue.get().await.expect("open");
                        }
                        if (label + step) % 3 == 0 {
                            weft::yield_now().await;
                        }
                        // Timers on the paused clock: the runtime jumps the
                        // clock to the next deadline when nothing else runs.
                        if label % 4 == 1 {
                            let millis = u64::from((label * 7 + step * 3) % 11);
                            weft::time::sleep(Duration::from_millis(millis)).await;
                        }
                    }
                })
            })
            .collect();
        for join in joins {
            join.await.expect("the workload finishes");
        }
    });
    let trace = trace.lock().unwrap().clone();
    trace
}

/// Deterministic mode: on the current-thread runtime with the paused
/// clock, the same seed gives the same poll order, run after run.
#[test]
fn same_seed_gives_the_same_poll_order_on_the_current_thread_runtime() {
    within("seeded trace", LIMIT, || {
        let first = poll_order_trace(7);
        assert_eq!(first.len(), 16 * 8);
        assert!(
            first.iter().any(|&(_, _, at_ms)| at_ms > 0),
            "the sleeps moved the paused clock"
        );
        for _ in 0..3 {
            assert_eq!(
                poll_order_trace(7),
                first,
                "the same seed gave another interleaving"
            );
        }
    });
}

/// The metrics snapshot counts what happened: spawned tasks (async and
/// blocking), polls at least one per task, alive tasks back to zero, and
/// one worker per configured thread.
#[test]
fn metrics_count_spawns_polls_and_alive_tasks() {
    within("metrics", LIMIT, || {
        let rt = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime builds");
        let baseline = rt.metrics();
        assert_eq!(baseline.num_workers(), 2);
        let parked = rt.spawn(std::future::pending::<()>());
        rt.block_on(async {
            let joins: Vec<_> = (0..100).map(|_| weft::spawn(weft::yield_now())).collect();
            for join in joins {
                join.await.expect("finishes");
            }
            weft::spawn_blocking(|| ()).await.expect("finishes");
        });
        settle_alive_tasks(rt.handle(), 1);
        let during = rt.metrics();
        assert_eq!(during.spawned_tasks() - baseline.spawned_tasks(), 102);
        assert!(
            during.polls() >= 200,
            "each yielding task is polled twice: {during:?}"
        );
        assert_eq!(during.alive_tasks(), 1, "only the pending task is alive");
        parked.abort();
        let _ = rt.block_on(parked);
        settle_alive_tasks(rt.handle(), 0);
    });
}

/// `yield_now` in the main future of `block_on` lets spawned tasks run on
/// the current-thread runtime (asyncio's `await asyncio.sleep(0)`): a main
/// future that yields until a task has run must not spin forever.
#[test]
fn yield_now_in_block_on_lets_spawned_tasks_run_on_the_current_thread_runtime() {
    use std::sync::atomic::{AtomicBool, Ordering};
    within("yield_now in block_on", Duration::from_secs(10), || {
        let rt = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let yields = rt.block_on(async move {
            weft::spawn(async move { flag.store(true, Ordering::Release) });
            let mut yields = 0u64;
            while !ran.load(Ordering::Acquire) {
                weft::yield_now().await;
                yields += 1;
            }
            yields
        });
        assert!(
            yields <= 1,
            "the spawned task waited {yields} yields of the main future"
        );
    });
}
