//! Task workloads: spawning, joining, yielding, chained spawns, and gather.
//!
//! These measure the scheduler itself: the cost of allocating a task, putting
//! it on a queue, polling it, waking its `JoinHandle`, and freeing it. Each
//! workload is a submodule holding one `sample` function and one body per
//! runtime family, written with the same logic so the bodies can be read side
//! by side. They differ only in the names of each runtime's spawn, join and
//! yield, so they are kept written out rather than made generic: that would
//! need a trait of ours over the three runtimes, hiding the calls compared.

use super::harness::{wall_ms, Metric, Primitives, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "spawn_inside",
            stresses: "task allocation, local run queue push/pop, JoinHandle wake-up",
            metric: Metric::WallMs,
            primitives: SPAWN,
            sample: spawn_inside::sample,
        },
        Workload {
            name: "spawn_outside",
            stresses: "spawning from a non-runtime thread: the global injector and worker wake-ups",
            metric: Metric::WallMs,
            primitives: SPAWN,
            sample: spawn_outside::sample,
        },
        Workload {
            name: "yield_many",
            stresses: "re-scheduling a woken task: yield_now, run queue churn, fairness",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::yield_now",
                tokio: "tokio::task::yield_now",
                smol: "futures_lite::future::yield_now",
            },
            sample: yield_many::sample,
        },
        Workload {
            name: "chain_spawn",
            stresses:
                "latency of spawn -> first poll, one task at a time (LIFO slot, idle wake-ups)",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::spawn + weft::sync::oneshot",
                tokio: "tokio::spawn + tokio::sync::oneshot",
                smol: "Executor::spawn + futures-channel oneshot (smol has none)",
            },
            sample: chain_spawn::sample,
        },
        Workload {
            name: "gather_ready",
            stresses: "polling many ready futures inside one task (no spawning)",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::gather",
                tokio: "futures_util::future::join_all",
                smol: "futures_util::future::join_all",
            },
            sample: gather_ready::sample,
        },
    ]
}

const SPAWN: Primitives = Primitives {
    weft: "weft::spawn",
    tokio: "tokio::spawn",
    smol: "async_executor::Executor::spawn",
};

/// The sum of `0..n`, which the spawn and gather bodies return as a checksum.
fn checksum(n: usize) -> u64 {
    let n = n as u64;
    n * n.saturating_sub(1) / 2
}

/// Spawn N trivial tasks from inside a task, then await every JoinHandle.
pub mod spawn_inside {
    use super::*;

    /// Tasks spawned and joined per sample (the floor section's operations).
    pub fn ops(scale: Scale) -> usize {
        scale.pick(100_000, 20_000)
    }

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let n = ops(scale);
        let (ms, sum) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(n))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(n))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, n))),
        };
        assert_eq!(sum, checksum(n), "spawn_inside lost a task");
        ms
    }

    async fn weft(n: usize) -> u64 {
        let handles: Vec<_> = (0..n)
            .map(|i| weft::spawn(async move { i as u64 }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("spawned task panicked");
        }
        sum
    }

    async fn tokio(n: usize) -> u64 {
        let handles: Vec<_> = (0..n)
            .map(|i| tokio::spawn(async move { i as u64 }))
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("spawned task panicked");
        }
        sum
    }

    async fn smol(ex: Executor, n: usize) -> u64 {
        let handles: Vec<_> = (0..n).map(|i| ex.spawn(async move { i as u64 })).collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await;
        }
        sum
    }
}

/// Spawn N trivial tasks from the main thread (outside the runtime), then
/// block on awaiting every JoinHandle.
mod spawn_outside {
    use super::*;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let n = scale.pick(100_000, 20_000);
        let (ms, sum) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| {
                let handles: Vec<_> = (0..n).map(|i| rt.spawn(async move { i as u64 })).collect();
                rt.block_on(async move {
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await.expect("spawned task panicked");
                    }
                    sum
                })
            }),
            Rt::Tokio(rt) => wall_ms(|| {
                let handles: Vec<_> = (0..n).map(|i| rt.spawn(async move { i as u64 })).collect();
                rt.block_on(async move {
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await.expect("spawned task panicked");
                    }
                    sum
                })
            }),
            Rt::Smol(rt) => wall_ms(|| {
                let ex = rt.executor();
                let handles: Vec<_> = (0..n).map(|i| ex.spawn(async move { i as u64 })).collect();
                rt.block_on(async move {
                    let mut sum = 0;
                    for handle in handles {
                        sum += handle.await;
                    }
                    sum
                })
            }),
        };
        assert_eq!(sum, checksum(n), "spawn_outside lost a task");
        ms
    }
}

/// T tasks, each yielding Y times, joined.
mod yield_many {
    use super::*;

    const YIELDS: usize = 200;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let tasks = scale.pick(1_000, 200);
        let (ms, done) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(tasks))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(tasks))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, tasks))),
        };
        assert_eq!(done, tasks, "yield_many lost a task");
        ms
    }

    async fn weft(tasks: usize) -> usize {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                weft::spawn(async {
                    for _ in 0..YIELDS {
                        weft::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("yielding task panicked");
        }
        tasks
    }

    async fn tokio(tasks: usize) -> usize {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..YIELDS {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("yielding task panicked");
        }
        tasks
    }

    async fn smol(ex: Executor, tasks: usize) -> usize {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                ex.spawn(async {
                    for _ in 0..YIELDS {
                        smol::future::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
        tasks
    }
}

/// Each task spawns the next, N deep; the last one signals a oneshot.
pub mod chain_spawn {
    use super::*;

    /// Links of the chain per sample (the floor section's operations).
    pub fn ops(scale: Scale) -> usize {
        scale.pick(10_000, 2_000)
    }

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let depth = ops(scale);
        let (ms, ()) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(depth))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(depth))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, depth))),
        };
        ms
    }

    async fn weft(depth: usize) {
        fn link(left: usize, done: weft::sync::oneshot::Sender<()>) {
            if left == 0 {
                let _ = done.send(());
            } else {
                drop(weft::spawn(async move { link(left - 1, done) }));
            }
        }
        let (done, finished) = weft::sync::oneshot::channel();
        link(depth, done);
        finished
            .await
            .expect("the chain was dropped before its end");
    }

    async fn tokio(depth: usize) {
        fn link(left: usize, done: tokio::sync::oneshot::Sender<()>) {
            if left == 0 {
                let _ = done.send(());
            } else {
                tokio::spawn(async move { link(left - 1, done) });
            }
        }
        let (done, finished) = tokio::sync::oneshot::channel();
        link(depth, done);
        finished
            .await
            .expect("the chain was dropped before its end");
    }

    async fn smol(ex: Executor, depth: usize) {
        fn link(ex: Executor, left: usize, done: futures_channel::oneshot::Sender<()>) {
            if left == 0 {
                let _ = done.send(());
            } else {
                ex.clone()
                    .spawn(async move { link(ex, left - 1, done) })
                    .detach();
            }
        }
        let (done, finished) = futures_channel::oneshot::channel();
        link(ex, depth, done);
        finished
            .await
            .expect("the chain was dropped before its end");
    }
}

/// Await N ready futures together inside one task.
mod gather_ready {
    use super::*;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let n = scale.pick(100_000, 20_000);
        let (ms, sum) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, gather(n))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, join_all(n))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|_| join_all(n))),
        };
        assert_eq!(sum, checksum(n), "gather_ready lost an output");
        ms
    }

    async fn gather(n: usize) -> u64 {
        let outputs = weft::gather((0..n).map(|i| async move { i as u64 })).await;
        outputs.iter().sum()
    }

    /// tokio and smol have no gather of their own: both use futures-util's.
    async fn join_all(n: usize) -> u64 {
        let outputs = futures_util::future::join_all((0..n).map(|i| async move { i as u64 })).await;
        outputs.iter().sum()
    }
}
