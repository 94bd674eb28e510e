//! Cancellation storm: many tasks wait on weft's primitives while other OS
//! threads abort them at pseudo-random moments, and afterwards every count
//! is exact.
//!
//! What it proves, through the facade only (`weft::...`):
//! - aborting a task at any moment (before its first poll, while it waits
//!   in a `Lock`/`Semaphore`/`Queue` wait list or on a `sleep` timer, while it holds the lock or a
//!   permit, after it finished) loses no permit, no item and no lock
//!   (the primitives' documented cancel-safety);
//! - every task's future is dropped exactly once, whether it completed or
//!   was cancelled, and a cancelled `JoinHandle` reports only after the
//!   drop (`JoinHandle::abort`'s docs);
//! - `metrics().alive_tasks()` is back to zero afterwards (no task leaked).
//!
//! Scale: each storm is a wave of `WAVE_TASKS` tasks; the default run does
//! a few waves (well under ten seconds in debug on two cores), and
//! `WEFT_SOAK=1` runs 1,000,000 tasks (scripts/soak.sh).
//!
//! Deterministic: the abort choices come from seeded generators and the
//! final counts do not depend on the interleaving; nothing sleeps.

mod reliability_support;

use reliability_support::{is_soak, scale, settle_alive_tasks, within, DropLedger, Rng};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use weft::sync::{Lock, Queue, Semaphore};
use weft::task::AbortHandle;

/// Tasks per storm wave (two waves by default; the soak runs many).
const WAVE_TASKS: usize = 25_000;

/// Tasks per wave in this run (fewer under a memory checker).
fn wave_tasks() -> usize {
    scale(WAVE_TASKS, WAVE_TASKS)
}
/// Waves in the soak variant: 40 x 25k = 1M tasks.
const SOAK_WAVES: usize = 40;
/// OS threads that abort tasks concurrently.
const ABORT_THREADS: u64 = 3;
/// Semaphore permits: few, so most semaphore tasks queue.
const PERMITS: usize = 8;
/// Queue capacity: small, so producers block too.
const QUEUE_CAPACITY: usize = 4;
/// The spawning task yields every this many spawns, so aborts, spawns and
/// polls interleave even on the current-thread runtime.
const SPAWNS_PER_YIELD: usize = 64;
/// How far (in spawned tasks) the abort threads may fall behind the spawner.
const MAX_ABORT_LAG: usize = 256;
/// Aborts held back to be fired later, at another moment of the task's life.
const DELAYED_ABORTS: usize = 32;
/// Sleeping tasks sleep 0..this many milliseconds (a few wheel slots).
const MAX_SLEEP_MS: u64 = 50;
/// Scheduling points a lock or permit holder keeps what it holds.
const HOLD_YIELDS: usize = 8;
/// A storm wave must finish within this (it takes about a second).
const WAVE_LIMIT: Duration = Duration::from_secs(60);

/// What one storm task waits on.
#[derive(Copy, Clone, Debug)]
enum Kind {
    /// Takes the lock, yields while holding it, increments the counter.
    Lock,
    /// Takes 1..=3 permits, yields while holding them.
    Semaphore,
    /// Puts one item (blocks while the queue is full).
    Producer,
    /// Gets one item (blocks while the queue is empty).
    Consumer,
    /// Sleeps on the runtime's timer wheel for 0..`MAX_SLEEP_MS`.
    Sleep,
}

impl Kind {
    fn of(index: usize) -> Kind {
        match index % 5 {
            0 => Kind::Lock,
            1 => Kind::Semaphore,
            2 => Kind::Producer,
            3 => Kind::Consumer,
            _ => Kind::Sleep,
        }
    }
}

/// The primitives every task of a wave shares, and what completed.
struct Shared {
    lock: Lock<u64>,
    semaphore: Semaphore,
    queue: Queue<u64>,
    locked: AtomicU64,
    permitted: AtomicU64,
    produced: AtomicU64,
    consumed: AtomicU64,
    slept: AtomicU64,
}

impl Shared {
    fn new() -> Arc<Shared> {
        Arc::new(Shared {
            lock: Lock::new(0),
            semaphore: Semaphore::new(PERMITS),
            queue: Queue::bounded(QUEUE_CAPACITY),
            locked: AtomicU64::new(0),
            permitted: AtomicU64::new(0),
            produced: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            slept: AtomicU64::new(0),
        })
    }
}

/// Holds a lock or permits across several scheduling points, so the wait
/// lists grow long and most aborts land on waiting tasks.
async fn hold() {
    for _ in 0..HOLD_YIELDS {
        weft::yield_now().await;
    }
}

/// One task's body. The counters are bumped right after the `await` that
/// completed the operation, with no `await` between: an abort lands only
/// at an `await`, so "operation done" and "counted" cannot be split.
async fn storm_task(shared: Arc<Shared>, kind: Kind, index: usize) {
    match kind {
        Kind::Lock => {
            let mut guard = shared.lock.lock().await;
            *guard += 1;
            shared.locked.fetch_add(1, Ordering::Relaxed);
            hold().await;
        }
        Kind::Semaphore => {
            let permits = shared.semaphore.acquire_many(1 + index % 3).await;
            shared.permitted.fetch_add(1, Ordering::Relaxed);
            hold().await;
            drop(permits);
        }
        Kind::Producer => {
            if shared.queue.put(index as u64).await.is_ok() {
                shared.produced.fetch_add(1, Ordering::Relaxed);
            }
        }
        Kind::Consumer => {
            if shared.queue.get().await.is_ok() {
                shared.consumed.fetch_add(1, Ordering::Relaxed);
            }
        }
        Kind::Sleep => {
            weft::time::sleep(Duration::from_millis(index as u64 % MAX_SLEEP_MS)).await;
            shared.slept.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Aborts some of the handles it receives: at once, later (after more
/// spawns and polls), or never, as its seeded generator decides.
fn abort_thread(seed: u64, handles: mpsc::Receiver<AbortHandle>, progress: &AtomicUsize) -> u64 {
    let mut rng = Rng::new(seed);
    let mut delayed: Vec<AbortHandle> = Vec::with_capacity(DELAYED_ABORTS);
    let mut aborts = 0;
    for handle in handles {
        match rng.below(4) {
            0 => {
                handle.abort();
                aborts += 1;
            }
            1 => delayed.push(handle),
            _ => {}
        }
        if delayed.len() == DELAYED_ABORTS {
            let victim = rng.below(DELAYED_ABORTS as u64) as usize;
            delayed.swap_remove(victim).abort();
            aborts += 1;
        }
        // Release: the spawner's Acquire load paces itself on this.
        progress.fetch_add(1, Ordering::Release);
    }
    aborts += delayed.len() as u64;
    delayed.into_iter().for_each(|handle| handle.abort());
    aborts
}

/// Final tallies of one wave.
#[derive(Debug, Default)]
struct Outcome {
    completed: usize,
    cancelled: usize,
}

/// Runs one storm wave on `rt` and checks every count.
fn storm_wave(rt: &weft::Runtime, tasks: usize, seed: u64) -> Outcome {
    let shared = Shared::new();
    let ledger = DropLedger::new(tasks);
    let progress = Arc::new(AtomicUsize::new(0));
    let outcome = rt.block_on(async {
        let (senders, aborters): (Vec<_>, Vec<_>) = (0..ABORT_THREADS)
            .map(|thread| {
                let (tx, rx) = mpsc::channel();
                let progress = progress.clone();
                let aborter =
                    std::thread::spawn(move || abort_thread(seed + thread, rx, &progress));
                (tx, aborter)
            })
            .unzip();
        let mut joins = Vec::with_capacity(tasks);
        for index in 0..tasks {
            let (shared, probe) = (shared.clone(), ledger.probe(index));
            let join = weft::spawn(async move {
                let _probe = probe;
                storm_task(shared, Kind::of(index), index).await
            });
            let _ = senders[index % senders.len()].send(join.abort_handle());
            joins.push(join);
            if index % SPAWNS_PER_YIELD == 0 {
                weft::yield_now().await;
                // Keep the abort threads close behind, so their aborts reach
                // tasks that are still waiting rather than long finished.
                while index - progress.load(Ordering::Acquire).min(index) > MAX_ABORT_LAG {
                    weft::yield_now().await;
                }
            }
        }
        drop(senders);
        // Join the abort threads off the runtime, so tasks keep running meanwhile.
        weft::spawn_blocking(move || {
            for aborter in aborters {
                aborter.join().expect("an abort thread panicked");
            }
        })
        .await
        .expect("joining the abort threads");
        // Releases consumers left waiting on an empty queue and producers on a full one.
        shared.queue.shutdown(false);
        let mut outcome = Outcome::default();
        for (index, join) in joins.into_iter().enumerate() {
            match join.await {
                Ok(()) => outcome.completed += 1,
                Err(err) if err.is_cancelled() => {
                    assert_eq!(
                        ledger.count(index),
                        1,
                        "task {index}: its JoinHandle reported cancelled before its future was dropped"
                    );
                    outcome.cancelled += 1;
                }
                Err(err) => panic!("storm task {index} failed: {err}"),
            }
        }
        outcome
    });
    assert_exact_counts(rt, &shared, &ledger, tasks, &outcome);
    outcome
}

fn assert_exact_counts(
    rt: &weft::Runtime,
    shared: &Shared,
    ledger: &DropLedger,
    tasks: usize,
    outcome: &Outcome,
) {
    assert_eq!(outcome.completed + outcome.cancelled, tasks);
    ledger.assert_each_dropped_once();
    assert_eq!(
        shared.semaphore.available_permits(),
        PERMITS,
        "a permit was lost or duplicated"
    );
    let guard = shared
        .lock
        .try_lock()
        .expect("the lock is free once every task is gone");
    assert_eq!(*guard, shared.locked.load(Ordering::Relaxed));
    let (produced, consumed) = (
        shared.produced.load(Ordering::Relaxed),
        shared.consumed.load(Ordering::Relaxed),
    );
    assert_eq!(
        produced,
        consumed + shared.queue.len() as u64,
        "an item was lost or duplicated (produced {produced}, consumed {consumed})"
    );
    assert!(
        shared.slept.load(Ordering::Relaxed) > 0,
        "no sleeping task woke: the timer never fired"
    );
    settle_alive_tasks(rt.handle(), 0);
}

fn multi_thread_runtime() -> weft::Runtime {
    weft::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime builds")
}

/// 50k tasks (1M with `WEFT_SOAK=1`) on two workers, aborted from three OS
/// threads while they wait on Lock, Semaphore, Queue and sleep: no permit, item or
/// lock is lost and every future is dropped exactly once.
#[test]
fn cancellation_storm_on_multi_thread_runtime_loses_nothing() {
    let waves = if is_soak() { SOAK_WAVES } else { 2 };
    within("multi-thread storm", WAVE_LIMIT * waves as u32, move || {
        let rt = multi_thread_runtime();
        let (mut cancelled, mut completed) = (0, 0);
        let start = std::time::Instant::now();
        for wave in 0..waves {
            let outcome = storm_wave(&rt, wave_tasks(), 1 + wave as u64 * 7);
            cancelled += outcome.cancelled;
            completed += outcome.completed;
        }
        eprintln!(
            "storm: {} tasks, {completed} completed, {cancelled} cancelled, in {:?}",
            waves * wave_tasks(),
            start.elapsed()
        );
        assert!(
            cancelled * 100 >= waves * wave_tasks(),
            "the storm cancelled under 1% of its tasks ({cancelled}): it tests too little"
        );
    });
}

/// The same storm on the current-thread runtime, where aborts come from
/// other threads through the injector while `block_on` runs the tasks.
#[test]
fn cancellation_storm_on_current_thread_runtime_loses_nothing() {
    within("current-thread storm", WAVE_LIMIT, || {
        let rt = weft::Builder::new_current_thread()
            .build()
            .expect("runtime builds");
        let outcome = storm_wave(&rt, wave_tasks() / 2, 99);
        assert!(outcome.cancelled > 0, "the storm aborted nothing");
    });
}

/// Aborting every task of a wave right after spawning it (most before
/// their first poll) still drops each future exactly once.
#[test]
fn aborting_every_task_before_its_first_poll_drops_each_future_once() {
    within("abort-all storm", WAVE_LIMIT, || {
        let rt = multi_thread_runtime();
        let tasks = wave_tasks() / 5;
        let ledger = DropLedger::new(tasks);
        let joins: Vec<_> = (0..tasks)
            .map(|index| {
                let probe = ledger.probe(index);
                let join = rt.spawn(async move {
                    let _probe = probe;
                    std::future::pending::<()>().await
                });
                join.abort();
                join
            })
            .collect();
        rt.block_on(async {
            for join in joins {
                let err = join.await.expect_err("a pending task only ends by abort");
                assert!(err.is_cancelled());
            }
        });
        ledger.assert_each_dropped_once();
        settle_alive_tasks(rt.handle(), 0);
    });
}
