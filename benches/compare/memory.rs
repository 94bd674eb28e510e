//! Memory workload: resident bytes per idle task.
//!
//! N tasks each wait on their own oneshot whose sender is kept but never
//! used; once every task has been polled once (and so has parked its waker in
//! the oneshot), the growth of the resident set divided by N is the cost of
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
use std::sync::Arc;

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

/// The child's entry point: measures `tasks` idle tasks on the flavour named
/// `label` and prints the bytes per task on stdout.
pub fn child_main(label: &str, tasks: &str) {
    let flavour = Flavour::all()
        .into_iter()
        .find(|flavour| flavour.label() == label)
        .unwrap_or_else(|| panic!("unknown runtime {label:?} given to {CHILD_FLAG}"));
    let tasks: usize = tasks
        .parse()
        .unwrap_or_else(|_| panic!("{CHILD_FLAG} expects a task count, got {tasks:?}"));
    let started = Arc::new(AtomicUsize::new(0));
    let bytes = match Rt::build(flavour) {
        Rt::Tokio(rt) => {
            let mut senders: Vec<Option<tokio::sync::oneshot::Sender<()>>> =
                (0..tasks).map(|_| None).collect();
            let before = resident_bytes();
            rt.block_on(async {
                for slot in senders.iter_mut() {
                    let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
                    *slot = Some(sender);
                    let started = started.clone();
                    drop(tokio::spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        let _ = receiver.await;
                    }));
                }
                while started.load(Ordering::Relaxed) < tasks {
                    tokio::task::yield_now().await;
                }
            });
            resident_bytes().saturating_sub(before)
        }
        Rt::Smol(rt) => {
            let mut senders: Vec<Option<futures_channel::oneshot::Sender<()>>> =
                (0..tasks).map(|_| None).collect();
            let before = resident_bytes();
            for slot in senders.iter_mut() {
                let (sender, receiver) = futures_channel::oneshot::channel::<()>();
                *slot = Some(sender);
                let started = started.clone();
                rt.executor()
                    .spawn(async move {
                        started.fetch_add(1, Ordering::Relaxed);
                        let _ = receiver.await;
                    })
                    .detach();
            }
            async_io::block_on(async {
                while started.load(Ordering::Relaxed) < tasks {
                    smol::future::yield_now().await;
                }
            });
            resident_bytes().saturating_sub(before)
        }
    };
    println!("{}", bytes as f64 / tasks as f64);
}
