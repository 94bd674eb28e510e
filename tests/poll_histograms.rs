//! The poll-time and schedule-latency histograms
//! (`Builder::enable_poll_time_histogram`, `RuntimeMetrics::poll_time_histogram`,
//! `RuntimeMetrics::schedule_latency_histogram`), through the facade: a
//! poll that blocks for 5 ms lands in the bucket that holds its duration,
//! every poll is counted once, the quantiles are monotone, the per-worker
//! histograms add up to the merged one, and a runtime without the switch
//! reports `None`; both flavours.
//!
//! Each scenario runs under the watchdog of `reliability_support::within`.

mod reliability_support;

use reliability_support::{flavours, is_checker, within};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);
/// How long the slow poll blocks its thread.
const SLOW_POLL: Duration = Duration::from_millis(5);

/// The metrics once every poll has been recorded: a worker records a
/// poll's duration just after the poll, so right after a JoinHandle
/// returns the last entry may still be on its way. Waits (bounded by the
/// watchdog) until the poll-time histogram counts every poll.
fn settled_metrics(rt: &weft::Runtime) -> weft::RuntimeMetrics {
    loop {
        let metrics = rt.metrics();
        let recorded = metrics.poll_time_histogram().expect("enabled").count();
        if recorded == metrics.polls() {
            return metrics;
        }
        std::thread::yield_now();
    }
}

/// A task whose one poll sleeps for 5 ms is counted in the bucket that
/// holds the poll's duration: at least the 5 ms it slept (measured inside
/// the poll), and at most that plus a millisecond of overhead; every other
/// poll of the run is short. The poll count of the histogram equals the
/// runtime's poll counter, and the per-worker histograms sum to it.
#[test]
fn a_poll_that_sleeps_5_ms_lands_in_the_bucket_that_holds_it() {
    within("5 ms bucket", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .enable_poll_time_histogram()
                .build()
                .expect("runtime builds");
            let slept = rt.block_on(async {
                let slow = weft::spawn(async {
                    let start = Instant::now();
                    std::thread::sleep(SLOW_POLL);
                    start.elapsed()
                });
                let slept = slow.await.unwrap();
                for _ in 0..20 {
                    weft::spawn(async {}).await.unwrap();
                }
                slept
            });
            let metrics = settled_metrics(&rt);
            let polls = metrics.poll_time_histogram().expect("enabled");
            let per_worker: u64 = metrics
                .workers()
                .iter()
                .map(|worker| worker.poll_time_histogram().expect("enabled").count())
                .sum();
            assert_eq!(per_worker, polls.count(), "{flavour}: workers add up");
            if is_checker() {
                // Under a memory checker any poll may take milliseconds
                // (valgrind translates code the first time it runs): the
                // buckets are compared only at full speed.
                continue;
            }
            let slow_buckets: Vec<_> = polls
                .buckets()
                .filter(|(range, count)| *count > 0 && range.end > Duration::from_millis(4))
                .collect();
            assert_eq!(slow_buckets.len(), 1, "{flavour}: {polls:?}");
            let (range, count) = slow_buckets[0].clone();
            assert_eq!(count, 1, "{flavour}: only the sleeping poll is that slow");
            assert!(
                range.end > slept && range.start <= slept + Duration::from_millis(1),
                "{flavour}: slept {slept:?} inside the poll, counted in {range:?}"
            );
            assert!(
                range.start >= Duration::from_millis(4),
                "{flavour}: {range:?}"
            );
        }
    });
}

/// Schedule latency: every poll of a spawned task follows a wake or a
/// spawn that queued it, so the histogram counts one entry per poll, and a
/// task queued behind a 5 ms poll on a one-worker runtime waited at least
/// that long.
#[test]
fn schedule_latency_counts_every_poll_and_sees_a_wait_behind_a_slow_poll() {
    within("schedule latency", LIMIT, || {
        let rt = weft::Builder::new_current_thread()
            .enable_poll_time_histogram()
            .build()
            .expect("runtime builds");
        rt.block_on(async {
            // Queued together: the second waits for the first's slow poll.
            let slow = weft::spawn(async { std::thread::sleep(SLOW_POLL) });
            let waiting = weft::spawn(async {});
            slow.await.unwrap();
            waiting.await.unwrap();
        });
        let metrics = settled_metrics(&rt);
        let waits = metrics.schedule_latency_histogram().expect("enabled");
        assert_eq!(waits.count(), metrics.polls());
        assert!(
            waits.quantile(1.0) >= SLOW_POLL,
            "the task queued behind the slow poll waited: {waits:?}"
        );
    });
}

/// Quantiles of a real run never decrease as `q` grows.
#[test]
fn quantiles_of_a_run_are_monotone() {
    within("monotone quantiles", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .enable_poll_time_histogram()
                .build()
                .expect("runtime builds");
            rt.block_on(async {
                let tasks: Vec<_> = (0..200u32)
                    .map(|n| {
                        weft::spawn(async move {
                            for _ in 0..n % 7 {
                                weft::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            let metrics = rt.metrics();
            for histogram in [
                metrics.poll_time_histogram().expect("enabled"),
                metrics.schedule_latency_histogram().expect("enabled"),
            ] {
                assert!(histogram.count() >= 200, "{flavour}");
                let mut previous = Duration::ZERO;
                for step in 0..=1000 {
                    let q = f64::from(step) / 1000.0;
                    let value = histogram.quantile(q);
                    assert!(value >= previous, "{flavour}: quantile({q}) went down");
                    previous = value;
                }
            }
        }
    });
}

/// Without the switch both histograms are `None`, on the runtime and on
/// every worker.
#[test]
fn histograms_are_none_unless_enabled() {
    within("off means None", LIMIT, || {
        for (flavour, mut builder) in flavours() {
            let rt = builder.build().expect("runtime builds");
            rt.block_on(async { weft::spawn(async {}).await.unwrap() });
            let metrics = rt.metrics();
            assert!(metrics.poll_time_histogram().is_none(), "{flavour}");
            assert!(metrics.schedule_latency_histogram().is_none(), "{flavour}");
            assert!(metrics.workers().iter().all(|worker| {
                worker.poll_time_histogram().is_none()
                    && worker.schedule_latency_histogram().is_none()
            }));
        }
    });
}

/// A poll is timed from the end of the worker's previous poll, but never
/// across time the worker spent elsewhere: 30 ms blocked inside
/// `block_on`'s own future, or 30 ms parked in the drivers, between two
/// trivial tasks, shows up in no task's poll time (on either flavour,
/// where the workers park between the tasks). Under a memory checker the
/// gap is ten times longer: valgrind translating a poll's code the first
/// time it runs takes tens of milliseconds.
#[test]
fn time_outside_polls_is_no_task_poll_time() {
    const GAP_MS: u64 = 30;
    let factor = if is_checker() { 10 } else { 1 };
    let gap = Duration::from_millis(GAP_MS * factor);
    within("gaps between polls", LIMIT, move || {
        for (flavour, mut builder) in flavours() {
            let rt = builder
                .enable_poll_time_histogram()
                .build()
                .expect("runtime builds");
            rt.block_on(async {
                weft::spawn(async {}).await.unwrap();
                std::thread::sleep(gap);
                weft::spawn(async {}).await.unwrap();
                weft::time::sleep(gap).await;
                weft::spawn(async {}).await.unwrap();
            });
            let polls = settled_metrics(&rt).poll_time_histogram().expect("enabled");
            assert_eq!(polls.count(), 3, "{flavour}");
            let longest = polls
                .buckets()
                .filter(|(_, count)| *count > 0)
                .map(|(range, _)| range.start)
                .max()
                .expect("three polls");
            assert!(
                longest < gap / 2,
                "{flavour}: a trivial poll was timed at {longest:?} or more: {polls:?}"
            );
        }
    });
}
