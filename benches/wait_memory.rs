//! Memory per parked task, for each kind of wait: weft against smol's and
//! tokio's nearest equivalent, side by side in one run.
//!
//! ```text
//! cargo bench --bench wait_memory                    # 100k tasks per kind (9k for TCP), 3 runs
//! cargo bench --bench wait_memory -- --runs 5 --tasks 50000 --tcp-tasks 5000
//! ```
//!
//! Each figure is the growth of the resident set (RSS) while N tasks are
//! spawned and each parks on its wait, divided by N: the task block, the
//! future's state, the primitive's per-waiter record and whatever the
//! runtime keeps per task. Every runtime runs on the current thread (weft
//! and tokio current-thread, smol's `Executor` under `async_io::block_on`).
//! Beside each row, the `size_of_val` of the future each task runs (the
//! wait's future inside the bench's wrapper, which adds the same arrival
//! counter in every runtime): the part of the task block the wait decides.
//!
//! | wait | weft | smol | tokio |
//! |---|---|---|---|
//! | event | `Event::wait` (one shared) | `event_listener::Event::listen` | `Notify::notified` |
//! | semaphore | `Semaphore::acquire` (one shared, 0 permits) | `async_lock::Semaphore::acquire` | `Semaphore::acquire` |
//! | lock | `Lock::lock` (one shared, held) | `async_lock::Mutex::lock` | `Mutex::lock` |
//! | queue | `Queue::get` (one shared, empty) | `async_channel::Receiver::recv` (one shared) | `mpsc::UnboundedReceiver::recv` (one per task: tokio's receivers cannot be shared) |
//! | oneshot | `oneshot` receive (one per task) | `futures_channel::oneshot` (smol has none) | `oneshot` receive |
//! | sleep | `sleep(1 h)` | `async_io::Timer::after(1 h)` | `sleep(1 h)` |
//! | tcp read | `TcpStream::read` | `Async<TcpStream>` read | `TcpStream::read` |
//!
//! # Design
//!
//! Every (kind, runtime) sample runs in a fresh child process (this binary
//! with `--child`): in one process the allocator keeps the pages the last
//! sample freed, and later samples would grow by nothing. What is not the
//! wait's cost is made before the baseline: the runtime, the shared
//! primitive, the slot vectors, and for TCP the connected std sockets (their
//! kernel buffers are not in the RSS). Per-task channels are made after it,
//! so a oneshot or a tokio mpsc channel is charged to its task. The last
//! task to be polled fires a signal the measuring thread waits on, so the
//! figure is taken with every task parked.
//!
//! One function, [`measure`], does all of this for every runtime; what it
//! asks of a runtime (spawn a task, block on a future) is the two-method
//! [`Spawner`] trait, one line per runtime. [`child`] lists each kind's three
//! waits together, as in the table above, each on its runtime ([`on_weft`],
//! [`on_smol`], [`on_tokio`] build it) and through one of three helpers that
//! give each task its wait: a clone of a shared primitive
//! ([`measure_shared`]), a channel of its own ([`measure_own_channel`]) or a
//! socket of its own ([`measure_tcp_read`]).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tasks per sample unless `--tasks N` is given.
const DEFAULT_TASKS: usize = 100_000;
/// Tasks for the TCP kind unless `--tcp-tasks N` is given: two descriptors
/// per task, under the usual 20k descriptor limit.
const DEFAULT_TCP_TASKS: usize = 9_000;
/// Runs per (kind, runtime) unless `--runs N` is given; the median is shown.
const DEFAULT_RUNS: usize = 3;
/// A sleep that never ends during a sample.
const LONG: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Event,
    Semaphore,
    Lock,
    Queue,
    Oneshot,
    Sleep,
    TcpRead,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Event,
        Kind::Semaphore,
        Kind::Lock,
        Kind::Queue,
        Kind::Oneshot,
        Kind::Sleep,
        Kind::TcpRead,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Semaphore => "semaphore",
            Kind::Lock => "lock",
            Kind::Queue => "queue",
            Kind::Oneshot => "oneshot",
            Kind::Sleep => "sleep",
            Kind::TcpRead => "tcp read",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runtime {
    Weft,
    Smol,
    Tokio,
}

impl Runtime {
    const ALL: [Runtime; 3] = [Runtime::Weft, Runtime::Smol, Runtime::Tokio];

    fn name(self) -> &'static str {
        match self {
            Runtime::Weft => "weft",
            Runtime::Smol => "smol",
            Runtime::Tokio => "tokio",
        }
    }
}

/// The resident set of this process, in bytes (Linux `/proc/self/statm`).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("reading /proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    // SAFETY: `sysconf` reads a configuration value and takes no pointers.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page_size).expect("a positive page size")
}

/// Counts tasks as they are first polled; the last takes the signal.
struct Arrivals<S> {
    count: AtomicUsize,
    expected: usize,
    all_parked: Mutex<Option<S>>,
}

impl<S> Arrivals<S> {
    fn new(expected: usize, all_parked: S) -> Arc<Self> {
        Arc::new(Arrivals {
            count: AtomicUsize::new(0),
            expected,
            all_parked: Mutex::new(Some(all_parked)),
        })
    }

    /// Records one arrival; returns the signal if it was the last.
    fn arrive(&self) -> Option<S> {
        // AcqRel: the last arrival must see every earlier increment.
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_parked.lock().expect("no poisoning").take()
        } else {
            None
        }
    }
}

/// `n` connected loopback TCP pairs, made before the baseline: (the end a
/// task reads from, the end kept silent).
fn tcp_pairs(n: usize) -> Vec<(std::net::TcpStream, std::net::TcpStream)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("listener address");
    (0..n)
        .map(|_| {
            let client = std::net::TcpStream::connect(address).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            server.set_nonblocking(true).expect("nonblocking");
            (server, client)
        })
        .collect()
}

/// What [`measure`] asks of a runtime: spawn a task nobody joins, and block
/// this thread on a future while the runtime runs its tasks (all three run
/// on this thread). These two methods are the only per-runtime code of a
/// sample, one line each in the three impls below.
trait Spawner {
    fn spawn_detached<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static;

    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

impl Spawner for weft::Runtime {
    fn spawn_detached<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.spawn(task));
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        weft::Runtime::block_on(self, future)
    }
}

impl Spawner for tokio::runtime::Runtime {
    fn spawn_detached<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.spawn(task));
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Runtime::block_on(self, future)
    }
}

/// smol's executor, run by `async_io::block_on` on this thread.
impl Spawner for async_executor::Executor<'static> {
    fn spawn_detached<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn(task).detach();
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_io::block_on(self.run(future))
    }
}

/// Spawns `n` tasks on `rt`, each arriving and then awaiting `wait(i)`,
/// waits until the last has arrived (so every task is parked), and returns
/// the RSS growth per task. The signal is a futures-channel oneshot on every
/// runtime: it is made before the baseline and fired once, so it is no part
/// of the figure.
fn measure<R, F>(rt: &R, n: usize, mut wait: impl FnMut(usize) -> F) -> Sample
where
    R: Spawner,
    F: Future + Send + 'static,
{
    let (all_parked, parked) = futures_channel::oneshot::channel::<()>();
    let arrivals = Arrivals::new(n, all_parked);
    let mut future_bytes = 0;
    let before = resident_bytes();
    for i in 0..n {
        let arrivals = arrivals.clone();
        let wait = wait(i);
        let task = async move {
            if let Some(signal) = arrivals.arrive() {
                let _ = signal.send(());
            }
            wait.await;
        };
        future_bytes = std::mem::size_of_val(&task);
        rt.spawn_detached(task);
    }
    rt.block_on(parked).expect("every task parks");
    let grown = resident_bytes().saturating_sub(before);
    Sample {
        per_task: grown as f64 / n as f64,
        future_bytes,
    }
}

/// What one child measures.
struct Sample {
    /// RSS growth per parked task, in bytes.
    per_task: f64,
    /// `size_of_val` of the future each task runs (the bench's wrapper with
    /// its arrival counter, around the wait): the part of the task block
    /// that the wait's future decides.
    future_bytes: usize,
}

// The three ways a task gets its wait, the same for every runtime: each
// entry of [`child`] passes its runtime's primitive to one of them (or its
// sleep straight to `measure`).

/// [`measure`]s tasks that each wait on their own clone of one `primitive`
/// (an `Arc`, or a handle that is one), made before the baseline.
fn measure_shared<R, T, F>(rt: &R, n: usize, primitive: T, wait: impl Fn(T) -> F) -> Sample
where
    R: Spawner,
    T: Clone,
    F: Future + Send + 'static,
{
    measure(rt, n, |_| wait(primitive.clone()))
}

/// [`measure`]s tasks that each wait on a channel of their own from
/// `channel`, made after the baseline so that it is charged to its task.
/// The senders are kept (in slots allocated before the baseline), so no
/// wait ends.
fn measure_own_channel<R, S, C, F>(
    rt: &R,
    n: usize,
    channel: impl Fn() -> (S, C),
    wait: impl Fn(C) -> F,
) -> Sample
where
    R: Spawner,
    F: Future + Send + 'static,
{
    let mut senders: Vec<Option<S>> = (0..n).map(|_| None).collect();
    measure(rt, n, |i| {
        let (sender, receiver) = channel();
        senders[i] = Some(sender);
        wait(receiver)
    })
}

/// The wait on a oneshot of the task's own: the same on every runtime.
#[allow(clippy::manual_async_fn)] // a plain `async fn` makes a larger future
fn receive<C: Future>(receiver: C) -> impl Future<Output = ()> {
    async move {
        let _ = receiver.await;
    }
}

/// [`measure`]s tasks that each `read` from the server end of a loopback
/// pair of their own (the pairs, and the vector keeping the client ends
/// silent, are made before the baseline); no byte ever comes.
fn measure_tcp_read<R, F>(rt: &R, n: usize, read: impl Fn(std::net::TcpStream) -> F) -> Sample
where
    R: Spawner,
    F: Future + Send + 'static,
{
    let mut pairs = tcp_pairs(n).into_iter();
    let mut silent = Vec::with_capacity(n);
    measure(rt, n, |_| {
        let (server, client) = pairs.next().expect("one pair per task");
        silent.push(client);
        read(server)
    })
}

/// Runs `sample` on a fresh weft current-thread runtime, then leaks the
/// runtime: its drop would cancel 100k tasks, and the process ends anyway.
fn on_weft(sample: impl FnOnce(&weft::Runtime) -> Sample) -> Sample {
    let rt = weft::Builder::new_current_thread()
        .build()
        .expect("weft runtime");
    let sample = sample(&rt);
    std::mem::forget(rt);
    sample
}

/// As [`on_weft`], on smol's executor (run by `async_io::block_on` on this
/// thread, in [`Spawner::block_on`]).
fn on_smol(sample: impl FnOnce(&async_executor::Executor<'static>) -> Sample) -> Sample {
    let executor = async_executor::Executor::new();
    let sample = sample(&executor);
    std::mem::forget(executor);
    sample
}

/// As [`on_weft`], on tokio's current-thread runtime, entered while the
/// sample runs: tokio registers sockets and makes sleeps in its context.
fn on_tokio(sample: impl FnOnce(&tokio::runtime::Runtime) -> Sample) -> Sample {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let guard = rt.enter();
    let sample = sample(&rt);
    drop(guard);
    std::mem::forget(rt);
    sample
}

/// The child's entry point: one (kind, runtime) sample of `n` tasks.
///
/// Each kind's three waits stand together, in the order of the table in the
/// module doc (weft, smol, tokio): the same shapes, each with its runtime's
/// own types, which one generic version could only name through a trait of
/// ours.
fn child(kind: Kind, runtime: Runtime, n: usize) -> Sample {
    use Runtime::{Smol, Tokio, Weft};
    match (kind, runtime) {
        (Kind::Event, Weft) => on_weft(|rt| {
            let event = Arc::new(weft::sync::Event::new());
            measure_shared(rt, n, event, |event| async move { event.wait().await })
        }),
        (Kind::Event, Smol) => on_smol(|ex| {
            let event = Arc::new(event_listener::Event::new());
            measure_shared(ex, n, event, |event| async move { event.listen().await })
        }),
        (Kind::Event, Tokio) => on_tokio(|rt| {
            let notify = Arc::new(tokio::sync::Notify::new());
            measure_shared(
                rt,
                n,
                notify,
                |notify| async move { notify.notified().await },
            )
        }),

        (Kind::Semaphore, Weft) => on_weft(|rt| {
            let semaphore = Arc::new(weft::sync::Semaphore::new(0));
            measure_shared(rt, n, semaphore, |semaphore| async move {
                let _permit = semaphore.acquire().await;
            })
        }),
        (Kind::Semaphore, Smol) => on_smol(|ex| {
            let semaphore = Arc::new(async_lock::Semaphore::new(0));
            measure_shared(ex, n, semaphore, |semaphore| async move {
                let _permit = semaphore.acquire().await;
            })
        }),
        (Kind::Semaphore, Tokio) => on_tokio(|rt| {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(0));
            measure_shared(rt, n, semaphore, |semaphore| async move {
                let _permit = semaphore.acquire().await;
            })
        }),

        (Kind::Lock, Weft) => on_weft(|rt| {
            let lock = Arc::new(weft::sync::Lock::new(()));
            let _held = lock.try_lock().expect("a new lock is free");
            measure_shared(rt, n, lock.clone(), |lock| async move {
                let _guard = lock.lock().await;
            })
        }),
        (Kind::Lock, Smol) => on_smol(|ex| {
            let lock = Arc::new(async_lock::Mutex::new(()));
            let _held = lock.try_lock().expect("a new lock is free");
            measure_shared(ex, n, lock.clone(), |lock| async move {
                let _guard = lock.lock().await;
            })
        }),
        (Kind::Lock, Tokio) => on_tokio(|rt| {
            let lock = Arc::new(tokio::sync::Mutex::new(()));
            let _held = lock.try_lock().expect("a new lock is free");
            measure_shared(rt, n, lock.clone(), |lock| async move {
                let _guard = lock.lock().await;
            })
        }),

        (Kind::Queue, Weft) => on_weft(|rt| {
            let queue = Arc::new(weft::sync::Queue::<u64>::unbounded());
            measure_shared(rt, n, queue, |queue| async move {
                let _item = queue.get().await;
            })
        }),
        (Kind::Queue, Smol) => on_smol(|ex| {
            let (_sender, receiver) = async_channel::unbounded::<u64>();
            measure_shared(ex, n, receiver, |receiver| async move {
                let _item = receiver.recv().await;
            })
        }),
        // tokio's receivers cannot be shared: one channel per task.
        (Kind::Queue, Tokio) => on_tokio(|rt| {
            let channel = tokio::sync::mpsc::unbounded_channel::<u64>;
            measure_own_channel(rt, n, channel, |mut receiver| async move {
                let _item = receiver.recv().await;
            })
        }),

        (Kind::Oneshot, Weft) => on_weft(|rt| {
            let channel = weft::sync::oneshot::channel::<u64>;
            measure_own_channel(rt, n, channel, receive)
        }),
        (Kind::Oneshot, Smol) => on_smol(|ex| {
            let channel = futures_channel::oneshot::channel::<u64>;
            measure_own_channel(ex, n, channel, receive)
        }),
        (Kind::Oneshot, Tokio) => on_tokio(|rt| {
            let channel = tokio::sync::oneshot::channel::<u64>;
            measure_own_channel(rt, n, channel, receive)
        }),

        (Kind::Sleep, Weft) => {
            on_weft(|rt| measure(rt, n, |_| async { weft::time::sleep(LONG).await }))
        }
        (Kind::Sleep, Smol) => on_smol(|ex| {
            measure(ex, n, |_| async {
                async_io::Timer::after(LONG).await;
            })
        }),
        (Kind::Sleep, Tokio) => {
            on_tokio(|rt| measure(rt, n, |_| async { tokio::time::sleep(LONG).await }))
        }

        (Kind::TcpRead, Weft) => on_weft(|rt| {
            measure_tcp_read(rt, n, |server| async move {
                use weft::io::AsyncReadExt;
                let mut stream = weft::net::TcpStream::from_std(server).expect("register");
                let mut byte = [0u8; 1];
                let _ = stream.read(&mut byte).await;
            })
        }),
        (Kind::TcpRead, Smol) => on_smol(|ex| {
            measure_tcp_read(ex, n, |server| async move {
                use smol::io::AsyncReadExt;
                let mut stream = async_io::Async::new(server).expect("register");
                let mut byte = [0u8; 1];
                let _ = stream.read(&mut byte).await;
            })
        }),
        (Kind::TcpRead, Tokio) => on_tokio(|rt| {
            measure_tcp_read(rt, n, |server| async move {
                use tokio::io::AsyncReadExt;
                let mut stream = tokio::net::TcpStream::from_std(server).expect("register");
                let mut byte = [0u8; 1];
                let _ = stream.read(&mut byte).await;
            })
        }),
    }
}

/// The value after `flag`, parsed, or `default`.
fn arg_or(args: &[String], flag: &str, default: usize) -> usize {
    match args.iter().position(|arg| arg == flag) {
        Some(index) => args
            .get(index + 1)
            .and_then(|value| value.parse().ok())
            .filter(|&value| value > 0)
            .unwrap_or_else(|| panic!("{flag} takes a positive number")),
        None => default,
    }
}

/// Runs one sample in a child process and returns what it measured.
fn sample_in_child(kind: Kind, runtime: Runtime, n: usize) -> Sample {
    let exe = std::env::current_exe().expect("this benchmark's executable");
    let kind_index = Kind::ALL.iter().position(|k| *k == kind).expect("a kind");
    let runtime_index = Runtime::ALL
        .iter()
        .position(|r| *r == runtime)
        .expect("a runtime");
    let output = std::process::Command::new(exe)
        .args([
            "--child".to_string(),
            kind_index.to_string(),
            runtime_index.to_string(),
            n.to_string(),
        ])
        .output()
        .expect("starting the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the {} child on {} failed: {}\n{}",
        kind.name(),
        runtime.name(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed = stdout
        .trim()
        .split_once(' ')
        .and_then(|(per_task, future)| {
            Some(Sample {
                per_task: per_task.parse().ok()?,
                future_bytes: future.parse().ok()?,
            })
        });
    parsed.unwrap_or_else(|| panic!("the child printed {stdout:?}, expected two numbers"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 5 && args[1] == "--child" {
        let kind = Kind::ALL[args[2].parse::<usize>().expect("kind index")];
        let runtime = Runtime::ALL[args[3].parse::<usize>().expect("runtime index")];
        let n = args[4].parse().expect("task count");
        let sample = child(kind, runtime, n);
        println!("{} {}", sample.per_task, sample.future_bytes);
        return;
    }
    let tasks = arg_or(&args, "--tasks", DEFAULT_TASKS);
    let tcp_tasks = arg_or(&args, "--tcp-tasks", DEFAULT_TCP_TASKS);
    let runs = arg_or(&args, "--runs", DEFAULT_RUNS);
    println!(
        "RSS per parked task, bytes (median of {runs} runs; {tasks} tasks, {tcp_tasks} for tcp read)"
    );
    println!(
        "{:<10} {:>7} {:>7} {:>7} {:>10} {:>11}   future bytes: {:>5} {:>5} {:>5}",
        "wait", "weft", "smol", "tokio", "weft/smol", "weft/tokio", "weft", "smol", "tokio"
    );
    for kind in Kind::ALL {
        let n = if kind == Kind::TcpRead {
            tcp_tasks
        } else {
            tasks
        };
        let mut samples = vec![Vec::with_capacity(runs); Runtime::ALL.len()];
        let mut future_bytes = [0; 3];
        for run in 0..runs {
            // Interleaved, with the order rotating each run.
            for step in 0..Runtime::ALL.len() {
                let index = (run + step) % Runtime::ALL.len();
                let sample = sample_in_child(kind, Runtime::ALL[index], n);
                samples[index].push(sample.per_task);
                future_bytes[index] = sample.future_bytes;
            }
        }
        let [weft, smol, tokio] = [0, 1, 2].map(|index| median(samples[index].clone()));
        println!(
            "{:<10} {:>7.0} {:>7.0} {:>7.0} {:>10.2} {:>11.2}                 {:>5} {:>5} {:>5}",
            kind.name(),
            weft,
            smol,
            tokio,
            weft / smol,
            weft / tokio,
            future_bytes[0],
            future_bytes[1],
            future_bytes[2]
        );
    }
}
