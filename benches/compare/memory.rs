//! Memory workload: resident bytes per idle task.
//!
//! N tasks, spawned from outside the runtime, each wait on their own oneshot
//! whose sender is kept but never used; once every task has been polled once
//! (and so has parked its waker in the oneshot), the growth of the resident set divided by N is the cost of
//! an idle task: the task allocation, its future's state, the oneshot, and
//! whatever the scheduler keeps per task.
//!
//! # Design
//! Each sample runs in a fresh child process (this same binary, re-executed
//! with [`CHILD_FLAG`]). In one long-lived process the allocator keeps pages
//! freed by the previous sample resident, so later samples would grow the
//! RSS by almost nothing and the figure would depend on run order. The slot
//! vector for the senders is filled before the baseline is taken, so its
//! pages are not charged to the tasks.
//!
//! One function, [`idle_tasks_bytes`], measures on every runtime; each
//! runtime's arm in [`child_main`] passes it the three things that differ:
//! its oneshot, how it spawns [`idle_task`], and its `block_on`. The signal
//! that every task has started is a futures-channel oneshot on all three (it
//! is made before the baseline and fired once, so it is no part of the
//! figure).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_channel::oneshot::Canceled;

use super::harness::{resident_bytes, Metric, Primitives, Scale, Workload};
use super::rt::{Flavour, Rt};

/// The command-line flag that makes this binary a memory-measuring child:
/// `--memory-child <runtime label> <tasks>`.
pub const CHILD_FLAG: &str = "--memory-child";

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![Workload {
        name: "idle_task_mem",
        stresses: "memory per parked task: task header, future state, waker registration",
        metric: Metric::BytesPerTask,
        primitives: Primitives {
            weft: "weft::spawn + weft::sync::oneshot",
            tokio: "tokio::spawn + tokio::sync::oneshot",
            smol: "Executor::spawn + futures-channel oneshot (smol has none)",
        },
        sample,
    }]
}

/// Runs one measurement in a child process and returns its bytes per task.
fn sample(flavour: Flavour, scale: Scale) -> f64 {
    let tasks = scale.pick(100_000, 20_000);
    let exe = std::env::current_exe().expect("finding this benchmark's executable");
    let output = std::process::Command::new(exe)
        .args([CHILD_FLAG, flavour.label(), &tasks.to_string()])
        .output()
        .expect("starting the memory-measuring child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the memory child for {} failed: {}\n{}",
        flavour.label(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the memory child printed {stdout:?}, expected a number"))
}

/// Counts tasks as they are first polled; the task that completes the count
/// takes `all_started` and fires it. The measuring thread waits on that
/// instead of spinning on `yield_now`, so no runtime's fairness between its
/// `block_on` future and its tasks is being measured here.
struct Arrivals<S> {
    count: AtomicUsize,
    expected: usize,
    all_started: Mutex<Option<S>>,
}

impl<S> Arrivals<S> {
    fn new(expected: usize, all_started: S) -> Arc<Self> {
        Arc::new(Arrivals {
            count: AtomicUsize::new(0),
            expected,
            all_started: Mutex::new(Some(all_started)),
        })
    }

    /// Records one arrival; returns the signal to fire if it was the last.
    fn arrive(&self) -> Option<S> {
        // AcqRel: the last arrival must see every earlier one's increment.
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_started
                .lock()
                .expect("no arrival panics while holding the signal")
                .take()
        } else {
            None
        }
    }
}

/// The child's entry point: measures `tasks` idle tasks on the flavour named
/// `label` and prints the bytes per task on stdout.
pub fn child_main(label: &str, tasks: &str) {
    // The parent's watchdog ends the parent, not this process: give the
    // child the same deadline so a hung runtime never outlives the suite.
    std::thread::spawn(|| {
        std::thread::sleep(super::harness::WATCHDOG_LIMIT);
        eprintln!(
            "compare: the memory child did not finish within {:?}",
            super::harness::WATCHDOG_LIMIT
        );
        std::process::exit(3);
    });
    let flavour = Flavour::all()
        .into_iter()
        .chain(Flavour::extra())
        .find(|flavour| flavour.label() == label)
        .unwrap_or_else(|| panic!("unknown runtime {label:?} given to {CHILD_FLAG}"));
    let tasks: usize = tasks
        .parse()
        .ok()
        .filter(|tasks| *tasks > 0)
        .unwrap_or_else(|| panic!("{CHILD_FLAG} expects a positive task count, got {tasks:?}"));
    let bytes = match Rt::build(flavour) {
        Rt::Weft(rt) => idle_tasks_bytes(
            tasks,
            weft::sync::oneshot::channel::<()>,
            |arrivals, receiver| drop(rt.spawn(idle_task(arrivals, receiver))),
            |started| rt.block_on(started),
        ),
        Rt::Tokio(rt) => idle_tasks_bytes(
            tasks,
            tokio::sync::oneshot::channel::<()>,
            |arrivals, receiver| drop(rt.spawn(idle_task(arrivals, receiver))),
            |started| rt.block_on(started),
        ),
        Rt::Smol(rt) => idle_tasks_bytes(
            tasks,
            futures_channel::oneshot::channel::<()>,
            |arrivals, receiver| {
                rt.executor().spawn(idle_task(arrivals, receiver)).detach();
            },
            |started| rt.block_on(started),
        ),
    };
    println!("{}", bytes as f64 / tasks as f64);
}

/// The signal the last task to start fires.
type AllStarted = futures_channel::oneshot::Sender<()>;

/// Spawns `tasks` idle tasks, each waiting on a oneshot of its own from
/// `channel` (the runtime's) whose sender is kept, and returns the growth
/// of the resident set once every task has started. `spawn` spawns
/// [`idle_task`] on the runtime; `block_on` blocks on the runtime until the
/// signal that every task has started.
fn idle_tasks_bytes<S, R>(
    tasks: usize,
    channel: impl Fn() -> (S, R),
    spawn: impl Fn(Arc<Arrivals<AllStarted>>, R),
    block_on: impl FnOnce(futures_channel::oneshot::Receiver<()>) -> Result<(), Canceled>,
) -> u64 {
    let mut senders: Vec<Option<S>> = (0..tasks).map(|_| None).collect();
    let (all_started, started) = futures_channel::oneshot::channel::<()>();
    let arrivals = Arrivals::new(tasks, all_started);
    let before = resident_bytes();
    for slot in senders.iter_mut() {
        let (sender, receiver) = channel();
        *slot = Some(sender);
        spawn(arrivals.clone(), receiver);
    }
    block_on(started).expect("every task starts");
    resident_bytes().saturating_sub(before)
}

/// One idle task: it counts itself in `arrivals`, firing the signal if it
/// is the last, then waits on `receiver`, whose sender is never used.
///
/// A function returning an async block, not an `async fn`: an `async fn`'s
/// future keeps its arguments twice over (rustc's layout), so it is larger
/// (104 bytes against 96 for a 40-byte receiver, in a standalone test), and
/// the task's size is part of what this workload measures.
#[allow(clippy::manual_async_fn)]
fn idle_task<R>(
    arrivals: Arc<Arrivals<AllStarted>>,
    receiver: R,
) -> impl Future<Output = ()> + Send + 'static
where
    R: Future + Send + 'static,
{
    async move {
        if let Some(all_started) = arrivals.arrive() {
            let _ = all_started.send(());
        }
        let _ = receiver.await;
    }
}
