//! `gather`, `race` and `TaskGroup` on the real runtime: completion order,
//! cancellation on drop, fail-fast, and the linear cost of gathering many
//! futures that wake one at a time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::task::TaskGroup;

/// Futures in the large gather: big enough that a quadratic combinator
/// (N²/2 = 5·10⁹ polls) could not finish, small enough for a debug build.
const MANY: usize = 100_000;
/// Generous wall-clock bound for the large gather in a debug build.
const MANY_BUDGET: Duration = Duration::from_secs(20);
/// The same under a memory checker (`WEFT_CHECKER=1`): valgrind took
/// 28.5 s; a quadratic gather would still take days.
const MANY_BUDGET_UNDER_CHECKER: Duration = Duration::from_secs(300);

/// Counts drops, to observe cancellation.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// 100k spawned tasks gathered through their join handles: each completes
/// and wakes its own slot, so the gather stays linear.
#[test]
fn gather_of_a_hundred_thousand_join_handles_finishes_quickly() {
    let started = Instant::now();
    let total = weft::run(async {
        let handles = (0..MANY).map(|i| weft::spawn(async move { i % 7 }));
        weft::gather(handles)
            .await
            .into_iter()
            .map(|result| result.expect("no task panics"))
            .sum::<usize>()
    });
    assert_eq!(total, (0..MANY).map(|i| i % 7).sum::<usize>());
    let under_checker = std::env::var("WEFT_CHECKER").is_ok_and(|value| value == "1");
    let budget = match under_checker {
        true => MANY_BUDGET_UNDER_CHECKER,
        false => MANY_BUDGET,
    };
    assert!(started.elapsed() < budget, "took {:?}", started.elapsed());
}

/// `join_next` yields results in completion order, not spawn order.
#[test]
fn task_group_joins_in_completion_order() {
    let order = weft::run(async {
        let mut group = TaskGroup::new();
        let gates: Vec<_> = (0..3).map(|_| Arc::new(weft::sync::Event::new())).collect();
        for (name, gate) in ["first spawned", "second spawned", "third spawned"]
            .into_iter()
            .zip(&gates)
        {
            let gate = Arc::clone(gate);
            group.spawn(async move {
                gate.wait().await;
                name
            });
        }
        let mut order = Vec::new();
        for gate in gates.iter().rev() {
            gate.set();
            order.push(
                group
                    .join_next()
                    .await
                    .expect("a task is left")
                    .expect("no panic"),
            );
        }
        assert!(group.join_next().await.is_none());
        order
    });
    assert_eq!(order, ["third spawned", "second spawned", "first spawned"]);
}

/// Dropping a group aborts its members, and their destructors run.
#[test]
fn dropping_a_task_group_cancels_every_member() {
    let drops = Arc::new(AtomicUsize::new(0));
    weft::run({
        let drops = Arc::clone(&drops);
        async move {
            let mut group = TaskGroup::new();
            for _ in 0..10 {
                let guard = DropCount(Arc::clone(&drops));
                group.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            assert_eq!(group.len(), 10);
            weft::yield_now().await;
            drop(group);
            // The aborts are processed by the workers; wait for all ten.
            let all_dropped = async {
                while drops.load(Ordering::SeqCst) < 10 {
                    weft::yield_now().await;
                }
            };
            weft::time::timeout(Duration::from_secs(5), all_dropped)
                .await
                .expect("aborted members are dropped promptly");
        }
    });
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}

/// The fail-fast recipe: on the first error, abort_all, then the rest
/// come back cancelled.
#[test]
fn task_group_fail_fast_recipe_cancels_the_siblings() {
    let (first_error, cancelled) = weft::run(async {
        let mut group: TaskGroup<Result<u32, String>> = TaskGroup::new();
        for i in 0..5 {
            group.spawn(async move {
                if i == 3 {
                    return Err(format!("task {i} failed"));
                }
                std::future::pending::<()>().await;
                Ok(i)
            });
        }
        let mut first_error = None;
        while let Some(result) = group.join_next().await {
            match result {
                Ok(Err(err)) if first_error.is_none() => {
                    first_error = Some(err);
                    group.abort_all();
                }
                Err(join_error) if join_error.is_cancelled() => {}
                other => panic!("unexpected result {other:?}"),
            }
            if first_error.is_some() {
                break;
            }
        }
        let rest = group.join_all().await;
        (
            first_error,
            rest.iter()
                .filter(|r| r.as_ref().is_err_and(|e| e.is_cancelled()))
                .count(),
        )
    });
    assert_eq!(first_error.as_deref(), Some("task 3 failed"));
    assert_eq!(cancelled, 4);
}

/// A panicking member is reported as a panic JoinError; the others finish.
#[test]
fn task_group_join_all_returns_panics_as_errors() {
    let results = weft::run(async {
        let mut group = TaskGroup::new();
        group.spawn(async { 1 });
        group.spawn(async { panic!("member panicked on purpose") });
        group.spawn(async { 3 });
        group.join_all().await
    });
    assert_eq!(results.len(), 3);
    assert_eq!(
        results
            .iter()
            .filter(|r| r.as_ref().is_err_and(|e| e.is_panic()))
            .count(),
        1
    );
    let mut values: Vec<i32> = results.into_iter().filter_map(Result::ok).collect();
    values.sort_unstable();
    assert_eq!(values, [1, 3]);
}

/// `race` on the runtime: the first timer wins and the other is dropped.
///
/// On the paused clock: the racers' sleeps are armed one after another in
/// the first poll, and on the real clock a first poll slower than the gap
/// between two deadlines (67 ms for the first `Sleep` poll under valgrind)
/// lets the 30 ms deadline pass before the 5 ms one is armed, so both are
/// due at the next poll and `race` rightly returns the first ready in
/// index order. The paused clock stands still while the racers are armed
/// and jumps only to the earliest deadline.
#[test]
fn race_of_timers_returns_the_earliest_and_drops_the_rest() {
    let drops = Arc::new(AtomicUsize::new(0));
    let runtime = weft::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let winner = runtime.block_on({
        let drops = Arc::clone(&drops);
        async move {
            let racers = [30u64, 5, 60].map(|ms| {
                let guard = DropCount(Arc::clone(&drops));
                Box::pin(async move {
                    let _guard = guard;
                    weft::time::sleep(Duration::from_millis(ms)).await;
                    ms
                })
            });
            weft::race(racers).await
        }
    });
    assert_eq!(winner, 5);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "winner and losers are all dropped"
    );
}

/// Dropping a `join_next` future that is still waiting loses nothing: the
/// next calls still return every result.
#[test]
fn a_dropped_join_next_loses_no_result() {
    let results = weft::run(async {
        let gate = Arc::new(weft::sync::Event::new());
        let mut group = TaskGroup::new();
        for id in 0..3u32 {
            let gate = Arc::clone(&gate);
            group.spawn(async move {
                gate.wait().await;
                id
            });
        }
        let gave_up = weft::select! {
            joined = group.join_next() => joined.is_none(),
            () = weft::yield_now() => true,
        };
        assert!(gave_up, "no task can finish before the gate opens");
        gate.set();
        let mut ids: Vec<u32> = group
            .join_all()
            .await
            .into_iter()
            .map(|r| r.expect("no panic"))
            .collect();
        ids.sort_unstable();
        ids
    });
    assert_eq!(results, [0, 1, 2]);
}

/// `TaskGroup::spawn` is `#[track_caller]`: the task dump names the line
/// that called it, not a line inside weft.
#[test]
fn task_group_members_are_reported_at_the_callers_line() {
    let files = weft::run(async {
        let mut group = TaskGroup::new();
        group.spawn(std::future::pending::<()>());
        let dump = weft::Handle::current().dump();
        let files: Vec<String> = dump
            .tasks()
            .iter()
            .map(|task| task.spawned_at().file().to_string())
            .collect();
        group.abort_all();
        files
    });
    assert!(
        files
            .iter()
            .any(|file| file.ends_with("patterns_compose.rs")),
        "spawn sites: {files:?}"
    );
}

/// Stress: thousands of members on a multi-thread runtime, half of them
/// aborted from a blocking-pool thread while they run. Every member is
/// joined exactly once (finished or cancelled), the ones never aborted all
/// finish, and every future is dropped exactly once.
#[test]
fn stress_task_group_with_aborts_from_another_thread() {
    const MEMBERS: usize = 4_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let (finished, cancelled, untouched_finished) = weft::run({
        let drops = Arc::clone(&drops);
        async move {
            let mut group = TaskGroup::new();
            let mut to_abort = Vec::new();
            for i in 0..MEMBERS {
                let guard = DropCount(Arc::clone(&drops));
                let abort = group.spawn(async move {
                    let _guard = guard;
                    for _ in 0..i % 4 {
                        weft::yield_now().await;
                    }
                    i
                });
                if i % 2 == 1 {
                    to_abort.push(abort);
                }
            }
            let aborter = weft::spawn_blocking(move || to_abort.iter().for_each(|h| h.abort()));
            let results = group.join_all().await;
            aborter.await.expect("the aborting thread does not panic");
            let finished: Vec<usize> = results
                .iter()
                .filter_map(|r| r.as_ref().ok().copied())
                .collect();
            let cancelled = results
                .iter()
                .filter(|r| r.as_ref().is_err_and(|e| e.is_cancelled()))
                .count();
            let untouched = finished.iter().filter(|i| *i % 2 == 0).count();
            (finished.len(), cancelled, untouched)
        }
    });
    assert_eq!(
        finished + cancelled,
        MEMBERS,
        "every member joined exactly once"
    );
    assert_eq!(
        untouched_finished,
        MEMBERS / 2,
        "members never aborted all finish"
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        MEMBERS,
        "every future dropped exactly once"
    );
}
