//! Summary: the blocking pool: threads that run `spawn_blocking` closures
//! so they never stall a worker.
//!
//! Role: `Handle::spawn_blocking` calls [`BlockingPool::spawn`]; the I/O
//! driver's blocking hook (name resolution) goes through it too; runtime
//! shutdown calls [`BlockingPool::shutdown`] after the scheduler's
//! (`runtime.rs`). The pool is a sibling of the scheduler, not part of it:
//! the `Runtime` and every `Handle` hold it beside the scheduler's state,
//! and the pool knows no runtime: its threads make theirs current through
//! the [`PoolConfig::enter`] hook the builder gives it (it was a circle:
//! blocking -> handle -> scheduler -> blocking).
//!
//! Design: a closure becomes an ordinary task (one allocation, a
//! `JoinHandle`, panics caught as `JoinError`) whose future runs the closure
//! on its first poll; the pool's threads pop these tasks from one FIFO
//! under a mutex. Threads start on demand, only when no idle thread is
//! waiting, up to `max_blocking_threads`, and exit after [`KEEP_ALIVE`] (or
//! `Builder::thread_keep_alive`) without work. A lock-free queue was
//! rejected: a blocking closure runs for milliseconds, so the mutex is never
//! the bottleneck.
//!
//! Invariants:
//!
//! - POOL-1: `num_idle` counts threads waiting on the condvar that have not
//!   been handed a wakeup; each `notify_one` moves one of them into
//!   `num_notify`, so two spawns never count on the same idle thread.
//! - POOL-2: after `shutdown` is set no task is queued; queued tasks are
//!   cancelled (their JoinHandles report `is_cancelled()`).
//!
//! Concurrency: every field of `PoolState` is behind the mutex.

use crate::debug::contain_panic;
use crate::task::{self, Id, JoinHandle, Notified, Observer, Schedule, SpawnMeta, Task};
use crate::trace::Kind;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// An idle blocking thread exits after this long without work: long enough
/// that a steady trickle of blocking calls reuses threads, short enough that
/// a burst does not pin hundreds of idle threads (tokio uses 10 s too).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The default `max_blocking_threads`: blocking calls are mostly waiting
/// (file I/O, DNS), so many may run at once; 512 bounds the memory of
/// their stacks (tokio's default as well).
pub(crate) const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

/// Blocking tasks are never woken (they finish in their first poll), and
/// are not in the owned list (the pool cancels them itself, POOL-2).
pub(crate) struct BlockingSchedule;

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // Only an abort racing the first poll could get here, and abort does
        // not submit an already-queued task (NOTIFIED is set); dropping the
        // handle releases its reference either way.
        drop(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// The future of a blocking task: runs the closure in its one poll.
struct BlockingTask<F>(Option<F>);

// The closure is never pinned: it is moved out before it runs.
impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("a blocking task is polled once");
        Poll::Ready(f())
    }
}

/// Builder settings the pool's threads need.
#[derive(Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_threads: usize,
    /// How long an idle thread waits for work before it exits
    /// ([`KEEP_ALIVE`] unless `Builder::thread_keep_alive` says otherwise).
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: String,
    pub(crate) on_start: Option<Arc<dyn Fn() + Send + Sync>>,
    pub(crate) on_stop: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Makes the pool's runtime current on a pool thread until the returned
    /// guard drops (the runtime's `Handle::enter`; given by the builder, so
    /// this pool knows no runtime type and no thread-local).
    pub(crate) enter: EnterHook,
}

/// See [`PoolConfig::enter`].
pub(crate) type EnterHook = Arc<dyn Fn() -> Box<dyn std::any::Any> + Send + Sync>;

/// The pool: a cheap clone of one shared state, held beside the scheduler
/// by the runtime and every `Handle`.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

/// A reference to the pool that does not keep it alive (the builder's
/// hooks hold one: the pool is the runtime's, so a strong reference from
/// its own enter hook would keep it alive in a cycle).
pub(crate) struct WeakBlockingPool {
    inner: Weak<Inner>,
}

impl WeakBlockingPool {
    /// The pool, if a `Handle` still holds it.
    pub(crate) fn upgrade(&self) -> Option<BlockingPool> {
        self.inner.upgrade().map(|inner| BlockingPool { inner })
    }
}

struct Inner {
    state: Mutex<PoolState>,
    /// Idle threads wait here for work.
    work: Condvar,
    /// `shutdown` waits here for threads to exit.
    exited: Condvar,
    config: PoolConfig,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Notified<BlockingSchedule>>,
    /// Threads that will still take work (POOL-1 accounting).
    num_threads: usize,
    /// Threads whose body has not finished (stop hook included); shutdown
    /// waits for these.
    num_alive: usize,
    num_idle: usize,
    num_notify: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig) -> BlockingPool {
        let inner = Inner {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
            exited: Condvar::new(),
            config,
        };
        BlockingPool {
            inner: Arc::new(inner),
        }
    }

    /// A reference to the pool that does not keep it alive.
    pub(crate) fn downgrade(&self) -> WeakBlockingPool {
        WeakBlockingPool {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Queues `f` on the pool, starting a thread if none is idle.
    ///
    /// # Panics
    ///
    /// Panics if the pool has no thread and the OS refuses to start one.
    #[track_caller]
    pub(crate) fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let id = Id::next();
        let site = SpawnMeta::new(Kind::Blocking).site(id, Observer::default());
        let spawned = BlockingSchedule.spawn_stamp();
        let (task, notified, join) =
            task::new_task_at(BlockingTask(Some(f)), BlockingSchedule, spawned, || {
                (id, site)
            });
        // Not in any owned list (BlockingSchedule::release).
        drop(task);
        let mut state = self.inner.state.lock();
        if state.shutdown {
            drop(state);
            notified.shutdown();
            return join;
        }
        state.queue.push_back(notified);
        if state.num_idle > 0 {
            // POOL-1.
            state.num_idle -= 1;
            state.num_notify += 1;
            self.inner.work.notify_one();
        } else if state.num_threads < self.inner.config.max_threads {
            state.num_threads += 1;
            state.num_alive += 1;
            drop(state);
            self.start_thread();
        }
        join
    }

    fn start_thread(&self) {
        let inner = self.inner.clone();
        let started = std::thread::Builder::new()
            .name(self.inner.config.thread_name.clone())
            .spawn(move || inner.run());
        if let Err(err) = started {
            let mut state = self.inner.state.lock();
            state.num_threads -= 1;
            state.num_alive -= 1;
            // With another thread alive the task still runs, only later.
            assert!(
                state.num_threads > 0,
                "failed to start a blocking-pool thread and none is running: {err}"
            );
        }
    }

    /// Threads alive now.
    pub(crate) fn num_alive(&self) -> usize {
        self.inner.state.lock().num_alive
    }

    /// True if a closure is queued or running: its completion will wake a
    /// task from a pool thread (explore mode's deadlock test, EXP-5).
    pub(crate) fn has_work_in_flight(&self) -> bool {
        let state = self.inner.state.lock();
        !state.queue.is_empty() || state.num_idle < state.num_threads
    }

    /// Stops the pool (POOL-2): cancels queued closures, lets running ones
    /// finish, and waits up to `timeout` (None = no limit) for the threads.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let queued: Vec<_> = {
            let mut state = self.inner.state.lock();
            state.shutdown = true;
            self.inner.work.notify_all();
            state.queue.drain(..).collect()
        };
        queued.into_iter().for_each(Notified::shutdown);
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let mut state = self.inner.state.lock();
        while state.num_alive > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .inner
                        .exited
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        return;
                    }
                }
                None => self.inner.exited.wait(&mut state),
            }
        }
    }
}

impl Inner {
    /// A pool thread's body.
    fn run(&self) {
        if let Some(on_start) = &self.config.on_start {
            contain_panic(|| on_start());
        }
        let enter = (self.config.enter)();
        let mut state = self.state.lock();
        'work: loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                state = self.state.lock();
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            loop {
                let timed_out = self
                    .work
                    .wait_for(&mut state, self.config.keep_alive)
                    .timed_out();
                if state.num_notify > 0 {
                    // POOL-1: a spawner handed us this wakeup (and un-counted us as idle).
                    state.num_notify -= 1;
                    continue 'work;
                }
                if state.shutdown || timed_out {
                    state.num_idle -= 1;
                    break 'work;
                }
            }
        }
        state.num_threads -= 1;
        drop(state);
        // Before counting out: shutdown must not return while this thread
        // still keeps the runtime alive (the guard holds its handle).
        drop(enter);
        if let Some(on_stop) = &self.config.on_stop {
            contain_panic(|| on_stop());
        }
        self.state.lock().num_alive -= 1;
        self.exited.notify_all();
    }
}
