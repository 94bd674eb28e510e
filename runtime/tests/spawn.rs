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

/// Spawns `MANY_TASKS` no-op tasks from inside a task and joins them all.
fn many_tasks_spawned_inside(rt: &Runtime) {
    let counter = Arc::new(AtomicUsize::new(0));
    let total = rt.block_on({
        let counter = counter.clone();
        async move {
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
        }
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
