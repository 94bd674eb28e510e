//! A tiny single-threaded test executor over a bare `weft_io::Driver`: no
//! runtime crate exists yet, and these tests must not depend on one.
//!
//! `Executor::block_on` polls the main future and every spawned task when
//! woken and, when nothing is runnable, parks in `Driver::poll`. The
//! blocking hook runs closures on fresh std threads. A test that makes no
//! progress for `HANG_LIMIT` panics instead of hanging the suite.

#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use weft_io::{Driver, Unparker};

type LocalTask = Pin<Box<dyn Future<Output = ()>>>;

/// How long the executor tolerates no progress at all before failing the
/// test as hung.
const HANG_LIMIT: Duration = Duration::from_secs(20);
/// The `Driver::poll` timeout while idle; only bounds hang detection.
const PARK_TIMEOUT: Duration = Duration::from_millis(100);
/// The index the main future's waker reports.
const MAIN: usize = usize::MAX;

/// A blocking hook that runs each closure on a new std thread.
pub fn thread_hook() -> weft_io::BlockingHook {
    Arc::new(|f: Box<dyn FnOnce() + Send>| {
        std::thread::spawn(f);
    })
}

/// A new driver whose blocking hook spawns threads.
pub fn new_driver() -> Driver {
    Driver::new(thread_hook()).expect("creating an epoll instance should succeed")
}

struct TaskWaker {
    index: usize,
    ready: Arc<Mutex<Vec<usize>>>,
    unparker: Unparker,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.lock().unwrap().push(self.index);
        self.unparker.unpark();
    }
}

/// Spawns tasks onto the executor that runs the current `block_on`.
#[derive(Clone)]
pub struct Spawner {
    incoming: Rc<RefCell<Vec<LocalTask>>>,
}

impl Spawner {
    /// Queues `future` to run concurrently with the main future.
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        self.incoming.borrow_mut().push(Box::pin(future));
    }
}

/// The test executor: a driver, the tasks, and the ready list.
pub struct Executor {
    tasks: Vec<Option<LocalTask>>,
    ready: Arc<Mutex<Vec<usize>>>,
    incoming: Rc<RefCell<Vec<LocalTask>>>,
    pub driver: Driver,
}

impl Executor {
    /// A fresh executor with its own driver.
    pub fn new() -> Executor {
        Executor {
            tasks: Vec::new(),
            ready: Arc::new(Mutex::new(Vec::new())),
            incoming: Rc::new(RefCell::new(Vec::new())),
            driver: new_driver(),
        }
    }

    /// A spawner for this executor.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            incoming: self.incoming.clone(),
        }
    }

    fn waker(&self, index: usize) -> Waker {
        Waker::from(Arc::new(TaskWaker {
            index,
            ready: self.ready.clone(),
            unparker: self.driver.unparker(),
        }))
    }

    /// Runs `main` (and spawned tasks) until `main` completes.
    pub fn block_on<F: Future>(&mut self, main: F) -> F::Output {
        let _guard = self.driver.handle().enter();
        let mut main = std::pin::pin!(main);
        let main_waker = self.waker(MAIN);
        self.ready.lock().unwrap().push(MAIN);
        let mut last_progress = Instant::now();
        loop {
            for task in self.incoming.borrow_mut().drain(..) {
                let index = self.tasks.len();
                self.tasks.push(Some(task));
                self.ready.lock().unwrap().push(index);
            }
            let ready: Vec<usize> = std::mem::take(&mut *self.ready.lock().unwrap());
            if !ready.is_empty() {
                last_progress = Instant::now();
            }
            for index in ready {
                if index == MAIN {
                    let mut cx = Context::from_waker(&main_waker);
                    if let Poll::Ready(output) = main.as_mut().poll(&mut cx) {
                        return output;
                    }
                } else if self.tasks[index].is_some() {
                    let waker = self.waker(index);
                    let task = self.tasks[index].as_mut().expect("checked above");
                    let mut cx = Context::from_waker(&waker);
                    if task.as_mut().poll(&mut cx).is_ready() {
                        self.tasks[index] = None;
                    }
                }
            }
            if self.ready.lock().unwrap().is_empty() && self.incoming.borrow().is_empty() {
                self.driver
                    .poll(Some(PARK_TIMEOUT))
                    .expect("driver poll should not fail");
                assert!(
                    last_progress.elapsed() < HANG_LIMIT,
                    "test executor made no progress for {HANG_LIMIT:?}: a lost wake-up?"
                );
            }
        }
    }

    /// How many spawned tasks have not finished.
    pub fn live_tasks(&self) -> usize {
        self.tasks.iter().filter(|t| t.is_some()).count()
    }
}

/// Runs `main` on a fresh executor.
pub fn block_on<F: Future>(main: F) -> F::Output {
    Executor::new().block_on(main)
}

/// Yields once to the executor.
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

/// Counts finished tasks; `wait` resolves when `count` reached the target.
#[derive(Clone)]
pub struct Countdown {
    state: Rc<RefCell<(usize, Option<Waker>)>>,
}

impl Countdown {
    /// Waits for `target` calls to `done`.
    pub fn new(target: usize) -> Countdown {
        Countdown {
            state: Rc::new(RefCell::new((target, None))),
        }
    }

    /// One more finished; wakes the waiter at zero.
    pub fn done(&self) {
        let mut state = self.state.borrow_mut();
        state.0 = state
            .0
            .checked_sub(1)
            .expect("done called more often than the target");
        if state.0 == 0 {
            if let Some(waker) = state.1.take() {
                waker.wake();
            }
        }
    }

    /// How many are still outstanding.
    pub fn remaining(&self) -> usize {
        self.state.borrow().0
    }

    /// Resolves when every `done` has been called.
    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.0 == 0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Polls `future` exactly once from inside a task; `Pending` leaves it
/// registered with whatever it waits on.
pub async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Sets `SO_LINGER` to zero seconds, so closing the socket sends a reset
/// (RST) instead of a graceful FIN.
pub fn set_linger_zero(socket: &impl std::os::fd::AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is open (borrowed from `socket`), and the
    // option value points to a live `linger` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER) failed: {}",
        std::io::Error::last_os_error()
    );
}

/// Wakes a thread parked in `block_on_parking`.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` on this thread, parking the thread while it is pending;
/// some *other* thread must be polling the driver. Used to exercise the
/// reactor with the driver and the I/O on different threads.
pub fn block_on_parking<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let started = Instant::now();
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park_timeout(PARK_TIMEOUT);
        assert!(
            started.elapsed() < HANG_LIMIT * 3,
            "block_on_parking hung: a lost wake-up?"
        );
    }
}

/// A driver polled by its own thread until the returned guard is dropped.
pub struct DriverThread {
    handle: weft_io::Handle,
    unparker: Unparker,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl DriverThread {
    /// Starts a driver on a new thread.
    pub fn start() -> DriverThread {
        let mut driver = new_driver();
        let handle = driver.handle();
        let unparker = driver.unparker();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut polls_with_events = 0;
            while !stopping.load(std::sync::atomic::Ordering::Acquire) {
                if driver.poll(None).expect("driver poll should not fail") {
                    polls_with_events += 1;
                }
            }
            polls_with_events
        });
        DriverThread {
            handle,
            unparker,
            stop,
            thread: Some(thread),
        }
    }

    /// The driver's handle.
    pub fn handle(&self) -> &weft_io::Handle {
        &self.handle
    }

    /// Stops the thread; returns how many polls dispatched events.
    pub fn stop(mut self) -> usize {
        self.stop_thread()
    }

    fn stop_thread(&mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.unparker.unpark();
        self.thread
            .take()
            .map_or(0, |t| t.join().expect("driver thread panicked"))
    }
}

impl Drop for DriverThread {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_thread();
        }
    }
}
