//! Task names (`weft::task::Builder::name`) wherever a task is reported:
//! `Handle::dump` (`TaskInfo::name` and its Display), `SlowPoll::name`, the
//! `UnhandledPanic::ShutdownRuntime` message; and the dump that tells the
//! truth: a task whose JoinHandle has returned is never listed (as Idle or
//! otherwise) nor counted in `alive_tasks`, on both flavours.
//!
//! Each scenario runs under the watchdog of `reliability_support::within`.

mod reliability_support;

use reliability_support::{flavours, within};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft::{SlowPoll, UnhandledPanic};

const LIMIT: Duration = Duration::from_secs(30);

/// A named task is listed with its name (and the Display line shows it);
/// an unnamed one has none.
#[test]
fn dump_shows_task_names() {
    within("names in dump", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder.build().expect("runtime builds");
            let named = weft::task::Builder::new()
                .name("ticker")
                .spawn_on(std::future::pending::<()>(), rt.handle());
            let unnamed = rt.spawn(std::future::pending::<()>());
            let dump = rt.handle().dump();
            let find = |id| dump.tasks().iter().find(|task| task.id() == id).unwrap();
            assert_eq!(find(named.id()).name(), Some("ticker"), "{flavour}");
            assert_eq!(find(unnamed.id()).name(), None, "{flavour}");
            let text = dump.to_string();
            let line = text
                .lines()
                .find(|line| line.contains("\"ticker\""))
                .unwrap_or_else(|| panic!("{flavour}: no named line in\n{text}"));
            assert!(line.contains(&named.id().to_string()), "{flavour}: {line}");
        }
    });
}

/// A slow poll of a named task is reported with its name, and the default
/// report line includes it.
#[test]
fn slow_poll_report_names_the_task() {
    within("slow poll name", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let reports: Arc<Mutex<Vec<SlowPoll>>> = Arc::default();
            let sink = reports.clone();
            let rt = builder
                .slow_poll_threshold(Duration::from_millis(20))
                .on_slow_poll(move |slow| sink.lock().unwrap().push(slow.clone()))
                .build()
                .expect("runtime builds");
            rt.block_on(async {
                weft::task::Builder::new()
                    .name("crunch")
                    .spawn(async {
                        let start = Instant::now();
                        while start.elapsed() < Duration::from_millis(40) {
                            std::hint::spin_loop();
                        }
                    })
                    .await
                    .unwrap();
            });
            // The report is made after the poll returns, possibly after the
            // join: dropping the runtime waits for the workers.
            drop(rt);
            let reports = reports.lock().unwrap();
            let report = reports
                .iter()
                .find(|slow| slow.name() == Some("crunch"))
                .unwrap_or_else(|| panic!("{flavour}: {reports:?}"));
            assert!(
                report.to_string().contains("\"crunch\""),
                "{flavour}: {report}"
            );
        }
    });
}

/// Under `ShutdownRuntime`, `block_on` panics with a message naming the
/// task that panicked (and its own message).
#[test]
fn shutdown_runtime_panic_message_names_the_task() {
    within("panic names task", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .unhandled_panic(UnhandledPanic::ShutdownRuntime)
                .build()
                .expect("runtime builds");
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async {
                    weft::task::Builder::new()
                        .name("parser")
                        .spawn(async { panic!("bad header") });
                    std::future::pending::<()>().await
                })
            }));
            let payload = caught.expect_err("block_on panics");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.contains("\"parser\""), "{flavour}: {message}");
            assert!(message.contains("bad header"), "{flavour}: {message}");
        }
    });
}

/// The dump that tells the truth: join a task, then dump, many times over.
/// A task whose JoinHandle returned is never listed (as Idle with its two
/// polls, as it once was) and never counted in `alive_tasks`; both
/// flavours. Each task yields once, so it completes on a later poll than
/// its spawn, on any worker.
#[test]
fn a_joined_task_is_never_listed_nor_counted_alive() {
    within("dump after join", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder.build().expect("runtime builds");
            let handle = rt.handle().clone();
            rt.block_on(async move {
                for round in 0..2_000 {
                    let task = weft::spawn(async {
                        weft::yield_now().await;
                    });
                    let id = task.id();
                    task.await.unwrap();
                    let dump = handle.dump();
                    if let Some(info) = dump.tasks().iter().find(|task| task.id() == id) {
                        panic!("{flavour}, round {round}: joined task still listed: {info:?}");
                    }
                    let alive = handle.metrics().alive_tasks();
                    assert_eq!(alive, 0, "{flavour}, round {round}: {dump}");
                }
            });
        }
    });
}
