//! Summary: [`Histogram`], the poll-time and schedule-latency histograms
//! of `RuntimeMetrics`, and the per-worker cells that fill them.
//!
//! Role: `Builder::enable_poll_time_histogram` makes every worker keep a
//! [`PollStats`] (in its `WorkerMetrics`); the scheduler's poll path
//! (`Shared::poll_task`) times each poll with the runtime's `PollClock`
//! (`poll_clock/`) and records it there, and the wake path stamps the task
//! so the next poll can record how long the task waited in a queue. The
//! worker loop and `block_on` call [`PollStats::break_run`] when they stop
//! polling tasks for a while. `Runtime::metrics` merges the workers' cells
//! into [`Histogram`] snapshots.
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
//! What a clock read costs is the whole price of the switch (a small
//! task's poll is 40-60 ns, a read 10-60 ns), so each poll reads the clock
//! once: the end of one poll is the start of the next on the same worker
//! (HIST-2), and a wake from inside a poll stamps the task with that
//! poll's start instead of reading the clock (HIST-3). The price is in the
//! precision. A poll's time includes the worker's pick of it since the
//! previous poll ended (a queue pop; at most the wake of a sleeping
//! worker, a few µs), and the wait of a task woken from inside another
//! task's poll is counted from the start of that poll, so it is an upper
//! bound, too long by at most the waking poll's own duration (which the
//! poll-time histogram shows). A task that wakes itself (`yield_now`) is
//! requeued as its poll ends and is stamped with a fresh reading: counting
//! from its own poll's start would report every long poll as latency.
//! Wakes from other threads read the clock. Rejected: two reads per poll
//! and one per wake (exact, and three times ping_pong's time); a stamp
//! taken when the waking poll ends (tasks woken early in a long poll would
//! show no wait for a worker that in fact kept them waiting).
//!
//! Invariants:
//!
//! - HIST-1: bucket `i` holds the durations `d` with
//!   `bucket_start(i) <= d < bucket_start(i + 1)`, and the starts increase,
//!   so `quantile` is monotone in `q`.
//! - HIST-2: a worker's poll boundary is nonzero only while the worker goes
//!   from one poll straight to the next: between polls it only picks the
//!   next task. Whatever else it does between two polls (the drivers,
//!   parking, polling `block_on`'s future, handing the core to another
//!   thread) clears it first (`break_run`).
//! - HIST-3: a wake stamp is a `PollClock` reading no later than the wake.
//!
//! Concurrency: each `PollStats` has one writer (the thread driving its
//! worker's core) and any number of Relaxed readers of the cells.

use crate::poll_clock::PollClock;
use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

/// A worker's two histograms, and the reading its polls are timed from.
///
/// Aligned to 128 bytes (two cache lines, as `Remote`): each worker's
/// `PollStats` is its own allocation, and two workers' boxes side by side
/// must not share a line their owners both write on every poll.
#[repr(align(128))]
pub(crate) struct PollStats {
    /// How long each poll of a task took.
    pub(crate) poll_time: HistogramCells,
    /// How long each task waited between being queued and being polled.
    pub(crate) schedule_latency: HistogramCells,
    /// The poll boundary (HIST-2): a `PollClock` reading taken when this
    /// worker's last poll ended, which is also when the poll under way
    /// started; 0 when the worker has done something else since. Relaxed
    /// load and store: written and read only by the thread that drives this
    /// worker's core (a current-thread core changes threads only through
    /// the lifecycle's hand-over, which orders the two).
    boundary: AtomicU64,
}

impl PollStats {
    pub(crate) fn new() -> PollStats {
        PollStats {
            poll_time: HistogramCells::new(),
            schedule_latency: HistogramCells::new(),
            boundary: AtomicU64::new(0),
        }
    }

    /// Starts timing a poll: the boundary if the previous poll just ended
    /// (HIST-2), else a fresh reading, which becomes the boundary.
    #[inline]
    pub(crate) fn start_poll(&self, clock: &PollClock) -> u64 {
        // Relaxed: see the field.
        match self.boundary.load(Ordering::Relaxed) {
            0 => {
                let now = clock.now();
                self.boundary.store(now, Ordering::Relaxed);
                now
            }
            boundary => boundary,
        }
    }

    /// Ends the poll that started at `start` with the reading `end`, which
    /// becomes the start of the next (HIST-2); records its duration.
    #[inline]
    pub(crate) fn end_poll(&self, clock: &PollClock, start: u64, end: u64) {
        // Relaxed: see the field.
        self.boundary.store(end, Ordering::Relaxed);
        self.poll_time
            .record(clock.nanos(end.saturating_sub(start)));
    }

    /// When the poll under way on this worker started, if one is (for the
    /// wake stamp of a task it wakes; HIST-3).
    #[inline]
    pub(crate) fn poll_started_at(&self) -> Option<u64> {
        // Relaxed: see the field.
        Some(self.boundary.load(Ordering::Relaxed)).filter(|&at| at != 0)
    }

    /// The worker leaves its run of polls (it enters the drivers or polls
    /// `block_on`'s future): the next poll reads the clock afresh (HIST-2).
    #[inline]
    pub(crate) fn break_run(&self) {
        // Relaxed: see the field.
        self.boundary.store(0, Ordering::Relaxed);
    }
}

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
    /// `CLOCK_READS` counts. With the switch on, a run of polls reads it
    /// once per poll (HIST-2), and each yield once more.
    #[test]
    fn no_clock_reads_unless_enabled() {
        fn reads_for(builder: &mut crate::Builder) -> u64 {
            let rt = builder.build().expect("runtime builds");
            let before = crate::poll_clock::CLOCK_READS.with(|reads| reads.get());
            rt.block_on(async {
                for _ in 0..10 {
                    crate::spawn(async { crate::yield_now().await })
                        .await
                        .unwrap();
                }
            });
            crate::poll_clock::CLOCK_READS.with(|reads| reads.get()) - before
        }
        assert_eq!(reads_for(&mut crate::Builder::new_current_thread()), 0);
        let on = reads_for(crate::Builder::new_current_thread().enable_poll_time_histogram());
        // Six reads a round today: the spawn's stamp (a wake outside any
        // poll), both polls' ends, the yield's stamp, and both polls'
        // starts, because block_on's own poll and the driver turn a yielded
        // task is owed each break the run (HIST-2). The bounds leave room
        // for the scheduler's turns to change.
        assert!(
            (20..=70).contains(&on),
            "20 polls, 10 yields and 10 spawns read the clock {on} times"
        );
    }

    /// A run of polls reads the clock about once a poll (HIST-2, HIST-3):
    /// a task spawns 100 children from inside its poll (their stamps are
    /// that poll's start, no read) and the worker then polls them back to
    /// back, each ending with the one read that also starts the next.
    #[test]
    fn a_run_of_polls_reads_the_clock_once_a_poll() {
        let rt = crate::Builder::new_current_thread()
            .enable_poll_time_histogram()
            .build()
            .expect("runtime builds");
        let before = crate::poll_clock::CLOCK_READS.with(|reads| reads.get());
        rt.block_on(async {
            let children = crate::spawn(async {
                (0..100).map(|_| crate::spawn(async {})).collect::<Vec<_>>()
            })
            .await
            .unwrap();
            for child in children {
                child.await.unwrap();
            }
        });
        let reads = crate::poll_clock::CLOCK_READS.with(|reads| reads.get()) - before;
        let polls = rt.metrics().polls();
        assert_eq!(polls, 101);
        // On top of one a poll: the parent's spawn stamp, and a fresh start
        // after each of block_on's own polls and each driver turn.
        assert!(
            (polls..=polls + 10).contains(&reads),
            "{polls} polls read the clock {reads} times"
        );
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
