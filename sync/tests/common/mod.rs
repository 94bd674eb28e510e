//! Minimal executors for weft-sync's tests: weft-sync depends on no runtime,
//! so its tests bring their own.
//!
//! - [`block_on`]: runs one future on the current thread, parking between polls.
//! - [`run_on_threads`]: a tiny multi-threaded runner (one shared queue, a
//!   condvar, `Arc<Task>` wakers) for stress tests.
//! - [`Sim`]: a deterministic single-threaded scheduler that only polls
//!   woken tasks and can drop (cancel) pending ones at pseudo-random
//!   moments; a task left pending with nobody to wake it is a lost wakeup.
//! - [`XorShift`]: a tiny seeded PRNG so failures reproduce.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// A boxed `Send` future, as the multi-threaded runner takes.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// A fresh counter and a waker feeding it.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        (counter.clone(), Waker::from(counter))
    }

    /// Wakes so far.
    pub fn count(&self) -> usize {
        // Relaxed: read after the waking calls on this thread.
        self.0.load(Ordering::Relaxed)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        // Relaxed: a test counter only.
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `future` once with `waker`.
pub fn poll_with<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Polls `future` once with a waker nobody listens to.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let (_, waker) = CountingWaker::new();
    poll_with(future, &waker)
}

/// Returns `Pending` once (waking itself), then `Ready`: a scheduling point.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// xorshift64*: small, seeded, good enough to pick tasks.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

struct SimTask<'a> {
    future: Pin<Box<dyn Future<Output = ()> + 'a>>,
    woken: Arc<CountingWaker>,
    waker: Waker,
    polled: usize,
}

/// A deterministic single-threaded scheduler with random cancellation.
pub struct Sim<'a> {
    tasks: Vec<Option<SimTask<'a>>>,
    pub rng: XorShift,
    /// How many tasks were dropped while pending.
    pub cancelled: usize,
    was_cancelled: Vec<bool>,
}

impl<'a> Sim<'a> {
    /// An empty simulation seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Sim {
            tasks: Vec::new(),
            rng: XorShift::new(seed),
            cancelled: 0,
            was_cancelled: Vec::new(),
        }
    }

    /// Adds a task; it is polled at least once.
    pub fn spawn(&mut self, future: impl Future<Output = ()> + 'a) -> usize {
        let (woken, waker) = CountingWaker::new();
        self.tasks.push(Some(SimTask {
            future: Box::pin(future),
            woken,
            waker,
            polled: 0,
        }));
        self.was_cancelled.push(false);
        self.tasks.len() - 1
    }

    fn runnable(&self) -> Vec<usize> {
        (0..self.tasks.len())
            .filter(|&i| match &self.tasks[i] {
                Some(task) => task.polled == 0 || task.woken.count() > 0,
                None => false,
            })
            .collect()
    }

    /// Polls task `index` once if it is alive; true if it completed.
    pub fn poll_task(&mut self, index: usize) -> bool {
        let Some(task) = self.tasks[index].as_mut() else {
            return false;
        };
        task.polled += 1;
        task.woken.0.store(0, Ordering::Relaxed);
        let done = poll_with(task.future.as_mut(), &task.waker).is_ready();
        if done {
            self.tasks[index] = None;
        }
        done
    }

    /// Drops task `index` (cancels it) if it is still alive.
    pub fn cancel(&mut self, index: usize) {
        if self.tasks[index].take().is_some() {
            self.cancelled += 1;
            self.was_cancelled[index] = true;
        }
    }

    /// Polls woken tasks in random order until none is woken; before each
    /// poll, with probability `cancel_percent`, drops a random live task.
    pub fn run(&mut self, cancel_percent: usize) {
        loop {
            let runnable = self.runnable();
            if runnable.is_empty() {
                return;
            }
            if self.rng.chance(cancel_percent) {
                let victim = self.rng.below(self.tasks.len());
                self.cancel(victim);
                continue;
            }
            let pick = runnable[self.rng.below(runnable.len())];
            self.poll_task(pick);
        }
    }

    /// Tasks still alive (pending and not cancelled).
    pub fn live(&self) -> usize {
        self.live_of(0..self.tasks.len())
    }

    /// Tasks with an index in `range` still alive.
    pub fn live_of(&self, range: std::ops::Range<usize>) -> usize {
        range.filter(|&i| self.is_alive(i)).count()
    }

    /// Tasks with an index in `range` that were cancelled.
    pub fn cancelled_of(&self, range: std::ops::Range<usize>) -> usize {
        range.filter(|&i| self.was_cancelled[i]).count()
    }

    /// True if task `index` is neither finished nor cancelled.
    pub fn is_alive(&self, index: usize) -> bool {
        self.tasks[index].is_some()
    }
}

struct Task {
    future: Mutex<Option<BoxFuture>>,
    scheduled: AtomicBool,
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<VecDeque<Arc<Task>>>,
    ready: Condvar,
    remaining: AtomicUsize,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        // AcqRel: pairs with the worker's store(false) before polling, so a
        // wake during a poll re-queues the task exactly once.
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let shared = self.shared.clone();
            shared.queue.lock().unwrap().push_back(self);
            shared.ready.notify_one();
        }
    }
}

/// Runs every future in `tasks` to completion on `threads` worker threads.
pub fn run_on_threads(threads: usize, tasks: Vec<BoxFuture>) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
        remaining: AtomicUsize::new(tasks.len()),
    });
    for future in tasks {
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            scheduled: AtomicBool::new(true),
            shared: shared.clone(),
        });
        shared.queue.lock().unwrap().push_back(task);
    }
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || worker(&shared))
        })
        .collect();
    for worker in workers {
        worker.join().expect("a test task panicked");
    }
}

fn worker(shared: &Shared) {
    loop {
        let task = {
            let mut queue = shared
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            loop {
                if let Some(task) = queue.pop_front() {
                    break task;
                }
                // Acquire: pairs with the AcqRel decrement of the last task.
                if shared.remaining.load(Ordering::Acquire) == 0 {
                    return;
                }
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        task.scheduled.store(false, Ordering::Release);
        let mut slot = task
            .future
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(future) = slot.as_mut() else {
            continue;
        };
        let waker = Waker::from(task.clone());
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            future.as_mut().poll(&mut Context::from_waker(&waker))
        }));
        let Ok(poll) = polled else {
            // Stop the other workers too, then report the panic through join.
            shared.remaining.store(0, Ordering::Release);
            let _queue = shared.queue.lock().unwrap();
            shared.ready.notify_all();
            panic!("a task panicked on a worker thread");
        };
        if poll.is_ready() {
            *slot = None;
            if shared.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _queue = shared.queue.lock().unwrap();
                shared.ready.notify_all();
            }
        }
    }
}

/// A future polled by hand that may be polled again after it finished
/// (those polls do nothing), for tests that poll a set of futures in rounds.
pub struct Tracked<'a, T> {
    future: Option<Pin<Box<dyn Future<Output = T> + 'a>>>,
    /// The output, once finished.
    pub output: Option<T>,
}

impl<'a, T> Tracked<'a, T> {
    /// Wraps `future`.
    pub fn new(future: impl Future<Output = T> + 'a) -> Self {
        Tracked {
            future: Some(Box::pin(future)),
            output: None,
        }
    }

    /// Polls once unless finished; true once finished.
    pub fn poll(&mut self) -> bool {
        if let Some(future) = self.future.as_mut() {
            if let Poll::Ready(output) = poll_once(future.as_mut()) {
                self.output = Some(output);
                self.future = None;
            }
        }
        self.future.is_none()
    }
}
