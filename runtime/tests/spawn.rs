//! Spawning: many tasks complete exactly once, from inside and outside the
//! runtime, from many threads at once, on both flavours.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use weft_runtime::{Builder, Runtime};

/// Tasks per "million tasks" test. A million in release; debug builds are
/// ~20x slower per task, so they use a tenth to keep the suite under a minute.
const MANY_TASKS: usize = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};

fn multi_thread() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap()
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// Spawns `MANY_TASKS` no-op tasks from inside a task (on a worker, for
/// the multi-thread flavour) and joins them all.
fn many_tasks_spawned_inside(rt: &Runtime) {
    let counter = Arc::new(AtomicUsize::new(0));
    let total = rt.block_on({
        let counter = counter.clone();
        let spawner = rt.spawn(async move {
            let handles: Vec<_> = (0..MANY_TASKS)
                .map(|_| {
                    let counter = counter.clone();
                    weft_runtime::spawn(async move {
                        counter.fetch_add(1, Ordering::Relaxed);
                    })
                })
                .collect();
            let mut joined = 0;
            for handle in handles {
                handle.await.unwrap();
                joined += 1;
            }
            joined
        });
        async move { spawner.await.unwrap() }
    });
    assert_eq!(total, MANY_TASKS);
    assert_eq!(counter.load(Ordering::Relaxed), MANY_TASKS);
}

/// Spawns `MANY_TASKS` no-op tasks from a thread outside the runtime.
fn many_tasks_spawned_outside(rt: &Runtime) {
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..MANY_TASKS)
        .map(|_| {
            let counter = counter.clone();
            rt.spawn(async move {
                counter.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), MANY_TASKS);
}

/// Every task spawned from inside a multi-thread runtime runs exactly once.
#[test]
fn many_tasks_spawned_inside_all_complete_multi_thread() {
    many_tasks_spawned_inside(&multi_thread());
}

/// Every task spawned from outside a multi-thread runtime runs exactly once.
#[test]
fn many_tasks_spawned_outside_all_complete_multi_thread() {
    many_tasks_spawned_outside(&multi_thread());
}

/// Every task spawned from inside a current-thread runtime runs exactly once.
#[test]
fn many_tasks_spawned_inside_all_complete_current_thread() {
    many_tasks_spawned_inside(&current_thread());
}

/// Every task spawned from outside a current-thread runtime runs exactly once.
#[test]
fn many_tasks_spawned_outside_all_complete_current_thread() {
    many_tasks_spawned_outside(&current_thread());
}

/// A binary tree of tasks, each spawning two children, all complete.
fn tasks_spawning_tasks(rt: &Runtime) {
    fn tree(depth: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> {
        Box::pin(async move {
            if depth == 0 {
                return 1;
            }
            let left = weft_runtime::spawn(tree(depth - 1));
            let right = weft_runtime::spawn(tree(depth - 1));
            left.await.unwrap() + right.await.unwrap()
        })
    }
    assert_eq!(rt.block_on(tree(12)), 1 << 12);
}

/// Tasks spawned by tasks run, to any depth (multi-thread).
#[test]
fn tasks_spawning_tasks_complete_multi_thread() {
    tasks_spawning_tasks(&multi_thread());
}

/// Tasks spawned by tasks run, to any depth (current-thread).
#[test]
fn tasks_spawning_tasks_complete_current_thread() {
    tasks_spawning_tasks(&current_thread());
}

/// Eight OS threads spawning at once through one Handle lose no task.
fn spawn_from_eight_threads(rt: &Runtime) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 2_000;
    let counter = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(THREADS));
    let spawners: Vec<_> = (0..THREADS)
        .map(|_| {
            let handle = rt.handle().clone();
            let counter = counter.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                (0..PER_THREAD)
                    .map(|_| {
                        let counter = counter.clone();
                        handle.spawn(async move {
                            counter.fetch_add(1, Ordering::Relaxed);
                        })
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = spawners
        .into_iter()
        .flat_map(|spawner| spawner.join().unwrap())
        .collect();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * PER_THREAD);
}

/// Concurrent spawners on a multi-thread runtime.
#[test]
fn spawn_from_eight_threads_at_once_multi_thread() {
    spawn_from_eight_threads(&multi_thread());
}

/// Concurrent spawners on a current-thread runtime.
#[test]
fn spawn_from_eight_threads_at_once_current_thread() {
    spawn_from_eight_threads(&current_thread());
}

/// A ping-pong of yields across many tasks finishes (the LIFO cap and
/// yield-to-back keep every task moving).
#[test]
fn yielding_tasks_all_make_progress() {
    let rt = multi_thread();
    let total = rt.block_on(async {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                weft_runtime::spawn(async {
                    for _ in 0..50 {
                        weft_runtime::yield_now().await;
                    }
                    1usize
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, 200);
}

/// The tasks the current-thread `block_on`'s own future spawns are queued
/// on the core directly (none through the injector) and run in the order
/// they were spawned, the last one too (it would sit in the LIFO slot).
#[test]
fn main_future_spawns_on_the_current_thread_core_in_spawn_order() {
    let rt = current_thread();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    rt.block_on(async {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let order = order.clone();
                weft_runtime::spawn(async move { order.lock().unwrap().push(i) })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
    assert_eq!(
        rt.metrics().injected(),
        0,
        "a main-future spawn went through the injector"
    );
}

/// `Handle::block_on` works from a thread that is not the runtime's, and
/// two threads can block_on a current-thread runtime at once.
#[test]
fn block_on_from_two_threads_current_thread() {
    let rt = current_thread();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let handle = rt.handle().clone();
    let task = rt.spawn(async move {
        // Runs on whichever thread drives the core.
        tx.send(()).unwrap();
        7
    });
    let other = std::thread::spawn(move || handle.block_on(task).unwrap());
    rt.block_on(async {});
    rx.recv().unwrap();
    assert_eq!(other.join().unwrap(), 7);
}

/// `Handle::block_on` is allowed on a blocking-pool thread (it does not
/// drive the runtime's tasks) and can await tasks of the same runtime.
#[test]
fn block_on_inside_spawn_blocking_is_allowed() {
    let rt = multi_thread();
    let handle = rt.handle().clone();
    let out = rt.block_on(rt.spawn_blocking(move || {
        handle.block_on(async { weft_runtime::spawn(async { 5 }).await.unwrap() })
    }));
    assert_eq!(out.unwrap(), 5);
}

/// Stampede: four OS threads wake one task 5,000 times each while it runs;
/// it is never polled by two threads at once, and a wake after its last
/// poll always leads to another poll (it sees the final flag and finishes).
#[test]
fn stampede_of_wakes_never_double_polls() {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    const WAKERS: usize = 4;
    const WAKES: usize = 5_000;
    struct Probe {
        polling: AtomicBool,
        done: AtomicBool,
        polls: AtomicUsize,
        waker: Mutex<Option<Waker>>,
    }
    struct Watched(Arc<Probe>);
    impl Future for Watched {
        type Output = usize;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            let probe = &self.0;
            assert!(
                !probe.polling.swap(true, Ordering::SeqCst),
                "polled by two threads at once"
            );
            *probe.waker.lock().unwrap() = Some(cx.waker().clone());
            let polls = probe.polls.fetch_add(1, Ordering::SeqCst) + 1;
            let done = probe.done.load(Ordering::SeqCst);
            probe.polling.store(false, Ordering::SeqCst);
            if done {
                Poll::Ready(polls)
            } else {
                Poll::Pending
            }
        }
    }
    for rt in [multi_thread(), current_thread()] {
        let probe = Arc::new(Probe {
            polling: AtomicBool::new(false),
            done: AtomicBool::new(false),
            polls: AtomicUsize::new(0),
            waker: Mutex::new(None),
        });
        let handle = rt.spawn(Watched(probe.clone()));
        // Let it register its waker once.
        while probe.waker.lock().unwrap().is_none() {
            rt.block_on(weft_runtime::yield_now());
        }
        let barrier = Arc::new(Barrier::new(WAKERS));
        let wakers: Vec<_> = (0..WAKERS)
            .map(|_| {
                let (probe, barrier) = (probe.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..WAKES {
                        let waker = probe.waker.lock().unwrap().clone().unwrap();
                        waker.wake();
                    }
                })
            })
            .collect();
        let driver = {
            let handle = rt.handle().clone();
            std::thread::spawn(move || handle.block_on(yield_a_hundred_times()))
        };
        wakers.into_iter().for_each(|thread| thread.join().unwrap());
        probe.done.store(true, Ordering::SeqCst);
        probe.waker.lock().unwrap().clone().unwrap().wake();
        driver.join().unwrap();
        let polls = rt.block_on(handle).unwrap();
        assert!((2..=WAKERS * WAKES + 2).contains(&polls), "polls = {polls}");
        drop(probe.waker.lock().unwrap().take());
    }
}

/// Drives a runtime from another thread for a while (for the current-thread
/// flavour: its core polls woken tasks while the wakes arrive).
async fn yield_a_hundred_times() {
    for _ in 0..100 {
        weft_runtime::yield_now().await;
    }
}

/// no_starvation: two tasks that wake each other forever (each wake puts
/// the other in the LIFO slot) cannot starve a third task in the queue,
/// on either flavour: the LIFO cap sends the pair to the back of the queue.
#[test]
fn no_starvation_ping_pong_pair_cannot_starve_the_queue() {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicBool;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    /// Wakes its partner on every poll, until `done`.
    struct PingPong {
        mine: Arc<Mutex<Option<Waker>>>,
        partner: Arc<Mutex<Option<Waker>>>,
        done: Arc<AtomicBool>,
    }
    impl Future for PingPong {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.done.load(Ordering::SeqCst) {
                if let Some(partner) = self.partner.lock().unwrap().take() {
                    partner.wake();
                }
                return Poll::Ready(());
            }
            *self.mine.lock().unwrap() = Some(cx.waker().clone());
            if let Some(partner) = self.partner.lock().unwrap().take() {
                partner.wake();
            }
            Poll::Pending
        }
    }
    for rt in [current_thread(), multi_thread()] {
        let done = Arc::new(AtomicBool::new(false));
        let (a, b) = (Arc::new(Mutex::new(None)), Arc::new(Mutex::new(None)));
        let finished = rt.block_on({
            let done = done.clone();
            async move {
                let ping = weft_runtime::spawn(PingPong {
                    mine: a.clone(),
                    partner: b.clone(),
                    done: done.clone(),
                });
                let pong = weft_runtime::spawn(PingPong {
                    mine: b,
                    partner: a,
                    done: done.clone(),
                });
                // Give the pair a head start, then ask a third task to run.
                weft_runtime::yield_now().await;
                let third = weft_runtime::spawn(async move { done.store(true, Ordering::SeqCst) });
                third.await.unwrap();
                ping.await.unwrap();
                pong.await.unwrap();
                true
            }
        });
        assert!(finished);
    }
}

/// An idle blocking-pool thread exits after `thread_keep_alive`, with the
/// runtime still running, and the pool starts a new thread for the next
/// `spawn_blocking`. (The 10 s default is the same code path with a longer
/// wait.)
#[test]
fn idle_blocking_thread_exits_after_keep_alive_and_pool_restarts() {
    use std::sync::mpsc;
    use std::time::Duration;
    let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
    let stopped_tx = std::sync::Mutex::new(stopped_tx);
    let started = Arc::new(AtomicUsize::new(0));
    // Current-thread: the only threads the runtime starts are the pool's.
    let rt = weft_runtime::Builder::new_current_thread()
        .thread_keep_alive(Duration::from_millis(20))
        .on_thread_start({
            let started = started.clone();
            move || {
                started.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_thread_stop(move || {
            let _ = stopped_tx.lock().unwrap().send(());
        })
        .build()
        .unwrap();
    for round in 0..2 {
        assert_eq!(
            rt.block_on(rt.spawn_blocking(move || round)).unwrap(),
            round
        );
        stopped_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("round {round}: the idle thread did not exit"));
        // The next round's closure needs a new thread.
        assert_eq!(started.load(Ordering::SeqCst), round + 1);
    }
}

/// One link of a chain: spawns the next link as its last act, until
/// `left` runs out; then reports on `done`.
fn link(left: usize, done: std::sync::mpsc::Sender<()>) {
    if left == 0 {
        done.send(()).unwrap();
    } else {
        drop(weft_runtime::spawn(async move { link(left - 1, done) }));
    }
}

/// CORE-5 of the scheduler's `core.rs`: a chain of spawns, each task
/// spawning the next as its last act, runs on one worker. Every fourth
/// link its LIFO run ends and the next link goes to the back of the
/// worker's empty deque, where it is that worker's next task: the other
/// worker must stay asleep, not be woken to search, find nothing and park
/// again every few links (on a fresh runtime that was over 200 parks in
/// 20,000 links, and the chain took three times as long).
#[test]
fn a_chain_of_spawns_leaves_the_idle_worker_asleep() {
    const LINKS: usize = 20_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let before = rt.metrics().parks();
    let started = std::time::Instant::now();
    let (done, finished) = std::sync::mpsc::channel();
    drop(rt.spawn(async move { link(LINKS, done) }));
    finished.recv().unwrap();
    let parks = rt.metrics().parks() - before;
    // A few parks are the protocol's own: the worker woken for the first
    // link wakes the other to search once, and the driver holder wakes
    // every 5 ms to look for a stuck worker (STALL_CHECK_INTERVAL), which
    // a slow build (debug, valgrind) sees many times.
    let stall_checks = (started.elapsed().as_millis() / 5) as u64;
    assert!(
        parks <= 20 + 2 * stall_checks,
        "{parks} parks during a chain of {LINKS} spawns ({stall_checks} stall checks' worth)"
    );
}
