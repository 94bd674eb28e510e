//! A tiny executor for the timer's tests: weft-timer has no runtime of its
//! own, so this plays the runtime's part of the driver seam
//! (`docs/architecture.md`): enter the handle, poll, and when idle park on the
//! driver (`park_timeout`, block or `auto_advance`, `process`).
//!
//! It is deliberately simple: one thread, a FIFO run queue of `Arc` tasks
//! woken through `std::task::Wake`, a condvar as the parker.

#![allow(dead_code)] // each test file uses a different part of it

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use weft_timer::{Driver, Handle};

/// A wake-up token: `notify` sets it, `wait` blocks until it is set (or the
/// timeout passes) and consumes it.
#[derive(Default)]
pub struct Signal {
    notified: Mutex<bool>,
    cond: Condvar,
    /// How many times `notify` was called (the driver's `unpark` included).
    pub notifications: AtomicUsize,
}

impl Signal {
    pub fn notify(&self) {
        self.notifications.fetch_add(1, Ordering::Relaxed);
        *self.notified.lock().unwrap() = true;
        self.cond.notify_one();
    }

    /// Consumes the token if set; true if it was.
    pub fn take(&self) -> bool {
        std::mem::replace(&mut *self.notified.lock().unwrap(), false)
    }

    pub fn wait(&self, timeout: Option<Duration>) {
        let mut notified = self.notified.lock().unwrap();
        match timeout {
            None => {
                while !*notified {
                    notified = self.cond.wait(notified).unwrap();
                }
            }
            Some(timeout) => {
                if !*notified {
                    notified = self.cond.wait_timeout(notified, timeout).unwrap().0;
                }
            }
        }
        *notified = false;
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Task {
    future: Mutex<Option<BoxFuture>>,
    queue: Arc<RunQueue>,
}

struct RunQueue {
    ready: Mutex<VecDeque<Arc<Task>>>,
    /// Spawned tasks that have not completed.
    live: AtomicUsize,
    signal: Arc<Signal>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.queue.ready.lock().unwrap().push_back(self.clone());
        self.queue.signal.notify();
    }
}

/// Wakes the main future of `block_on`.
struct MainWaker {
    woken: std::sync::atomic::AtomicBool,
    signal: Arc<Signal>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.signal.notify();
    }
}

/// A single-threaded test runtime around a [`Driver`].
pub struct TestRuntime {
    pub driver: Driver,
    pub signal: Arc<Signal>,
    queue: Arc<RunQueue>,
}

impl TestRuntime {
    /// A runtime on the real clock.
    pub fn new() -> TestRuntime {
        Self::build(false)
    }

    /// A runtime whose clock starts paused.
    pub fn paused() -> TestRuntime {
        Self::build(true)
    }

    fn build(start_paused: bool) -> TestRuntime {
        let signal = Arc::new(Signal::default());
        let unpark_signal = signal.clone();
        let driver = Driver::new(start_paused, Arc::new(move || unpark_signal.notify()));
        let queue = Arc::new(RunQueue {
            ready: Mutex::new(VecDeque::new()),
            live: AtomicUsize::new(0),
            signal: signal.clone(),
        });
        TestRuntime {
            driver,
            signal,
            queue,
        }
    }

    pub fn handle(&self) -> Handle {
        self.driver.handle()
    }

    /// Queues a task; it runs during `block_on`.
    pub fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(future))),
            queue: self.queue.clone(),
        });
        self.queue.live.fetch_add(1, Ordering::AcqRel);
        self.queue.ready.lock().unwrap().push_back(task);
    }

    /// Runs `future` (and any spawned tasks) until `future` completes.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.handle().enter();
        let main = Arc::new(MainWaker {
            woken: std::sync::atomic::AtomicBool::new(true),
            signal: self.signal.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut future = std::pin::pin!(future);
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker))
                {
                    return output;
                }
            }
            let ran = self.run_ready_tasks();
            if !ran && !main.woken.load(Ordering::Acquire) {
                self.park();
            }
        }
    }

    /// Runs spawned tasks until every one of them has completed.
    pub fn run_spawned(&self) {
        let _enter = self.handle().enter();
        while self.queue.live.load(Ordering::Acquire) > 0 {
            if !self.run_ready_tasks() {
                self.park();
            }
        }
    }

    /// Polls every task queued now; true if any ran.
    fn run_ready_tasks(&self) -> bool {
        let batch: Vec<Arc<Task>> = self.queue.ready.lock().unwrap().drain(..).collect();
        let ran = !batch.is_empty();
        for task in batch {
            let waker = Waker::from(task.clone());
            let mut slot = task.future.lock().unwrap();
            if let Some(future) = slot.as_mut() {
                if future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready()
                {
                    *slot = None;
                    self.queue.live.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
        ran
    }

    /// The runtime's park, exactly as the driver seam describes it.
    fn park(&self) {
        let timeout = self.driver.park_timeout();
        if self.driver.is_paused() && timeout.is_some() {
            // Test clock: never sleep for a timer; jump to it when idle.
            if !self.signal.take() {
                self.driver.auto_advance();
            }
        } else {
            self.signal.wait(timeout);
        }
        self.driver.process();
    }
}

/// A waker that counts how often it is woken.
#[derive(Default)]
pub struct CountingWaker {
    pub wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    pub fn new() -> Arc<CountingWaker> {
        Arc::new(CountingWaker::default())
    }

    pub fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// A waker that does nothing, owned (`Waker::noop` lends a `&'static Waker`).
pub fn noop_waker() -> Waker {
    Waker::from(Arc::new(NoopWake))
}

/// Polls `future` once with `waker`.
pub fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// A scale for iteration counts: full in release, a fifth in debug builds.
pub fn scaled(full: usize) -> usize {
    if cfg!(debug_assertions) {
        full / 5
    } else {
        full
    }
}
