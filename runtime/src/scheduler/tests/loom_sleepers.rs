//! Summary: loom models of the sleeper/notify protocol of `sleepers.rs`
//! (SLEEP-1: a queued task never finds every worker asleep).
//!
//! Role: run with
//! `RUSTFLAGS="--cfg loom" cargo test -p weft-runtime --release --lib loom`.
//!
//! Design: the run queue is modelled by one atomic flag ("a task is
//! queued"), written the way crossbeam's push publishes (Release) and read
//! the way `has_stealable_work` reads (Acquire); the real `Sleepers` runs
//! against it. Each model races a notifier (N1..N4) with a worker going to
//! sleep (S1..S4) and checks that somebody ends up responsible for the task.
//!
//! Invariants checked: SLEEP-1, SLEEP-2, SLEEP-3.
//!
//! Concurrency: models only.

use crate::scheduler::sleepers::Sleepers;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Preemption bound: the race is between two threads of a few steps each;
/// 3 covers every interleaving that matters and finishes in seconds.
const PREEMPTION_BOUND: usize = 3;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTION_BOUND);
    builder.check(f);
}

/// The last searcher parks while a task is queued: either the notifier
/// wakes a sleeper, or the parking searcher's re-check (S3) sees the task
/// and wakes one itself.
#[test]
fn loom_last_searcher_parking_races_notify() {
    model(|| {
        let idle = Arc::new(Sleepers::new(2));
        let queued = Arc::new(AtomicBool::new(false));
        // Worker 1 is asleep; worker 0 searched and found nothing.
        assert!(!idle.transition_worker_to_parked(1, false));
        assert!(idle.transition_worker_to_searching());
        let notifier = {
            let (idle, queued) = (idle.clone(), queued.clone());
            thread::spawn(move || {
                queued.store(true, Ordering::Release); // N1
                idle.worker_to_notify() // N2..N4
            })
        };
        let is_last_searcher = idle.transition_worker_to_parked(0, true); // S1, S2
        let from_parker = if is_last_searcher && queued.load(Ordering::Acquire) {
            idle.worker_to_notify() // S3, S4
        } else {
            None
        };
        let from_notifier = notifier.join().unwrap();
        assert!(
            from_notifier.is_some() || from_parker.is_some(),
            "lost wakeup: a task is queued and every worker sleeps (SLEEP-1)"
        );
        assert!(
            from_notifier.is_none() || from_parker.is_none() || from_notifier != from_parker,
            "a worker woken twice (SLEEP-2)"
        );
    });
}

/// A searcher that finds work wakes one more sleeper only if it was the
/// last searcher, and a concurrent notifier then does not wake the same
/// sleeper a second time.
#[test]
fn loom_searcher_finding_work_races_notify() {
    model(|| {
        let idle = Arc::new(Sleepers::new(3));
        assert!(!idle.transition_worker_to_parked(1, false));
        assert!(!idle.transition_worker_to_parked(2, false));
        assert!(idle.transition_worker_to_searching());
        let notifier = {
            let idle = idle.clone();
            thread::spawn(move || idle.worker_to_notify())
        };
        let from_searcher = if idle.transition_worker_from_searching() {
            idle.worker_to_notify()
        } else {
            None
        };
        let from_notifier = notifier.join().unwrap();
        assert!(
            from_notifier.is_some() || from_searcher.is_some(),
            "nobody woken after the last searcher found work"
        );
        if let (Some(a), Some(b)) = (from_notifier, from_searcher) {
            assert_ne!(a, b, "a worker woken twice (SLEEP-2)");
        }
    });
}

/// A worker parked in the drivers wakes with tasks of its own and leaves
/// the sleepers itself while a notifier picks a sleeper: the counts stay
/// consistent (SLEEP-2, SLEEP-3) whichever wins, and a worker the notifier
/// took out is counted as searching, never unparked twice.
#[test]
fn loom_worker_leaving_park_with_own_tasks_races_notify() {
    model(|| {
        let idle = Arc::new(Sleepers::new(2));
        assert!(!idle.transition_worker_to_parked(0, false));
        assert!(!idle.transition_worker_to_parked(1, false));
        let notifier = {
            let idle = idle.clone();
            thread::spawn(move || idle.worker_to_notify())
        };
        let left_by_itself = idle.transition_worker_from_parked(0);
        let notified = notifier.join().unwrap();
        assert!(idle.is_unparked(0), "worker 0 runs its own tasks");
        match notified {
            Some(0) => assert!(!left_by_itself, "worker 0 unparked twice (SLEEP-2)"),
            Some(1) => assert!(left_by_itself && idle.is_unparked(1)),
            None => assert!(left_by_itself, "nobody took worker 0 out"),
            Some(other) => panic!("no worker {other}"),
        }
        assert!(!idle.is_all_parked(), "SLEEP-3: someone is unparked");
    });
}
