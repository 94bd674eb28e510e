//! Synchronisation workloads: a contended async lock and a semaphore with
//! far more tasks than permits.
//!
//! These measure each primitive's fast path (uncontended acquire/release)
//! and its slow path (queueing a waiter, handing the lock or permit over, and
//! waking the next task in FIFO order).
//!
//! Each runtime's body is written out, side by side with the others: they
//! differ only in the names of the runtime's spawn, join and primitive, and
//! one generic body would need a trait of ours over them.

use std::sync::Arc;

use super::harness::{wall_ms, Metric, Primitives, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "lock_contention",
            stresses: "async mutex fast path and hand-over under contention from 2 workers",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::sync::Lock",
                tokio: "tokio::sync::Mutex",
                smol: "async_lock::Mutex",
            },
            sample: lock_contention::sample,
        },
        Workload {
            name: "semaphore",
            stresses: "semaphore waiter queue: 16 permits held across a yield, 10k waiters",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::sync::Semaphore",
                tokio: "tokio::sync::Semaphore",
                smol: "async_lock::Semaphore",
            },
            sample: semaphore::sample,
        },
    ]
}

/// T tasks each increment a shared counter I times under an async lock.
mod lock_contention {
    use super::*;

    const INCREMENTS: usize = 2_000;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let tasks = scale.pick(256, 64);
        let (ms, total) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(tasks))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(tasks))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, tasks))),
        };
        assert_eq!(
            total,
            tasks * INCREMENTS,
            "lock_contention lost an increment"
        );
        ms
    }

    async fn weft(tasks: usize) -> usize {
        let counter = Arc::new(weft::sync::Lock::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                weft::spawn(async move {
                    for _ in 0..INCREMENTS {
                        *counter.lock().await += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("an incrementing task panicked");
        }
        let total = *counter.lock().await;
        total
    }

    async fn tokio(tasks: usize) -> usize {
        let counter = Arc::new(tokio::sync::Mutex::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    for _ in 0..INCREMENTS {
                        *counter.lock().await += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("an incrementing task panicked");
        }
        let total = *counter.lock().await;
        total
    }

    async fn smol(ex: Executor, tasks: usize) -> usize {
        let counter = Arc::new(async_lock::Mutex::new(0usize));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                ex.spawn(async move {
                    for _ in 0..INCREMENTS {
                        *counter.lock().await += 1;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
        let total = *counter.lock().await;
        total
    }
}

/// T tasks share P permits; each holds its permit across one yield, so the
/// permits are always taken and most tasks queue as waiters.
mod semaphore {
    use super::*;

    const PERMITS: usize = 16;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let tasks = scale.pick(10_000, 2_000);
        let (ms, done) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(tasks))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(tasks))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, tasks))),
        };
        assert_eq!(done, tasks, "semaphore lost a task");
        ms
    }

    async fn weft(tasks: usize) -> usize {
        let permits = Arc::new(weft::sync::Semaphore::new(PERMITS));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let permits = permits.clone();
                weft::spawn(async move {
                    let _permit = permits.acquire().await;
                    weft::yield_now().await;
                })
            })
            .collect();
        let done = handles.len();
        for handle in handles {
            handle.await.expect("a semaphore task panicked");
        }
        done
    }

    async fn tokio(tasks: usize) -> usize {
        let permits = Arc::new(tokio::sync::Semaphore::new(PERMITS));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let permits = permits.clone();
                tokio::spawn(async move {
                    let _permit = permits
                        .acquire()
                        .await
                        .expect("the semaphore is never closed");
                    tokio::task::yield_now().await;
                })
            })
            .collect();
        let done = handles.len();
        for handle in handles {
            handle.await.expect("a semaphore task panicked");
        }
        done
    }

    async fn smol(ex: Executor, tasks: usize) -> usize {
        let permits = Arc::new(async_lock::Semaphore::new(PERMITS));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let permits = permits.clone();
                ex.spawn(async move {
                    let _permit = permits.acquire().await;
                    smol::future::yield_now().await;
                })
            })
            .collect();
        let done = handles.len();
        for handle in handles {
            handle.await;
        }
        done
    }
}
