//! The runtimes under test and how each is built for one sample.
//!
//! # Design
//! A [`Flavour`] names a runtime configuration; [`Rt::build`] makes a fresh
//! instance of it for every sample, so no state (warm queues, grown slabs,
//! registered timers) leaks from one sample into the next.
//!
//! Every workload body runs *as a task* on the runtime: `block_on(spawn(body))`.
//! On tokio and weft the future passed to `block_on` runs on the calling
//! thread, not on a worker, and smol has no notion of "inside" at all; running
//! the body as a task gives all three the same starting point (spawns come
//! from a worker thread) and matches what "spawn from inside" means.
//!
//! smol is `async_executor::Executor` driven by [`SMOL_THREADS`] threads, each
//! in `async_io::block_on(executor.run(..))`, which is how `smol`'s own
//! documentation sets up a multi-threaded executor. The calling thread waits in
//! `async_io::block_on` and so may also drive the reactor, as in smol's
//! default setup.

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Worker threads in every multi-thread flavour (the machine has 2 cores).
pub const WORKERS: usize = 2;

/// Threads driving the smol executor (the same as [`WORKERS`]).
pub const SMOL_THREADS: usize = WORKERS;

/// A runtime configuration under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// weft's multi-thread runtime with [`WORKERS`] workers.
    WeftMulti,
    /// weft's current-thread runtime.
    WeftCurrent,
    /// tokio's multi-thread runtime with [`WORKERS`] workers.
    TokioMulti,
    /// tokio's current-thread runtime.
    TokioCurrent,
    /// async-executor driven by [`SMOL_THREADS`] threads.
    Smol,
    /// async-executor driven by the calling thread alone: smol's nearest
    /// thing to a current-thread runtime. Not in the default set (the issue
    /// compares with smol on two threads); ask for it with
    /// `--runtimes weft-ct,smol-1t` to compare like with like.
    SmolOne,
}

impl Flavour {
    /// Every flavour, weft first.
    pub fn all() -> Vec<Flavour> {
        vec![
            Flavour::WeftMulti,
            Flavour::WeftCurrent,
            Flavour::TokioMulti,
            Flavour::TokioCurrent,
            Flavour::Smol,
        ]
    }

    /// Flavours measured only when named with `--runtimes`.
    pub fn extra() -> Vec<Flavour> {
        vec![Flavour::SmolOne]
    }

    /// The label used in the table, the JSON and the `--runtimes` filter.
    pub fn label(self) -> &'static str {
        match self {
            Flavour::WeftMulti => "weft-mt",
            Flavour::WeftCurrent => "weft-ct",
            Flavour::TokioMulti => "tokio-mt",
            Flavour::TokioCurrent => "tokio-ct",
            Flavour::Smol => "smol-2t",
            Flavour::SmolOne => "smol-1t",
        }
    }

    /// `weft`, `tokio` or `smol`.
    pub fn family(self) -> &'static str {
        match self {
            Flavour::WeftMulti | Flavour::WeftCurrent => "weft",
            Flavour::TokioMulti | Flavour::TokioCurrent => "tokio",
            Flavour::Smol | Flavour::SmolOne => "smol",
        }
    }

    /// The flavours a weft flavour's ratios are computed against: the tokio
    /// flavour of the same kind, and smol (and smol on one thread, for the
    /// current-thread flavour, when it was measured).
    pub fn compared_with(self) -> Vec<Flavour> {
        match self {
            Flavour::WeftMulti => vec![Flavour::TokioMulti, Flavour::Smol],
            Flavour::WeftCurrent => vec![Flavour::TokioCurrent, Flavour::Smol, Flavour::SmolOne],
            _ => Vec::new(),
        }
    }
}

/// Set to `1` to build weft's runtimes with
/// `Builder::enable_poll_time_histogram()`, to price the histograms against
/// a run without it (`docs/performance.md`).
const POLL_HISTOGRAM_ENV: &str = "WEFT_BENCH_POLL_HISTOGRAM";

/// Builds a weft runtime, with the poll histograms if the environment asks.
fn build_weft(builder: &mut weft::Builder) -> weft::Runtime {
    if std::env::var(POLL_HISTOGRAM_ENV).is_ok_and(|value| value == "1") {
        builder.enable_poll_time_histogram();
    }
    builder.build().expect("building a weft runtime")
}

/// A freshly built runtime of some flavour.
pub enum Rt {
    /// weft, either flavour.
    Weft(weft::Runtime),
    /// tokio, either flavour.
    Tokio(tokio::runtime::Runtime),
    /// smol's executor and its threads.
    Smol(SmolRt),
}

impl Rt {
    /// Builds a new runtime of `flavour`.
    pub fn build(flavour: Flavour) -> Rt {
        match flavour {
            Flavour::WeftMulti => Rt::Weft(build_weft(
                weft::Builder::new_multi_thread().worker_threads(WORKERS),
            )),
            Flavour::WeftCurrent => Rt::Weft(build_weft(&mut weft::Builder::new_current_thread())),
            Flavour::TokioMulti => Rt::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(WORKERS)
                    .enable_all()
                    .build()
                    .expect("building tokio's multi-thread runtime"),
            ),
            Flavour::TokioCurrent => Rt::Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("building tokio's current-thread runtime"),
            ),
            Flavour::Smol => Rt::Smol(SmolRt::new(SMOL_THREADS)),
            Flavour::SmolOne => Rt::Smol(SmolRt::new(0)),
        }
    }
}

/// Runs `body` as a task on a tokio runtime and waits for its output.
pub fn tokio_run<F>(rt: &tokio::runtime::Runtime, body: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(body))
        .expect("the benchmark body panicked on tokio")
}

/// Runs `body` as a task on a weft runtime and waits for its output.
pub fn weft_run<F>(rt: &weft::Runtime, body: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.block_on(rt.spawn(body))
        .expect("the benchmark body panicked on weft")
}

/// The executor every smol-side task spawns onto.
pub type Executor = Arc<async_executor::Executor<'static>>;

/// An `async_executor::Executor` driven by dedicated threads, or (with no
/// threads) by whichever thread blocks on it.
pub struct SmolRt {
    executor: Executor,
    /// Dropping this sender ends every driving thread's `run`.
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl SmolRt {
    /// Starts `threads` threads that run the executor until the runtime is
    /// dropped; with 0, the executor runs only inside [`SmolRt::block_on`].
    pub fn new(threads: usize) -> SmolRt {
        let executor: Executor = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..threads)
            .map(|index| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                std::thread::Builder::new()
                    .name(format!("smol-{index}"))
                    .spawn(move || {
                        async_io::block_on(executor.run(async {
                            let _ = stopped.recv().await;
                        }))
                    })
                    .expect("spawning a smol executor thread")
            })
            .collect();
        SmolRt {
            executor,
            stop: Some(stop),
            threads,
        }
    }

    /// The executor, for spawning.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// Runs `body(executor)` as a task and waits for its output.
    pub fn run<F, B>(&self, body: B) -> F::Output
    where
        B: FnOnce(Executor) -> F,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.executor.spawn(body(self.executor.clone()));
        self.block_on(task)
    }

    /// Blocks the calling thread on `future`; with no executor threads the
    /// calling thread also runs the executor's tasks meanwhile.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if self.threads.is_empty() {
            async_io::block_on(self.executor.run(future))
        } else {
            async_io::block_on(future)
        }
    }
}

impl Drop for SmolRt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
