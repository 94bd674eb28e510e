//! Summary: [`Histogram`], the poll-time and schedule-latency histograms
//! of `RuntimeMetrics`, and the per-worker cells and clock that fill them.
//!
//! Role: `Builder::enable_poll_time_histogram` makes every worker keep a
//! [`PollStats`] (in its `WorkerMetrics`); the scheduler's poll path times
//! each poll with [`PollClock`] and records it there, and the wake path
//! stamps the task with the same clock so the next poll can record how
//! long the task waited in a queue. `Runtime::metrics` merges the workers'
//! cells into [`Histogram`] snapshots.
//!
//! Design: fixed log-scale buckets, one per power of two of microseconds:
//! `[0, 1 µs)`, `[1, 2 µs)`, `[2, 4 µs)`, ..., `[2^19, 2^20 µs)` and a last,
//! open bucket from 2^20 µs (about 1.05 s) up: 22 buckets, so finding a
//! bucket is a division by a constant and a leading-zeros count, and a
//! snapshot is a copyable array. A factor of two per bucket is the
//! resolution: enough to tell a 5 µs poll from a 5 ms one, which is what
//! the question "are my polls short?" needs. Rejected: HDR histograms
//! (console-subscriber's; more precise, but a dependency and a few KiB per
//! worker), tokio's configurable scale (more settings for the same
//! question). Each worker writes only its own cells (single writer: a
//! plain load and store, no locked instruction, like the counters of
//! `metrics.rs`); readers sum them and may be a few polls stale. When the
//! switch is off no worker has cells and the poll path reads no clock.
//!
//! Invariants: HIST-1: bucket `i` holds the durations `d` with
//! `bucket_start(i) <= d < bucket_start(i + 1)`, and the starts increase,
//! so `quantile` is monotone in `q`.
//!
//! Concurrency: each `HistogramCells` has one writer (its worker) and any
//! number of Relaxed readers.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Number of buckets: `[0, 1 µs)`, twenty doublings up to 2^20 µs, and
/// the open bucket above.
const BUCKETS: usize = 22;

/// Where bucket `index` starts (HIST-1); bucket 0 starts at zero.
fn bucket_start(index: usize) -> Duration {
    match index {
        0 => Duration::ZERO,
        _ => Duration::from_micros(1 << (index - 1)),
    }
}

/// The bucket of a duration of `nanos` nanoseconds (HIST-1).
fn bucket_of(nanos: u64) -> usize {
    let micros = nanos / 1_000;
    // Bit length: 0 for 0, i for [2^(i-1), 2^i).
    let index = (u64::BITS - micros.leading_zeros()) as usize;
    index.min(BUCKETS - 1)
}

/// A snapshot of a duration histogram with log-scale buckets from 1 µs to
/// about 1 s, from `RuntimeMetrics::poll_time_histogram` or
/// `RuntimeMetrics::schedule_latency_histogram`.
///
/// Buckets double: `[0, 1 µs)`, `[1, 2 µs)`, `[2, 4 µs)`, ... up to
/// `[2^19, 2^20 µs)`, then one open bucket from 2^20 µs (about 1.05 s)
/// up, whose range ends at `Duration::MAX`.
///
/// ```
/// let rt = weft_runtime::Builder::new_current_thread()
///     .enable_poll_time_histogram()
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     for _ in 0..10 {
///         weft_runtime::spawn(async {}).await.unwrap();
///     }
/// });
/// let polls = rt.metrics().poll_time_histogram().expect("enabled");
/// assert_eq!(polls.count(), 10);
/// assert!(polls.quantile(0.5) <= polls.quantile(0.99));
/// for (range, count) in polls.buckets().filter(|(_, count)| *count > 0) {
///     println!("{range:?}: {count}");
/// }
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; BUCKETS],
}

impl Histogram {
    /// Every bucket in order, empty ones included, with its count.
    pub fn buckets(&self) -> impl Iterator<Item = (Range<Duration>, u64)> + '_ {
        self.counts.iter().enumerate().map(|(index, &count)| {
            let end = if index + 1 < BUCKETS {
                bucket_start(index + 1)
            } else {
                Duration::MAX
            };
            (bucket_start(index)..end, count)
        })
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// An upper bound of the `q`-quantile (`q = 0.99` for the 99th
    /// percentile), at bucket resolution: the end of the bucket holding it
    /// (for the open last bucket, its start). `Duration::ZERO` when empty.
    /// Monotone: a larger `q` never gives a smaller duration.
    ///
    /// # Panics
    ///
    /// If `q` is not between 0 and 1 (NaN included).
    pub fn quantile(&self, q: f64) -> Duration {
        assert!(
            (0.0..=1.0).contains(&q),
            "quantile takes a fraction between 0 and 1 (0.99 for the 99th percentile), got {q}"
        );
        let total = self.count();
        if total == 0 {
            return Duration::ZERO;
        }
        // The rank of the q-quantile, 1-based; the float is exact enough
        // for any count a runtime reaches.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_start((index + 1).min(BUCKETS - 1));
            }
        }
        unreachable!("the rank is at most the total count")
    }

    /// Adds `other`'s counts to these.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (range, count) in self.buckets().filter(|(_, count)| *count > 0) {
            map.entry(&range.start, &count);
        }
        map.finish()
    }
}

/// One histogram's counters, written by one worker.
pub(crate) struct HistogramCells {
    counts: [AtomicU64; BUCKETS],
}

impl HistogramCells {
    fn new() -> HistogramCells {
        HistogramCells {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Counts one duration of `nanos`. Only the owning worker calls this.
    pub(crate) fn record(&self, nanos: u64) {
        let cell = &self.counts[bucket_of(nanos)];
        // Relaxed: single writer; readers only need an eventually-current value.
        cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// A snapshot of the counts.
    pub(crate) fn snapshot(&self) -> Histogram {
        Histogram {
            // Relaxed: a monitoring read; nothing is ordered by it.
            counts: std::array::from_fn(|index| self.counts[index].load(Ordering::Relaxed)),
        }
    }
}

/// A worker's two histograms.
pub(crate) struct PollStats {
    /// How long each poll of a task took.
    pub(crate) poll_time: HistogramCells,
    /// How long each task waited between being queued and being polled.
    pub(crate) schedule_latency: HistogramCells,
}

impl PollStats {
    pub(crate) fn new() -> PollStats {
        PollStats {
            poll_time: HistogramCells::new(),
            schedule_latency: HistogramCells::new(),
        }
    }
}

/// The clock of the histograms: nanoseconds since the runtime was built,
/// so a wake stamp fits in a task's `AtomicU64` (`task/meta.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollClock {
    epoch: Instant,
}

impl PollClock {
    pub(crate) fn new() -> PollClock {
        PollClock {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds since the epoch, at least 1 (0 means "never stamped").
    pub(crate) fn now(&self) -> u64 {
        count_clock_read();
        let nanos = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        nanos.max(1)
    }
}

#[cfg(test)]
thread_local! {
    /// Clock reads on this thread, so a test can check that a runtime
    /// with the histograms off reads none.
    pub(crate) static CLOCK_READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn count_clock_read() {
    CLOCK_READS.with(|reads| reads.set(reads.get() + 1));
}

#[cfg(not(test))]
fn count_clock_read() {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{bucket_of, bucket_start, Histogram, HistogramCells, BUCKETS};
    use std::time::Duration;

    /// Durations land in the bucket whose range holds them (HIST-1),
    /// table-driven over the edges.
    #[test]
    fn durations_land_in_the_bucket_that_holds_them() {
        let cases = [
            (0, 0),
            (999, 0),
            (1_000, 1),
            (1_999, 1),
            (2_000, 2),
            (3_999, 2),
            (4_000, 3),
            (5_000_000, 13), // 5 ms in [4096, 8192) µs
            ((1 << 19) * 1_000, 20),
            ((1 << 20) * 1_000 - 1, 20),
            ((1 << 20) * 1_000, 21),
            (u64::MAX, 21),
        ];
        for (nanos, bucket) in cases {
            assert_eq!(bucket_of(nanos), bucket, "{nanos} ns");
            let d = Duration::from_nanos(nanos);
            assert!(bucket_start(bucket) <= d, "{nanos} ns starts after");
            if bucket + 1 < BUCKETS {
                assert!(d < bucket_start(bucket + 1), "{nanos} ns ends before");
            }
        }
    }

    /// `buckets` yields every bucket in order, contiguous, the last open.
    #[test]
    fn buckets_are_contiguous_and_complete() {
        let histogram = Histogram::default();
        let ranges: Vec<_> = histogram.buckets().map(|(range, _)| range).collect();
        assert_eq!(ranges.len(), BUCKETS);
        assert_eq!(ranges[0].start, Duration::ZERO);
        assert_eq!(ranges[1].start, Duration::from_micros(1));
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert_eq!(ranges[BUCKETS - 1].end, Duration::MAX);
        assert!(ranges[BUCKETS - 1].start > Duration::from_secs(1));
    }

    /// `quantile` never decreases as `q` grows, on a spread of shapes, and
    /// bounds what was recorded.
    #[test]
    fn quantile_is_monotone() {
        let cells = HistogramCells::new();
        for nanos in [
            500,
            1_500,
            1_500,
            40_000,
            40_000,
            40_000,
            5_000_000,
            2_000_000_000,
        ] {
            cells.record(nanos);
        }
        let histogram = cells.snapshot();
        assert_eq!(histogram.count(), 8);
        let mut previous = Duration::ZERO;
        for step in 0..=100 {
            let q = f64::from(step) / 100.0;
            let value = histogram.quantile(q);
            assert!(
                value >= previous,
                "quantile({q}) = {value:?} < {previous:?}"
            );
            previous = value;
        }
        assert_eq!(histogram.quantile(0.0), Duration::from_micros(1));
        assert_eq!(histogram.quantile(0.5), Duration::from_micros(64));
        assert!(histogram.quantile(1.0) > Duration::from_secs(1));
        assert_eq!(Histogram::default().quantile(0.5), Duration::ZERO);
    }

    /// Misuse names the fix.
    #[test]
    #[should_panic(expected = "between 0 and 1")]
    fn quantile_rejects_a_percentage() {
        Histogram::default().quantile(99.0);
    }

    /// With the switch off (and no slow-poll report) the poll path reads
    /// no clock: a current-thread runtime polls on this thread, whose reads
    /// `CLOCK_READS` counts. With the switch on, every poll and wake reads it.
    #[test]
    fn no_clock_reads_unless_enabled() {
        fn reads_for(builder: &mut crate::Builder) -> u64 {
            let rt = builder.build().expect("runtime builds");
            let before = super::CLOCK_READS.with(|reads| reads.get());
            rt.block_on(async {
                for _ in 0..10 {
                    crate::spawn(async { crate::yield_now().await })
                        .await
                        .unwrap();
                }
            });
            super::CLOCK_READS.with(|reads| reads.get()) - before
        }
        assert_eq!(reads_for(&mut crate::Builder::new_current_thread()), 0);
        let on = reads_for(crate::Builder::new_current_thread().enable_poll_time_histogram());
        assert!(on >= 40, "20 polls and 20 wakes read the clock {on} times");
    }

    /// Merging adds bucket by bucket.
    #[test]
    fn merge_adds_counts() {
        let (a, b) = (HistogramCells::new(), HistogramCells::new());
        a.record(1_500);
        b.record(1_500);
        b.record(5_000_000);
        let mut merged = a.snapshot();
        merged.merge(&b.snapshot());
        assert_eq!(merged.count(), 3);
        assert_eq!(merged.buckets().nth(1).map(|(_, count)| count), Some(2));
    }
}
