//! Latency workloads: how late a 1 ms ticker runs while the runtime is
//! busy, beside the throughput workloads (issue 14).
//!
//! A ticker task sleeps until each next whole millisecond (deadline k x
//! 1 ms after its start, with the runtime's own sleep) and records how late
//! it woke: `now - deadline`. The sample is one statistic of those
//! latenesses (p50, p99 or max; each statistic is its own workload, so the
//! table and the ratios stay one number per sample), in milliseconds.
//!
//! - `tick_busy_*`: 4 tasks each loop over always-ready acquires of the
//!   runtime's own semaphore (a permit is always free). A runtime with a
//!   cooperative budget makes them yield every so many operations, so the
//!   ticker keeps its pace; without one, a current-thread runtime runs no
//!   timer until they finish.
//! - `tick_chan_p99`: the same with a channel: 4 tasks each send one item
//!   into a channel of their own and receive it back, in a loop (both
//!   operations always ready: the channel holds one item at most and
//!   always has room). weft's `Queue`, tokio's `mpsc`, smol's
//!   `async_channel`. One statistic only (p99, the target's), to keep the
//!   suite short.
//! - `tick_block_*`: one task blocks its worker thread for 200 ms (a
//!   blocking call by mistake). Multi-thread flavours only: the other
//!   worker must keep the timers and the ticker going. On a current-thread
//!   flavour the sample is refused (the one thread is the one blocked).
//!
//! The smol side uses the same shapes; smol has no budget, so its figures
//! show what happens without one. The ticker is one function, [`ticker`],
//! given each runtime's clock and sleep; the loads are written out per
//! runtime, side by side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::harness::{Metric, Primitives, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// Every fairness workload's name starts with this (the latency chart
/// draws them: `charts::write_latencies`).
pub const NAME_PREFIX: &str = "tick_";

/// The ticker's period.
const TICK: Duration = Duration::from_millis(1);
/// Tasks looping over always-ready operations in `tick_busy_*`.
const BUSY_TASKS: usize = 4;
/// How long the blocking task of `tick_block_*` holds its thread.
const BLOCK: Duration = Duration::from_millis(200);
/// Ticks of `tick_block_*`: the block starts after the first tick and the
/// ticker runs past its end.
const BLOCK_TICKS: usize = 300;

/// Which statistic of the latenesses a workload reports.
#[derive(Clone, Copy)]
enum Stat {
    P50,
    P99,
    Max,
}

/// Which load runs beside the ticker.
#[derive(Clone, Copy)]
enum Load {
    /// `BUSY_TASKS` tasks x `ops` always-ready semaphore acquires.
    Busy { ops: usize },
    /// `BUSY_TASKS` tasks x `ops` always-ready sends and receives, each
    /// task on a channel of its own.
    Chan { ops: usize },
    /// One task blocks its thread for `BLOCK`.
    Block,
}

const BUSY_PRIMITIVES: Primitives = Primitives {
    weft: "weft::sync::Semaphore + weft::time::sleep_until",
    tokio: "tokio::sync::Semaphore + tokio::time::sleep_until",
    smol: "async_lock::Semaphore + async_io::Timer::at",
};

const CHAN_PRIMITIVES: Primitives = Primitives {
    weft: "weft::sync::Queue::bounded + weft::time::sleep_until",
    tokio: "tokio::sync::mpsc::channel + tokio::time::sleep_until",
    smol: "async_channel::bounded + async_io::Timer::at",
};

const BLOCK_PRIMITIVES: Primitives = Primitives {
    weft: "std::thread::sleep in a task + weft::time::sleep_until",
    tokio: "std::thread::sleep in a task + tokio::time::sleep_until",
    smol: "std::thread::sleep in a task + async_io::Timer::at",
};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![
        workload(
            "tick_busy_p50",
            "1 ms ticker p50 lateness while 4 tasks loop over always-ready semaphore acquires",
            BUSY_PRIMITIVES,
            |flavour, scale| busy(flavour, scale, Stat::P50),
        ),
        workload(
            "tick_busy_p99",
            "1 ms ticker p99 lateness while 4 tasks loop over always-ready semaphore acquires",
            BUSY_PRIMITIVES,
            |flavour, scale| busy(flavour, scale, Stat::P99),
        ),
        workload(
            "tick_busy_max",
            "1 ms ticker max lateness while 4 tasks loop over always-ready semaphore acquires",
            BUSY_PRIMITIVES,
            |flavour, scale| busy(flavour, scale, Stat::Max),
        ),
        workload(
            "tick_chan_p99",
            "1 ms ticker p99 lateness while 4 tasks loop over always-ready channel sends and receives",
            CHAN_PRIMITIVES,
            |flavour, scale| {
                let ops = scale.pick(500_000, 100_000);
                pick(run(flavour, Load::Chan { ops }), Stat::P99)
            },
        ),
        workload(
            "tick_block_p50",
            "1 ms ticker p50 lateness while a task blocks its worker 200 ms (multi-thread)",
            BLOCK_PRIMITIVES,
            |flavour, _| block(flavour, Stat::P50),
        ),
        workload(
            "tick_block_p99",
            "1 ms ticker p99 lateness while a task blocks its worker 200 ms (multi-thread)",
            BLOCK_PRIMITIVES,
            |flavour, _| block(flavour, Stat::P99),
        ),
        workload(
            "tick_block_max",
            "1 ms ticker max lateness while a task blocks its worker 200 ms (multi-thread)",
            BLOCK_PRIMITIVES,
            |flavour, _| block(flavour, Stat::Max),
        ),
    ]
}

fn workload(
    name: &'static str,
    stresses: &'static str,
    primitives: Primitives,
    sample: fn(Flavour, Scale) -> f64,
) -> Workload {
    Workload {
        name,
        stresses,
        metric: Metric::WallMs,
        primitives,
        sample,
    }
}

fn busy(flavour: Flavour, scale: Scale, stat: Stat) -> f64 {
    let ops = scale.pick(500_000, 100_000);
    pick(run(flavour, Load::Busy { ops }), stat)
}

fn block(flavour: Flavour, stat: Stat) -> f64 {
    assert!(
        !matches!(
            flavour,
            Flavour::WeftCurrent | Flavour::TokioCurrent | Flavour::SmolOne
        ),
        "{}multi-thread only: a current-thread runtime's one thread is the one blocked",
        super::harness::NOT_APPLICABLE
    );
    pick(run(flavour, Load::Block), stat)
}

/// The statistic `stat` of `lateness` (milliseconds).
fn pick(mut lateness: Vec<f64>, stat: Stat) -> f64 {
    assert!(!lateness.is_empty(), "the ticker never ticked");
    lateness.sort_by(f64::total_cmp);
    let last = lateness.len() - 1;
    let index = match stat {
        Stat::P50 => last / 2,
        Stat::P99 => (lateness.len() * 99 / 100).min(last),
        Stat::Max => last,
    };
    lateness[index]
}

/// Runs the ticker beside `load` on a fresh runtime of `flavour`; returns
/// each tick's lateness in milliseconds.
fn run(flavour: Flavour, load: Load) -> Vec<f64> {
    match Rt::build(flavour) {
        Rt::Weft(rt) => weft_run(&rt, weft_side(load)),
        Rt::Tokio(rt) => tokio_run(&rt, tokio_side(load)),
        Rt::Smol(rt) => rt.run(|ex| smol_side(ex, load)),
    }
}

/// Lateness of `now` against `deadline`, in milliseconds.
fn late_ms(now: std::time::Instant, deadline: std::time::Instant) -> f64 {
    now.saturating_duration_since(deadline).as_secs_f64() * 1e3
}

/// True until the load is over: the busy tasks finished, or the ticker
/// made its `BLOCK_TICKS` ticks.
fn keep_ticking(stop: &AtomicBool, ticks: usize, load: Load) -> bool {
    // Relaxed: a stop flag; the ticker checks it once per tick.
    match load {
        Load::Busy { .. } | Load::Chan { .. } => !stop.load(Ordering::Relaxed),
        Load::Block => ticks < BLOCK_TICKS,
    }
}

/// The ticker, the same on every runtime: ticks at each next whole `TICK`
/// after its start with the runtime's own clock and sleep, until
/// [`keep_ticking`] says the load is over, and returns each tick's
/// lateness. `now` and `sleep_until` are the runtime's `Instant::now` and
/// its sleep to a deadline; each runtime's `Instant` converts to a
/// `std::time::Instant`, against which the lateness is measured.
async fn ticker<I, S>(
    stop: Arc<AtomicBool>,
    load: Load,
    now: impl Fn() -> I,
    sleep_until: impl Fn(I) -> S,
) -> Vec<f64>
where
    I: Copy + std::ops::Add<Duration, Output = I> + Into<std::time::Instant>,
    S: std::future::Future,
{
    let start = now();
    let mut lateness = Vec::new();
    while keep_ticking(&stop, lateness.len(), load) {
        let deadline = start + TICK * (lateness.len() as u32 + 1);
        sleep_until(deadline).await;
        lateness.push(late_ms(std::time::Instant::now(), deadline.into()));
    }
    lateness
}

// The three runtimes' sides, written out side by side: the loads have the
// same shape on each, but almost every line names the runtime's own spawn,
// semaphore or channel, and a generic version would need a trait of ours
// over all of them, hiding what each runtime's code calls.

async fn weft_side(load: Load) -> Vec<f64> {
    use weft::time::{sleep_until, Instant};
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = weft::spawn(ticker(stop.clone(), load, Instant::now, sleep_until));
    // Let the ticker register its first sleep before the load starts.
    weft::yield_now().await;
    match load {
        Load::Busy { ops } => {
            let semaphore = Arc::new(weft::sync::Semaphore::new(BUSY_TASKS));
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    weft::spawn(async move {
                        for _ in 0..ops {
                            drop(semaphore.acquire().await);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a busy task panicked");
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Chan { ops } => {
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    weft::spawn(async move {
                        let channel = weft::sync::Queue::bounded(1);
                        for op in 0..ops {
                            channel.put(op).await.expect("the queue is never shut down");
                            channel.get().await.expect("the queue is never shut down");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a busy task panicked");
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Block => {
            weft::spawn(async { std::thread::sleep(BLOCK) });
        }
    }
    ticker.await.expect("the ticker panicked")
}

async fn tokio_side(load: Load) -> Vec<f64> {
    use tokio::time::{sleep_until, Instant};
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn(ticker(stop.clone(), load, Instant::now, sleep_until));
    tokio::task::yield_now().await;
    match load {
        Load::Busy { ops } => {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(BUSY_TASKS));
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    tokio::spawn(async move {
                        for _ in 0..ops {
                            drop(semaphore.acquire().await);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a busy task panicked");
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Chan { ops } => {
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    tokio::spawn(async move {
                        let (sender, mut receiver) = tokio::sync::mpsc::channel(1);
                        for op in 0..ops {
                            sender.send(op).await.expect("the receiver is alive");
                            receiver.recv().await.expect("the sender is alive");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a busy task panicked");
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Block => {
            tokio::spawn(async { std::thread::sleep(BLOCK) });
        }
    }
    ticker.await.expect("the ticker panicked")
}

async fn smol_side(ex: Executor, load: Load) -> Vec<f64> {
    use async_io::Timer;
    use std::time::Instant;
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = ex.spawn(ticker(stop.clone(), load, Instant::now, Timer::at));
    yield_once().await;
    match load {
        Load::Busy { ops } => {
            let semaphore = Arc::new(async_lock::Semaphore::new(BUSY_TASKS));
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    ex.spawn(async move {
                        for _ in 0..ops {
                            drop(semaphore.acquire().await);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Chan { ops } => {
            let tasks: Vec<_> = (0..BUSY_TASKS)
                .map(|_| {
                    ex.spawn(async move {
                        let (sender, receiver) = async_channel::bounded(1);
                        for op in 0..ops {
                            sender.send(op).await.expect("the receiver is alive");
                            receiver.recv().await.expect("the sender is alive");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            stop.store(true, Ordering::Relaxed);
        }
        Load::Block => {
            ex.spawn(async { std::thread::sleep(BLOCK) }).detach();
        }
    }
    ticker.await
}

/// One yield to the executor (smol has no `yield_now` of its own here).
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
