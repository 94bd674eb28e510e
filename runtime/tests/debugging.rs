//! The debugging surface: task ids, dumps, slow-poll reports, metrics and
//! the seeded random generator.

use std::collections::HashSet;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use weft_runtime::{Builder, TaskState};

/// `task::id()` inside a task equals its JoinHandle's id; ids are unique.
#[test]
fn task_id_inside_a_task_matches_its_handle() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ids = rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|_| weft_runtime::spawn(async { weft_runtime::task::id() }))
            .collect();
        let mut ids = HashSet::new();
        for handle in handles {
            let expected = handle.id();
            let id = handle.await.unwrap();
            assert_eq!(id, expected);
            ids.insert(id);
        }
        assert_eq!(
            weft_runtime::task::try_id(),
            None,
            "block_on's own future is not a task"
        );
        ids
    });
    assert_eq!(ids.len(), 100);
}

/// `task::id()` outside a task panics, saying so.
#[test]
#[should_panic(expected = "called outside a spawned task")]
fn task_id_outside_a_task_panics() {
    let _ = weft_runtime::task::id();
}

/// A dump lists live tasks with their spawn site, state and poll count,
/// and drops them once they finish.
#[test]
fn dump_lists_live_tasks_with_state_and_spawn_site() {
    let rt = Builder::new_current_thread().build().unwrap();
    let idle = rt.spawn(std::future::pending::<()>());
    let line = line!() - 1;
    rt.block_on(weft_runtime::yield_now());
    let scheduled = rt.spawn(async {});
    let dump = rt.handle().dump();
    assert_eq!(dump.tasks().len(), 2);
    let idle_info = dump
        .tasks()
        .iter()
        .find(|task| task.id() == idle.id())
        .unwrap();
    assert_eq!(idle_info.state(), TaskState::Idle);
    assert_eq!(idle_info.polls(), 1);
    assert_eq!(idle_info.spawned_at().line(), line);
    assert!(idle_info.spawned_at().file().ends_with("debugging.rs"));
    let scheduled_info = dump
        .tasks()
        .iter()
        .find(|task| task.id() == scheduled.id())
        .unwrap();
    assert_eq!(scheduled_info.state(), TaskState::Scheduled);
    assert_eq!(scheduled_info.polls(), 0);
    assert!(dump.to_string().lines().count() == 2, "{dump}");
    rt.block_on(scheduled).unwrap();
    assert_eq!(rt.handle().dump().tasks().len(), 1);
}

/// A dump taken from inside the running task shows it as Running.
#[test]
fn dump_shows_the_polling_task_as_running() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let state = rt.block_on(rt.spawn(async move {
        let me = weft_runtime::task::id();
        handle
            .dump()
            .tasks()
            .iter()
            .find(|task| task.id() == me)
            .unwrap()
            .state()
    }));
    assert_eq!(state.unwrap(), TaskState::Running);
}

/// A poll longer than the threshold is reported with the task's id and
/// spawn site, and its message says it blocked a worker; quick polls are
/// not reported.
#[test]
fn slow_poll_is_reported_with_task_id_and_spawn_site() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = reports.clone();
    let rt = Builder::new_current_thread()
        .slow_poll_threshold(Duration::from_millis(20))
        .on_slow_poll(move |slow| {
            sink.lock().unwrap().push((
                slow.task_id(),
                slow.spawned_at().line(),
                slow.duration(),
                slow.to_string(),
            ))
        })
        .build()
        .unwrap();
    let quick = rt.spawn(async {});
    let slow = rt.spawn(async { std::thread::sleep(Duration::from_millis(40)) });
    let slow_line = line!() - 1;
    let slow_id = slow.id();
    rt.block_on(async {
        quick.await.unwrap();
        slow.await.unwrap();
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "only the slow poll is reported");
    assert_eq!(reports[0].0, slow_id);
    assert_eq!(reports[0].1, slow_line);
    assert!(reports[0].2 >= Duration::from_millis(40));
    let message = &reports[0].3;
    assert!(
        message.contains("blocked a worker thread") && message.contains("spawn_blocking"),
        "the default message says the task blocked a worker, and what to do: {message}"
    );
}

/// Metrics count spawns, polls, injections and blocking threads.
#[test]
fn metrics_count_spawns_polls_and_blocking_threads() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handles: Vec<_> = (0..50)
        .map(|_| rt.spawn(async { weft_runtime::yield_now().await }))
        .collect();
    let (tx, rx) = mpsc::channel::<()>();
    let blocker = rt.spawn_blocking(move || rx.recv().ok());
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let metrics = rt.metrics();
    assert_eq!(metrics.num_workers(), 2);
    assert_eq!(metrics.spawned_tasks(), 51);
    assert!(
        metrics.injected() >= 50,
        "spawned from outside: {metrics:?}"
    );
    assert!(
        metrics.polls() >= 100,
        "each task polled twice: {metrics:?}"
    );
    assert_eq!(metrics.blocking_threads(), 1);
    // A task leaves the owned list just after its JoinHandle can see it
    // complete, so the count reaches 0 momentarily, not necessarily yet.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rt.metrics().alive_tasks() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "finished tasks never left the owned list"
        );
        std::thread::yield_now();
    }
    tx.send(()).unwrap();
    rt.block_on(blocker).unwrap();
}

/// Builder rejects nonsense settings with InvalidInput, naming the value.
#[test]
fn builder_rejects_zero_threads_with_invalid_input() {
    let err = Builder::new_multi_thread()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("got 0"), "{err}");
    let err = Builder::new_multi_thread()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// Thread hooks run on every runtime thread, and threads carry the name.
#[test]
fn thread_hooks_and_names_apply_to_runtime_threads() {
    let started = Arc::new(Mutex::new(0));
    let stopped = Arc::new(Mutex::new(0));
    let (on_start, on_stop) = (started.clone(), stopped.clone());
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hooked")
        .on_thread_start(move || *on_start.lock().unwrap() += 1)
        .on_thread_stop(move || *on_stop.lock().unwrap() += 1)
        .build()
        .unwrap();
    let name = rt
        .block_on(rt.spawn(async { std::thread::current().name().map(str::to_owned) }))
        .unwrap();
    assert_eq!(name.as_deref(), Some("hooked"));
    rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    drop(rt);
    assert_eq!(
        *started.lock().unwrap(),
        3,
        "two workers and one blocking thread"
    );
    assert_eq!(*stopped.lock().unwrap(), 3);
}

/// The blocking pool never runs more than `max_blocking_threads` at once.
#[test]
fn blocking_pool_respects_max_threads() {
    let rt = Builder::new_current_thread()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(Mutex::new((0usize, 0usize)));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let running = running.clone();
            rt.spawn_blocking(move || {
                {
                    let mut running = running.lock().unwrap();
                    running.0 += 1;
                    running.1 = running.1.max(running.0);
                }
                std::thread::yield_now();
                running.lock().unwrap().0 -= 1;
            })
        })
        .collect();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert!(running.lock().unwrap().1 <= 2);
    assert!(rt.metrics().blocking_threads() <= 2);
}
