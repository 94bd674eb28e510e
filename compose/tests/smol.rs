//! weft-compose under another executor: smol's, with wake-ups from
//! async-io's timers, and no weft runtime anywhere in this test's
//! dependency graph (weft-compose depends on no weft crate, and this test
//! binary links only it and smol). If a combinator relied on weft's
//! scheduler, thread-locals or budget, these would hang or fail.
//!
//! Not built under `--cfg loom` (smol is no dependency then; see
//! Cargo.toml).
#![cfg(not(loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use smol::Timer;
use weft_compose::stream::{unfold, StreamExt};
use weft_compose::{gather, join, race, select, try_gather};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts how many of its values were dropped.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn gather_on_smol_returns_outputs_in_input_order() {
    // The first input finishes last: the wake order is the reverse of the
    // input order, and the output still follows the input.
    let outputs = smol::block_on(gather((0..5u64).map(|i| async move {
        Timer::after(ms(5 * (5 - i))).await;
        i * 10
    })));
    assert_eq!(outputs, [0, 10, 20, 30, 40]);
}

#[test]
fn try_gather_on_smol_stops_at_the_first_error() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let result: Result<Vec<u32>, &str> = smol::block_on(try_gather((0..3u32).map(|i| {
        let guard = Dropped(Arc::clone(&dropped));
        async move {
            let _guard = guard;
            if i == 1 {
                Timer::after(ms(5)).await;
                return Err("child 1 failed");
            }
            std::future::pending::<()>().await;
            Ok(i)
        }
    })));
    assert_eq!(result, Err("child 1 failed"));
    // The two children that never finish were dropped, not leaked.
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
}

#[test]
fn race_on_smol_returns_the_first_to_finish_and_drops_the_rest() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let winner = smol::block_on(race([40u64, 5, 80].map(|delay| {
        let guard = Dropped(Arc::clone(&dropped));
        Box::pin(async move {
            let _guard = guard;
            Timer::after(ms(delay)).await;
            delay
        })
    })));
    assert_eq!(winner, 5);
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
}

#[test]
fn join_and_select_on_smol() {
    let (joined, selected) = smol::block_on(async {
        let joined = join!(
            async {
                Timer::after(ms(10)).await;
                "slow"
            },
            async { 7u8 },
        );
        let selected = select! {
            late = Timer::after(ms(200)) => format!("timer at {late:?}"),
            word = async {
                Timer::after(ms(5)).await;
                "early"
            } => word.to_string(),
        };
        (joined, selected)
    });
    assert_eq!(joined, ("slow", 7));
    assert_eq!(selected, "early");
}

#[test]
fn stream_adapters_on_smol() {
    // An async generator whose every item waits on a timer.
    let numbers = unfold(0u32, |n| async move {
        Timer::after(ms(1)).await;
        Some((n, n + 1))
    });
    let evens: Vec<u32> = smol::block_on(
        numbers
            .filter(|n| n % 2 == 0)
            .map(|n| n * n)
            .take(4)
            .collect(),
    );
    assert_eq!(evens, [0, 4, 16, 36]);
}

#[test]
fn gather_on_a_multi_threaded_smol_executor() {
    // Children woken from other threads (spawned smol tasks on an executor
    // run by four threads) while the gather is polled on this one.
    let executor = Arc::new(smol::Executor::new());
    let (stop, shutdown) = smol::channel::unbounded::<()>();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let executor = Arc::clone(&executor);
            let shutdown = shutdown.clone();
            std::thread::spawn(move || smol::block_on(executor.run(shutdown.recv())))
        })
        .collect();
    let sum = smol::block_on(gather((0..64u64).map(|i| {
        executor.spawn(async move {
            Timer::after(ms(i % 7)).await;
            i
        })
    })))
    .into_iter()
    .sum::<u64>();
    assert_eq!(sum, (0..64).sum::<u64>());
    drop(stop);
    for thread in threads {
        let ended = thread.join().expect("an executor thread panicked");
        assert!(
            ended.is_err(),
            "an executor thread runs until the channel closes"
        );
    }
}
