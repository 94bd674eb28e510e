//! Does `gather` stay linear? (issue 6)
//!
//! Gathers N futures that finish one at a time, each woken by the one
//! before it (a chain of `Event`s), so there are N wakes and a combinator
//! that re-polls every child on each wake would do N²/2 child polls. weft's
//! `gather` polls only the child that was woken, so the time per future
//! stays flat as N doubles. `futures_util::future::join_all` runs beside it
//! on the same runtime for reference.
//!
//! Run: `cargo bench --bench gather_scaling` (a few seconds).

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::sync::Event;

/// Chain lengths measured; each doubles the previous one.
const SIZES: [usize; 4] = [10_000, 20_000, 40_000, 80_000];

/// Builds the chain: future `i` waits for event `i`, then sets event `i + 1`.
fn chain(
    len: usize,
) -> (
    Arc<Vec<Event>>,
    Vec<impl std::future::Future<Output = usize>>,
) {
    let events: Arc<Vec<Event>> = Arc::new((0..=len).map(|_| Event::new()).collect());
    let futures = (0..len)
        .map(|index| {
            let events = events.clone();
            async move {
                events[index].wait().await;
                events[index + 1].set();
                index
            }
        })
        .collect();
    (events, futures)
}

/// Times one gather of a chain of `len` with the given combinator.
fn time_one<G, Fut>(rt: &weft::Runtime, len: usize, gather: G) -> Duration
where
    G: FnOnce(Vec<std::pin::Pin<Box<dyn std::future::Future<Output = usize>>>>) -> Fut,
    Fut: std::future::Future<Output = Vec<usize>>,
{
    let (events, futures) = chain(len);
    let boxed = futures
        .into_iter()
        .map(|f| Box::pin(f) as std::pin::Pin<Box<dyn std::future::Future<Output = usize>>>)
        .collect();
    rt.block_on(async {
        let started = Instant::now();
        let gathering = gather(boxed);
        events[0].set();
        let out = gathering.await;
        let took = started.elapsed();
        assert_eq!(out.len(), len, "every future finished");
        assert!(events[len].is_set(), "the chain ran to its end");
        took
    })
}

fn main() {
    let rt = weft::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime");
    println!("gather of N futures finishing one at a time (N wakes), current-thread runtime");
    println!(
        "{:>8} {:>14} {:>14} {:>16} {:>16}",
        "N", "weft::gather", "per future", "join_all", "per future"
    );
    for len in SIZES {
        let best = |run: &dyn Fn() -> Duration| (0..3).map(|_| run()).min().expect("three runs");
        let weft = best(&|| time_one(&rt, len, weft::gather));
        let join_all = best(&|| time_one(&rt, len, futures_util::future::join_all));
        println!(
            "{len:>8} {:>14.2?} {:>14.0?} {:>16.2?} {:>16.0?}",
            weft,
            weft / len as u32,
            join_all,
            join_all / len as u32
        );
    }
}
