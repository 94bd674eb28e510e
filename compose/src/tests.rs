//! Behaviour of `gather`, `try_gather` and `race`, run on the tiny
//! `testing::block_on` executor.

use super::testing::{block_on, block_on_budgeted, budgeted, DropCounter, Turnstiles, YieldTimes};
use super::{gather, race, try_gather};
use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A future that finishes after `yields` self-wakes, returning `value`.
async fn after<T>(yields: usize, value: T) -> T {
    YieldTimes(yields).await;
    value
}

#[test]
fn gather_returns_outputs_in_input_order_not_completion_order() {
    let yields = [5, 0, 3, 1, 4];
    let out = block_on(gather(yields.iter().map(|&y| after(y, y * 10))));
    assert_eq!(out, vec![50, 0, 30, 10, 40]);
}

#[test]
fn gather_of_nothing_is_an_empty_vec() {
    let out = block_on(gather(Vec::<BoxFuture<u8>>::new()));
    assert!(out.is_empty());
}

#[test]
fn gather_of_results_returns_every_result_like_return_exceptions() {
    let out = block_on(gather((0..6).map(|i| async move {
        YieldTimes(i % 3).await;
        if i % 3 == 0 {
            Err(format!("item {i} failed"))
        } else {
            Ok(i)
        }
    })));
    let failures = out.iter().filter(|r| r.is_err()).count();
    assert_eq!(failures, 2, "results: {out:?}");
    assert_eq!(out[1], Ok(1));
}

/// Gathering N turnstiles that finish one at a time costs exactly 2N - 1
/// child polls: every child is polled once, then only the woken one.
#[test]
fn gather_polls_only_woken_children_so_cost_is_linear() {
    for count in [1, 10, 1000, 20_000] {
        let gates = Turnstiles::new(count);
        let out = block_on(gather((0..count).map(|i| gates.wait(i))));
        assert_eq!(out, (0..count).collect::<Vec<_>>());
        assert_eq!(
            gates.polls(),
            2 * count - 1,
            "child polls for {count} children"
        );
    }
}

/// Children behind a cooperative budget (128 polls per parent poll) that
/// wake themselves once it is spent: the gather yields instead of polling
/// the rest of its batch for nothing, so the cost stays linear.
#[test]
fn gather_under_a_cooperative_budget_stays_linear() {
    const CHILDREN: usize = 20_000;
    const BUDGET: usize = 128;
    let polls = Arc::new(AtomicUsize::new(0));
    let out = block_on_budgeted(
        BUDGET,
        gather((0..CHILDREN).map(|i| budgeted(std::future::ready(i), Arc::clone(&polls)))),
    );
    assert_eq!(out.len(), CHILDREN);
    let polls = polls.load(Ordering::SeqCst);
    assert!(
        polls < 2 * CHILDREN,
        "{polls} child polls for {CHILDREN} children"
    );
}

#[test]
fn try_gather_returns_all_values_when_every_future_succeeds() {
    let out: Result<Vec<u32>, String> = block_on(try_gather(
        (0..4).map(|i| async move { after(i as usize, Ok(i)).await }),
    ));
    assert_eq!(out, Ok(vec![0, 1, 2, 3]));
}

#[test]
fn try_gather_returns_the_first_error_and_drops_the_rest_at_once() {
    let (tracked, drops) = DropCounter::new();
    let slow: BoxFuture<Result<u32, &str>> = Box::pin(async move {
        let _tracked = tracked;
        pending::<()>().await;
        Ok(1)
    });
    let failing: BoxFuture<Result<u32, &str>> = Box::pin(after(2, Err("second failed")));
    let later_failing: BoxFuture<Result<u32, &str>> = Box::pin(after(5, Err("third failed")));
    let out = block_on(try_gather([slow, failing, later_failing]));
    assert_eq!(out, Err("second failed"));
    assert_eq!(
        drops.get(),
        1,
        "the pending child is dropped when the error arrives"
    );
}

#[test]
fn race_returns_the_first_to_finish_and_drops_the_others() {
    let (tracked, drops) = DropCounter::new();
    let loser: BoxFuture<&str> = Box::pin(async move {
        let _tracked = tracked;
        after(10, "slow").await
    });
    let winner: BoxFuture<&str> = Box::pin(after(3, "fast"));
    assert_eq!(block_on(race([loser, winner])), "fast");
    assert_eq!(drops.get(), 1);
}

#[test]
fn race_is_linear_too() {
    let count = 10_000;
    let gates = Turnstiles::new(count);
    // Only the last turnstile can finish first.
    assert_eq!(block_on(race((0..count).map(|i| gates.wait(i)))), count - 1);
    assert_eq!(gates.polls(), count);
}

#[test]
#[should_panic(expected = "race needs at least one future")]
fn race_of_nothing_panics_at_construction() {
    drop(race(Vec::<BoxFuture<()>>::new()));
}

#[test]
fn dropping_a_pending_gather_drops_every_unfinished_child() {
    let trackers: Vec<_> = (0..5).map(|_| DropCounter::new()).collect();
    let (counters, drops): (Vec<_>, Vec<_>) = trackers.into_iter().unzip();
    let mut all = gather(counters.into_iter().map(|tracked| async move {
        let _tracked = tracked;
        pending::<()>().await;
    }));
    struct Noop;
    impl Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = Waker::from(std::sync::Arc::new(Noop));
    assert!(Pin::new(&mut all)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert_eq!(drops.iter().map(|d| d.get()).sum::<usize>(), 0);
    drop(all);
    assert_eq!(drops.iter().map(|d| d.get()).sum::<usize>(), 5);
}

/// Children woken from other threads: the gather still sees every wake.
#[test]
fn gather_of_children_woken_from_other_threads_completes() {
    const CHILDREN: usize = 50;
    let out = block_on(gather((0..CHILDREN).map(|i| async move {
        let (sender, receiver) = std::sync::mpsc::channel::<Waker>();
        let mut sender = Some(sender);
        let handle = std::thread::spawn(move || {
            if let Ok(waker) = receiver.recv() {
                waker.wake();
            }
        });
        std::future::poll_fn(|cx| match sender.take() {
            Some(sender) => {
                sender
                    .send(cx.waker().clone())
                    .expect("waker thread is alive");
                Poll::Pending
            }
            None => Poll::Ready(()),
        })
        .await;
        handle.join().expect("waker thread panicked");
        i
    })));
    assert_eq!(out, (0..CHILDREN).collect::<Vec<_>>());
}

/// Compile-time check of the auto traits of every public type: a combinator
/// is `Send`/`Sync` when its children and outputs are, and always `Unpin`
/// (its children are pinned in their own allocation).
#[test]
fn public_types_have_the_expected_auto_traits() {
    fn send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn unpin<T: Unpin>() {}
    type SendFuture = std::future::Ready<u8>;
    send_sync_unpin::<super::Gather<SendFuture>>();
    send_sync_unpin::<super::TryGather<std::future::Ready<Result<u8, ()>>, u8>>();
    send_sync_unpin::<super::Race<SendFuture>>();
    // weft-runtime's TaskGroup holds one, and is Send + Sync through it.
    send_sync_unpin::<super::ready::ReadyList>();
    // Not Send children still give Unpin combinators, usable in one task.
    unpin::<super::Gather<std::future::Ready<std::rc::Rc<u8>>>>();
    unpin::<super::Race<std::pin::Pin<Box<dyn Future<Output = ()>>>>>();
}
