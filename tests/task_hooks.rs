//! Task hooks (`Builder::on_task_spawn`, `on_task_terminate`,
//! `on_before_task_poll`, `on_after_task_poll`), through the facade: the
//! order and the counts each task sees when it finishes normally, panics,
//! is aborted after a poll, is aborted before any poll, or is still pending
//! when the runtime is dropped; on both flavours. And a hook that panics
//! neither hangs nor poisons the runtime.
//!
//! Each scenario runs under the watchdog of `reliability_support::within`.

mod reliability_support;

use reliability_support::within;
use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use weft::task::Id;

const LIMIT: Duration = Duration::from_secs(20);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Hook {
    Spawn,
    Before,
    After,
    Terminate,
}

/// Every hook call, in order, with the task it was for.
type Log = Arc<Mutex<Vec<(Id, Option<String>, Hook)>>>;

fn flavours() -> [(&'static str, weft::Builder); 2] {
    let mut multi = weft::Builder::new_multi_thread();
    // One worker: the never-polled scenario occupies it so that the
    // victim cannot be polled before it is aborted.
    multi.worker_threads(1);
    [
        ("current_thread", weft::Builder::new_current_thread()),
        ("multi_thread", multi),
    ]
}

/// Installs the four hooks on `builder`, each appending to the log.
fn with_logging_hooks(builder: &mut weft::Builder) -> Log {
    let log: Log = Arc::default();
    let record = |hook: Hook| {
        let log = log.clone();
        move |meta: &weft::TaskMeta<'_>| {
            let entry = (meta.id(), meta.name().map(str::to_owned), hook);
            log.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
        }
    };
    builder
        .on_task_spawn(record(Hook::Spawn))
        .on_before_task_poll(record(Hook::Before))
        .on_after_task_poll(record(Hook::After))
        .on_task_terminate(record(Hook::Terminate));
    log
}

/// The hooks one task saw, in order.
fn per_task(log: &Log) -> HashMap<Id, Vec<Hook>> {
    let mut tasks: HashMap<Id, Vec<Hook>> = HashMap::new();
    for (id, _, hook) in log.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        tasks.entry(*id).or_default().push(*hook);
    }
    tasks
}

/// `Spawn`, then `runs` pairs of `Before`/`After`, with `Terminate` inside
/// the last pair when the task ends in a run, else after them.
fn assert_life(flavour: &str, what: &str, seen: &[Hook], runs: usize, ends_in_a_run: bool) {
    let mut expected = vec![Hook::Spawn];
    for _ in 0..runs {
        expected.extend([Hook::Before, Hook::After]);
    }
    if ends_in_a_run {
        expected.insert(expected.len() - 1, Hook::Terminate);
    } else {
        expected.push(Hook::Terminate);
    }
    assert_eq!(seen, expected, "{flavour}: {what}");
}

/// Every kind of end a task can have, on both flavours: the hooks come in
/// the documented order, once each per task (spawn and terminate) and once
/// per run (before/after pairs; the run that drops an aborted future counts
/// as one, and the aborted-before-any-poll task's future is never polled),
/// terminate inside the run that ends the task or, for a task dropped at
/// shutdown, after its last run; and terminate runs before the JoinHandle
/// returns (it is in the log when the await returns).
#[test]
fn hooks_see_spawn_polls_and_terminate_in_order_for_every_kind_of_end() {
    within("hook order", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let log = with_logging_hooks(&mut builder);
            let rt = builder.build().expect("runtime builds");
            let check = log.clone();
            let terminated = move |id: Id| {
                check
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .any(|(task, _, hook)| *task == id && *hook == Hook::Terminate)
            };
            let ids = rt.block_on(async {
                // Returns after two polls.
                let normal = weft::spawn(async {
                    weft::yield_now().await;
                    1
                });
                let normal_id = normal.id();
                assert_eq!(normal.await.unwrap(), 1);
                assert!(
                    terminated(normal_id),
                    "{flavour}: terminate before join returns"
                );

                let panicking = weft::spawn(async { panic!("hooked task panics") });
                let panicking_id = panicking.id();
                assert!(panicking.await.unwrap_err().is_panic());
                assert!(terminated(panicking_id));

                // Aborted after exactly one poll: it reports being polled,
                // then waits forever.
                let polled = Arc::new(weft::sync::Event::new());
                let flag = polled.clone();
                let aborted = weft::spawn(async move {
                    flag.set();
                    std::future::pending::<()>().await
                });
                polled.wait().await;
                let aborted_id = aborted.id();
                aborted.abort();
                assert!(aborted.await.unwrap_err().is_cancelled());
                assert!(terminated(aborted_id));

                // Aborted before any poll: the only worker is held by a
                // blocker until the victim is aborted.
                let (release, held) = mpsc::channel::<()>();
                let (started_tx, started) = mpsc::channel::<()>();
                let blocker = weft::spawn(async move {
                    started_tx.send(()).unwrap();
                    held.recv().unwrap();
                });
                if flavour == "multi_thread" {
                    started.recv().unwrap();
                }
                let never = weft::spawn(async { unreachable!("an aborted task is never polled") });
                let never_id = never.id();
                never.abort();
                release.send(()).unwrap();
                assert!(never.await.unwrap_err().is_cancelled());
                blocker.await.unwrap();

                // Still pending at shutdown, after one poll.
                let polled = Arc::new(weft::sync::Event::new());
                let flag = polled.clone();
                let pending = weft::spawn(async move {
                    flag.set();
                    std::future::pending::<()>().await
                });
                polled.wait().await;
                [normal_id, panicking_id, aborted_id, never_id, pending.id()]
            });
            drop(rt);
            let tasks = per_task(&log);
            let [normal, panicking, aborted, never, pending] = ids.map(|id| &tasks[&id]);
            assert_life(flavour, "normal", normal, 2, true);
            assert_life(flavour, "panicking", panicking, 1, true);
            // An abort while the task is idle queues it, and its next run
            // drops the future; an abort that lands during the first run
            // (just after the flag is set) is acted on as that run ends.
            let runs = if aborted.len() == 4 { 1 } else { 2 };
            assert_life(flavour, "aborted after a poll", aborted, runs, true);
            assert_life(flavour, "aborted before any poll", never, 1, true);
            assert_life(flavour, "dropped at shutdown", pending, 1, false);
            // Counts over every task of the run, the blocker included.
            let count = |hook| tasks.values().flatten().filter(|h| **h == hook).count();
            assert_eq!(count(Hook::Spawn), tasks.len(), "{flavour}");
            assert_eq!(count(Hook::Terminate), tasks.len(), "{flavour}");
            assert_eq!(count(Hook::Before), count(Hook::After), "{flavour}");
        }
    });
}

/// A hook sees the task's name, and the id the JoinHandle reports.
#[test]
fn hooks_see_the_task_name_and_id() {
    within("hook meta", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let log = with_logging_hooks(&mut builder);
            let rt = builder.build().expect("runtime builds");
            let id = rt.block_on(async {
                let task = weft::task::Builder::new().name("fetch").spawn(async {});
                let id = task.id();
                task.await.unwrap();
                id
            });
            drop(rt);
            let log = log.lock().unwrap_or_else(|e| e.into_inner());
            let mine: Vec<_> = log.iter().filter(|(task, _, _)| *task == id).collect();
            assert_eq!(mine.len(), 4, "{flavour}: spawn, before, after, terminate");
            assert!(
                mine.iter()
                    .all(|(_, name, _)| name.as_deref() == Some("fetch")),
                "{flavour}: {mine:?}"
            );
        }
    });
}

/// Hooks that panic on every call: tasks still run to completion with
/// their own results, the runtime shuts down, nothing hangs; both
/// flavours.
#[test]
fn panicking_hooks_neither_hang_nor_poison_the_runtime() {
    within("panicking hooks", LIMIT, || {
        // The four hooks panic on every call; keep the output readable.
        std::panic::set_hook(Box::new(|_| {}));
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .on_task_spawn(|_| panic!("spawn hook panics"))
                .on_before_task_poll(|_| panic!("before-poll hook panics"))
                .on_after_task_poll(|_| panic!("after-poll hook panics"))
                .on_task_terminate(|_| panic!("terminate hook panics"))
                .build()
                .expect("runtime builds");
            let total = rt.block_on(async {
                let tasks: Vec<_> = (0..50u64)
                    .map(|n| {
                        weft::spawn(async move {
                            weft::yield_now().await;
                            n
                        })
                    })
                    .collect();
                let mut total = 0;
                for task in tasks {
                    total += task.await.expect("a hook's panic is not the task's");
                }
                total
            });
            assert_eq!(total, (0..50).sum::<u64>(), "{flavour}");
            assert_eq!(rt.metrics().alive_tasks(), 0, "{flavour}");
            rt.spawn(std::future::pending::<()>());
            drop(rt);
        }
        let _ = std::panic::take_hook();
    });
}
