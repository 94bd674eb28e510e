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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
        Rt::Weft(rt) => {
            use weft::sync::oneshot::{channel, Sender};
            let mut senders: Vec<Option<Sender<()>>> = (0..tasks).map(|_| None).collect();
            let (all_started, started) = channel::<()>();
            let arrivals = Arrivals::new(tasks, all_started);
            let before = resident_bytes();
            for slot in senders.iter_mut() {
                let (sender, receiver) = channel::<()>();
                *slot = Some(sender);
                let arrivals = arrivals.clone();
                drop(rt.spawn(async move {
                    if let Some(all_started) = arrivals.arrive() {
                        let _ = all_started.send(());
                    }
                    let _ = receiver.await;
                }));
            }
            rt.block_on(started).expect("every task starts");
            resident_bytes().saturating_sub(before)
        }
        Rt::Tokio(rt) => {
            use tokio::sync::oneshot::{channel, Sender};
            let mut senders: Vec<Option<Sender<()>>> = (0..tasks).map(|_| None).collect();
            let (all_started, started) = channel::<()>();
            let arrivals = Arrivals::new(tasks, all_started);
            let before = resident_bytes();
            for slot in senders.iter_mut() {
                let (sender, receiver) = channel::<()>();
                *slot = Some(sender);
                let arrivals = arrivals.clone();
                drop(rt.spawn(async move {
                    if let Some(all_started) = arrivals.arrive() {
                        let _ = all_started.send(());
                    }
                    let _ = receiver.await;
                }));
            }
            rt.block_on(started).expect("every task starts");
            resident_bytes().saturating_sub(before)
        }
        Rt::Smol(rt) => {
            use futures_channel::oneshot::{channel, Sender};
            let mut senders: Vec<Option<Sender<()>>> = (0..tasks).map(|_| None).collect();
            let (all_started, started) = channel::<()>();
            let arrivals = Arrivals::new(tasks, all_started);
            let before = resident_bytes();
            for slot in senders.iter_mut() {
                let (sender, receiver) = channel::<()>();
                *slot = Some(sender);
                let arrivals = arrivals.clone();
                rt.executor()
                    .spawn(async move {
                        if let Some(all_started) = arrivals.arrive() {
                            let _ = all_started.send(());
                        }
                        let _ = receiver.await;
                    })
                    .detach();
            }
            rt.block_on(started).expect("every task starts");
            resident_bytes().saturating_sub(before)
        }
    };
    println!("{}", bytes as f64 / tasks as f64);
}
