//! Summary: `Builder`, the runtime's settings, and how `build` assembles
//! drivers, cores, the blocking pool and worker threads.
//!
//! Role: `Runtime::new`, `weft::run` and `#[weft::main]` use it.
//!
//! Design: settings are validated in `build`, which returns an
//! `io::Error` of kind `InvalidInput` naming the bad value, instead of the
//! setters panicking half-way through a chain.
//!
//! Invariants: a built runtime has `num_workers >= 1` and
//! `max_blocking_threads >= 1`.
//!
//! Concurrency: a `Builder` is a plain value; `build` starts the threads.

use crate::blocking::{BlockingPool, PoolConfig, DEFAULT_MAX_BLOCKING_THREADS};
use crate::context;
use crate::debug::{
    contain_panic, default_slow_poll_callback, SlowPoll, SlowPollCallback, SlowPollConfig,
    UnhandledPanic, DEFAULT_SLOW_POLL_THRESHOLD,
};
use crate::driver::DriverLock;
use crate::explore::ExploreRun;
use crate::handle::{Handle, WeakHandle};
use crate::hooks::{TaskHook, TaskHooks};
use crate::local::LocalRuntime;
use crate::poll_clock::PollClock;
use crate::runtime::Runtime;
use crate::scheduler::sleepers::MAX_WORKERS;
use crate::scheduler::{self, Config, Flavor, WorkerLaunch};
use crate::task::TaskMeta;
use std::fmt;
use std::io;
use std::sync::{Arc, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

/// A thread start/stop hook.
type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = weft_runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    start_paused: bool,
    on_thread_start: Option<ThreadHook>,
    on_thread_stop: Option<ThreadHook>,
    slow_poll_threshold: Option<Duration>,
    on_slow_poll: Option<SlowPollCallback>,
    unhandled_panic: UnhandledPanic,
    rng_seed: Option<u64>,
    task_hooks: TaskHooks,
    poll_histograms: bool,
    explore: Option<Arc<ExploreRun>>,
}

impl Builder {
    /// A work-stealing runtime with one worker thread per core.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// A runtime that runs every task on the thread calling `block_on`.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(rt.spawn(async { std::thread::current().id() })).unwrap();
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "weft-worker".to_owned(),
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            thread_keep_alive: crate::blocking::KEEP_ALIVE,
            start_paused: false,
            on_thread_start: None,
            on_thread_stop: None,
            slow_poll_threshold: None,
            on_slow_poll: None,
            unhandled_panic: UnhandledPanic::Ignore,
            rng_seed: None,
            task_hooks: TaskHooks::default(),
            poll_histograms: false,
            explore: None,
        }
    }

    /// Worker threads for the multi-thread flavour (default: one per core;
    /// ignored by the current-thread flavour). `build` rejects 0.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_multi_thread().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.metrics().num_workers(), 3);
    /// assert!(weft_runtime::Builder::new_multi_thread().worker_threads(0).build().is_err());
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// The name of the runtime's threads (default `weft-worker`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.thread_name = name.into();
        self
    }

    /// The most blocking-pool threads alive at once (default 512). `build` rejects 0.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().max_blocking_threads(1).build().unwrap();
    /// let a = rt.spawn_blocking(|| 1);
    /// let b = rt.spawn_blocking(|| 2); // waits for the one thread
    /// assert_eq!(rt.block_on(async { a.await.unwrap() + b.await.unwrap() }), 3);
    /// assert!(rt.metrics().blocking_threads() <= 1);
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for more work before it
    /// exits (10 s by default, as in tokio). A burst of `spawn_blocking`
    /// calls starts threads; this bounds how long they outlive it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = weft_runtime::Builder::new_current_thread()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.spawn_blocking(|| 7)).unwrap(), 7);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// Starts the runtime's clock paused (for tests of timeouts): time moves
    /// only through `weft::time::advance`, or jumps to the next timer when
    /// the runtime has nothing else to do.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = weft_runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// let real = std::time::Instant::now();
    /// rt.block_on(async { weft_timer::sleep(Duration::from_secs(24 * 3600)).await });
    /// assert!(real.elapsed() < Duration::from_secs(60), "a day of sleep took no real time");
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Runs `f` on each runtime thread (worker or blocking) as it starts. A
    /// panic in `f` is reported and contained: the thread runs anyway.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let rt = weft_runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(move || { counter.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// drop(rt);
    /// assert_eq!(started.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each runtime thread as it stops (panics are contained,
    /// as for [`on_thread_start`](Builder::on_thread_start)).
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Reports every poll that takes at least `threshold` (to stderr, or to
    /// [`on_slow_poll`](Builder::on_slow_poll)).
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.slow_poll_threshold = Some(threshold);
        self
    }

    /// Calls `f` for each slow poll instead of printing a line on stderr.
    /// Without `slow_poll_threshold`, the threshold is 100 ms.
    pub fn on_slow_poll(&mut self, f: impl Fn(&SlowPoll) + Send + Sync + 'static) -> &mut Self {
        self.on_slow_poll = Some(Arc::new(f));
        self
    }

    /// What happens when a spawned task panics (default: `Ignore`).
    pub fn unhandled_panic(&mut self, policy: UnhandledPanic) -> &mut Self {
        self.unhandled_panic = policy;
        self
    }

    /// Seeds every random choice the scheduler makes (steal victims), so a
    /// run's choices can be reproduced.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_multi_thread().rng_seed(42).build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn rng_seed(&mut self, seed: u64) -> &mut Self {
        self.rng_seed = Some(seed);
        self
    }

    /// Calls `f` for every task spawned on this runtime (`spawn`,
    /// `task::Builder`, `TaskGroup::spawn`; not `spawn_blocking` closures),
    /// on the spawning thread, before the task can be polled. tokio keeps
    /// this behind `tokio_unstable`.
    ///
    /// Every task hook gets a [`TaskMeta`] (id, name, spawn site). For one
    /// task the hooks run in this order (tokio's): `on_task_spawn`; then a
    /// pair of `on_before_task_poll`/`on_after_task_poll` around each run
    /// of the task by a worker (a poll of its future, or the run that drops
    /// an aborted future); `on_task_terminate` once, inside the pair of the
    /// run that ends the task (or on its own for a task dropped at shutdown
    /// while idle), and always before its `JoinHandle` can return. A hook
    /// that panics is reported (the panic hook prints it) and skipped: the
    /// task, its worker and the runtime go on. Hooks run on runtime
    /// threads, inline: keep them short, as a slow one delays the task.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let (spawned, ended) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    /// let (s, e) = (spawned.clone(), ended.clone());
    /// let rt = weft_runtime::Builder::new_multi_thread()
    ///     .on_task_spawn(move |_| { s.fetch_add(1, Ordering::SeqCst); })
    ///     .on_task_terminate(move |_| { e.fetch_add(1, Ordering::SeqCst); })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     weft_runtime::spawn(async {}).await.unwrap();
    ///     let stuck = weft_runtime::spawn(std::future::pending::<()>());
    ///     stuck.abort();
    ///     let _ = stuck.await;
    /// });
    /// assert_eq!(spawned.load(Ordering::SeqCst), 2);
    /// assert_eq!(ended.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_task_spawn(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.task_hooks.spawn = Some(hook(f));
        self
    }

    /// Calls `f` when a task of this runtime is finished: it returned, it
    /// panicked, it was aborted, or it was dropped at shutdown. Called once
    /// per task, before its `JoinHandle` can return (see
    /// [`on_task_spawn`](Builder::on_task_spawn) for the rules all hooks
    /// follow).
    pub fn on_task_terminate(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.task_hooks.terminate = Some(hook(f));
        self
    }

    /// Calls `f` on the worker just before each run of a task (see
    /// [`on_task_spawn`](Builder::on_task_spawn)).
    pub fn on_before_task_poll(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.task_hooks.before_poll = Some(hook(f));
        self
    }

    /// Calls `f` on the worker just after each run of a task, whatever the
    /// run did (see [`on_task_spawn`](Builder::on_task_spawn)).
    pub fn on_after_task_poll(
        &mut self,
        f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static,
    ) -> &mut Self {
        self.task_hooks.after_poll = Some(hook(f));
        self
    }

    /// Keeps two histograms per worker, read through
    /// [`RuntimeMetrics::poll_time_histogram`](crate::RuntimeMetrics::poll_time_histogram)
    /// (how long each poll took) and
    /// [`RuntimeMetrics::schedule_latency_histogram`](crate::RuntimeMetrics::schedule_latency_histogram)
    /// (how long a woken task waited for a worker). Off by default: it
    /// costs one clock read per poll (plus one per `yield_now` and per wake
    /// from outside the runtime's threads) and a small block per task for
    /// its wake time (from the thread's cache of freed task blocks), which
    /// on a workload of 50 ns polls is most of a poll again; a runtime without it reads no clock for them. The wait
    /// of a task woken by another task's poll is counted from the start of
    /// that poll: an upper bound, long by at most that poll's duration.
    ///
    /// ```
    /// // Current-thread: the poll is recorded before `block_on` returns (on a
    /// // worker, the JoinHandle may complete before the worker records it).
    /// let rt = weft_runtime::Builder::new_current_thread()
    ///     .enable_poll_time_histogram()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { weft_runtime::spawn(async {}).await.unwrap() });
    /// assert_eq!(rt.metrics().poll_time_histogram().unwrap().count(), 1);
    /// ```
    pub fn enable_poll_time_histogram(&mut self) -> &mut Self {
        self.poll_histograms = true;
        self
    }

    /// Puts a current-thread runtime in explore mode: `block_on` draws
    /// every scheduling choice from `explore` (`explore::run` builds these).
    pub(crate) fn explore(&mut self, explore: Arc<ExploreRun>) -> &mut Self {
        self.explore = Some(explore);
        self
    }

    /// Builds the runtime and starts its worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `worker_threads` or `max_blocking_threads` is 0 or
    /// too large; the OS error if the reactor or a thread cannot be started.
    pub fn build(&mut self) -> io::Result<Runtime> {
        self.build_runtime(None)
    }

    /// Builds a [`LocalRuntime`]: a current-thread runtime that can also run
    /// tasks whose futures are not `Send` ([`LocalRuntime::spawn_local`],
    /// [`crate::task::spawn_local`]), on the thread that built it.
    ///
    /// # Errors
    ///
    /// `InvalidInput` on a builder made by [`Builder::new_multi_thread`]
    /// (local tasks never leave one thread; use `new_current_thread`), and
    /// as [`Builder::build`].
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new_current_thread().build_local().unwrap();
    /// let shared = std::rc::Rc::new(5);
    /// let task = rt.spawn_local(async move { *shared + 1 });
    /// assert_eq!(rt.block_on(task).unwrap(), 6);
    /// ```
    pub fn build_local(&mut self) -> io::Result<LocalRuntime> {
        if self.flavor != Flavor::CurrentThread {
            return Err(invalid_input(
                "build_local needs a current-thread builder (Builder::new_current_thread()), \
                 got a multi-thread one: local tasks never leave the thread that runs them"
                    .to_owned(),
            ));
        }
        let runtime = self.build_runtime(Some(std::thread::current().id()))?;
        Ok(LocalRuntime::from_runtime(runtime))
    }

    /// `build`, with the owner thread of a `LocalRuntime` if it is one.
    fn build_runtime(&mut self, local_owner: Option<ThreadId>) -> io::Result<Runtime> {
        let num_workers = self.num_workers()?;
        if self.max_blocking_threads == 0 {
            return Err(invalid_input(
                "max_blocking_threads must be at least 1, got 0".to_owned(),
            ));
        }
        // The reactor's blocking hook and the pool's enter hook reach the
        // runtime through a weak handle set below: the driver and the pool
        // are created before the scheduler.
        let runtime_slot: Arc<OnceLock<WeakHandle>> = Arc::new(OnceLock::new());
        let driver = Arc::new(DriverLock::new(
            self.start_paused,
            num_workers,
            blocking_hook(runtime_slot.clone()),
        )?);
        let blocking = BlockingPool::new(PoolConfig {
            max_threads: self.max_blocking_threads,
            keep_alive: self.thread_keep_alive,
            thread_name: self.thread_name.clone(),
            on_start: self.on_thread_start.clone(),
            on_stop: self.on_thread_stop.clone(),
            enter: enter_hook(runtime_slot.clone()),
        });
        let slow_poll = self.slow_poll_config();
        let hooks = (!self.task_hooks.is_empty()).then(|| Box::new(self.task_hooks.clone()));
        let times_polls = slow_poll.is_some() || self.poll_histograms;
        let config = Config {
            hooked: hooks.is_some(),
            plain_spawns: hooks.is_none() && !self.poll_histograms && self.explore.is_none(),
            instruments_polls: hooks.is_some() || times_polls,
            times_polls,
            slow_poll,
            unhandled_panic: self.unhandled_panic,
            local_owner,
            hooks,
            poll_histograms: self.poll_histograms,
            poll_clock: PollClock::new(times_polls),
            explore: self.explore.clone(),
        };
        let (shared, launches) =
            scheduler::build(self.flavor, num_workers, driver, config, self.rng_seed);
        // The pool is the runtime's, beside the scheduler: the handle holds both.
        let handle = Handle { shared, blocking };
        runtime_slot
            .set(handle.downgrade())
            .unwrap_or_else(|_| unreachable!("set once, here"));
        let mut runtime = Runtime::from_handle(handle);
        for launch in launches {
            let thread = self.start_worker(runtime.handle(), launch)?;
            runtime.add_worker_thread(thread);
        }
        Ok(runtime)
    }

    fn num_workers(&self) -> io::Result<usize> {
        if self.flavor == Flavor::CurrentThread {
            return Ok(1);
        }
        let n = match self.worker_threads {
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        if n == 0 || n > MAX_WORKERS {
            return Err(invalid_input(format!(
                "worker_threads must be between 1 and {MAX_WORKERS}, got {n}"
            )));
        }
        Ok(n)
    }

    fn slow_poll_config(&self) -> Option<SlowPollConfig> {
        if self.slow_poll_threshold.is_none() && self.on_slow_poll.is_none() {
            return None;
        }
        Some(SlowPollConfig {
            threshold: self
                .slow_poll_threshold
                .unwrap_or(DEFAULT_SLOW_POLL_THRESHOLD),
            callback: self
                .on_slow_poll
                .clone()
                .unwrap_or_else(default_slow_poll_callback),
        })
    }

    /// Starts one worker thread running `launch`, with the thread hooks
    /// around it and the runtime entered. If the thread cannot be started,
    /// `launch` is dropped unrun, which counts the worker out.
    fn start_worker(
        &self,
        handle: &Handle,
        launch: WorkerLaunch,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        let handle = handle.clone();
        let on_start = self.on_thread_start.clone();
        let on_stop = self.on_thread_stop.clone();
        std::thread::Builder::new()
            .name(self.thread_name.clone())
            .spawn(move || {
                // Declared first, so dropped last: the worker counts as
                // exited only after its stop hook ran, even on an unwind.
                let mut launch = launch;
                if let Some(on_start) = on_start {
                    contain_panic(|| on_start());
                }
                {
                    let _driving = context::enter_driving();
                    let _enter = handle.enter();
                    launch.run();
                }
                if let Some(on_stop) = on_stop {
                    contain_panic(|| on_stop());
                }
            })
    }
}

/// Boxes a task hook.
fn hook(f: impl Fn(&TaskMeta<'_>) + Send + Sync + 'static) -> TaskHook {
    Arc::new(f)
}

/// The reactor's hook onto the blocking pool. Once the runtime is gone a
/// closure is dropped unrun, which its waiter sees as cancellation.
/// The blocking pool's hook that makes its runtime current on a pool
/// thread. Weak, like `blocking_hook`: the pool is part of the runtime, so
/// a strong reference would keep the runtime alive in a cycle.
fn enter_hook(runtime: Arc<OnceLock<WeakHandle>>) -> crate::blocking::EnterHook {
    Arc::new(move || -> Box<dyn std::any::Any> {
        match runtime.get().and_then(WeakHandle::upgrade) {
            Some(handle) => Box::new(context::enter_owned(handle)),
            None => Box::new(()),
        }
    })
}

fn blocking_hook(runtime: Arc<OnceLock<WeakHandle>>) -> weft_io::BlockingHook {
    Arc::new(move |f: Box<dyn FnOnce() + Send>| {
        if let Some(handle) = runtime.get().and_then(WeakHandle::upgrade) {
            drop(handle.spawn_blocking(f));
        }
    })
}

fn invalid_input(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .field("start_paused", &self.start_paused)
            .field("unhandled_panic", &self.unhandled_panic)
            .field("rng_seed", &self.rng_seed)
            .field("task_hooks", &self.task_hooks)
            .field("poll_histograms", &self.poll_histograms)
            .finish_non_exhaustive()
    }
}

/// `Runtime::new` lives here, beside the `Builder` it uses, so that
/// `runtime.rs` does not depend on this file (the layering of
/// `docs/architecture.md`: every arrow points down).
impl Runtime {
    /// A multi-thread runtime with default settings.
    ///
    /// # Errors
    ///
    /// The OS error if a worker thread cannot be started.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }
}
