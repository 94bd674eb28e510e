//! Timer workloads: many concurrent sleeps, and timeouts that are registered
//! and then cancelled.
//!
//! `sleeps` is dominated by waiting, so it reports the CPU time the process
//! spends (all threads, from `getrusage`) rather than wall time: the question
//! is how much work the timer does per sleep (insert, cascade, fire, wake),
//! and how often the workers wake up for nothing.
//!
//! `timeout_cancel` wraps a future that pends exactly once (a `yield_now`) in
//! a one-second timeout. Every runtime registers a timer on the first poll,
//! not at construction, so the inner future must pend for the timer to be
//! really inserted; it then completes on the second poll and the timeout is
//! dropped, which cancels (removes) the timer. A future that is ready at once
//! would measure nothing but a branch.
//!
//! Each runtime's body is written out, side by side with the others: they
//! differ only in the names of the runtime's spawn, join, sleep and timeout,
//! and one generic body would need a trait of ours over them.

use std::time::Duration;

use super::harness::{cpu_ms, wall_ms, Metric, Primitives, Rng, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "sleeps",
            stresses:
                "timer insert, expiry and wake-up cost; idle worker wake-ups (CPU time, not wall)",
            metric: Metric::CpuMs,
            primitives: Primitives {
                weft: "weft::time::sleep",
                tokio: "tokio::time::sleep",
                smol: "async_io::Timer::after",
            },
            sample: sleeps::sample,
        },
        Workload {
            name: "timeout_cancel",
            stresses:
                "timer insert + cancel when the inner future pends once (registration, removal)",
            metric: Metric::WallMs,
            primitives: Primitives {
                weft: "weft::time::timeout + weft::yield_now",
                tokio: "tokio::time::timeout + tokio::task::yield_now",
                smol: "futures_lite or(async_io::Timer::after) + yield_now",
            },
            sample: timeout_cancel::sample,
        },
    ]
}

/// N tasks each sleep a pseudo-random 1-50 ms (the same sequence on every
/// runtime); the sample is the process CPU time until all have woken.
mod sleeps {
    use super::*;

    const SHORTEST_MS: u64 = 1;
    const LONGEST_MS: u64 = 50;
    /// Fixed so every runtime sleeps the same durations.
    const SEED: u64 = 0x5EED_1234_ABCD;

    fn durations(n: usize) -> Vec<Duration> {
        let mut rng = Rng::new(SEED);
        (0..n)
            .map(|_| Duration::from_millis(rng.between(SHORTEST_MS, LONGEST_MS)))
            .collect()
    }

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let n = scale.pick(100_000, 20_000);
        let durations = durations(n);
        let (ms, woke) = match Rt::build(flavour) {
            Rt::Weft(rt) => cpu_ms(|| weft_run(&rt, weft(durations))),
            Rt::Tokio(rt) => cpu_ms(|| tokio_run(&rt, tokio(durations))),
            Rt::Smol(rt) => cpu_ms(|| rt.run(|ex| smol(ex, durations))),
        };
        assert_eq!(woke, n, "sleeps lost a sleeper");
        ms
    }

    async fn weft(durations: Vec<Duration>) -> usize {
        let handles: Vec<_> = durations
            .into_iter()
            .map(|duration| weft::spawn(weft::time::sleep(duration)))
            .collect();
        let woke = handles.len();
        for handle in handles {
            handle.await.expect("a sleeping task panicked");
        }
        woke
    }

    async fn tokio(durations: Vec<Duration>) -> usize {
        let handles: Vec<_> = durations
            .into_iter()
            .map(|duration| tokio::spawn(tokio::time::sleep(duration)))
            .collect();
        let woke = handles.len();
        for handle in handles {
            handle.await.expect("a sleeping task panicked");
        }
        woke
    }

    async fn smol(ex: Executor, durations: Vec<Duration>) -> usize {
        let handles: Vec<_> = durations
            .into_iter()
            .map(|duration| {
                ex.spawn(async move {
                    async_io::Timer::after(duration).await;
                })
            })
            .collect();
        let woke = handles.len();
        for handle in handles {
            handle.await;
        }
        woke
    }
}

/// T tasks each run N/T `timeout(1 s, yield_now())` one after another.
mod timeout_cancel {
    use super::*;

    /// Long enough never to fire: every timer is cancelled, never expired.
    const LIMIT: Duration = Duration::from_secs(1);
    /// Tasks sharing the work, so both workers register and cancel timers.
    const TASKS: usize = 4;

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let per_task = scale.pick(1_000_000, 100_000) / TASKS;
        let (ms, completed) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(per_task))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(per_task))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, per_task))),
        };
        assert_eq!(completed, TASKS * per_task, "a timeout fired or was lost");
        ms
    }

    async fn weft(per_task: usize) -> usize {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                weft::spawn(async move {
                    let mut completed = 0;
                    for _ in 0..per_task {
                        let inner = weft::yield_now();
                        if weft::time::timeout(LIMIT, inner).await.is_ok() {
                            completed += 1;
                        }
                    }
                    completed
                })
            })
            .collect();
        let mut completed = 0;
        for handle in handles {
            completed += handle.await.expect("a timeout task panicked");
        }
        completed
    }

    async fn tokio(per_task: usize) -> usize {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                tokio::spawn(async move {
                    let mut completed = 0;
                    for _ in 0..per_task {
                        let inner = tokio::task::yield_now();
                        if tokio::time::timeout(LIMIT, inner).await.is_ok() {
                            completed += 1;
                        }
                    }
                    completed
                })
            })
            .collect();
        let mut completed = 0;
        for handle in handles {
            completed += handle.await.expect("a timeout task panicked");
        }
        completed
    }

    async fn smol(ex: Executor, per_task: usize) -> usize {
        use smol::future::FutureExt;
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                ex.spawn(async move {
                    let mut completed = 0;
                    for _ in 0..per_task {
                        let inner = async {
                            smol::future::yield_now().await;
                            true
                        };
                        let limit = async {
                            async_io::Timer::after(LIMIT).await;
                            false
                        };
                        if inner.or(limit).await {
                            completed += 1;
                        }
                    }
                    completed
                })
            })
            .collect();
        let mut completed = 0;
        for handle in handles {
            completed += handle.await;
        }
        completed
    }
}
