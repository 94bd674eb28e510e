//! Micro-benchmarks of weft-timer on its own (no runtime): the costs the
//! issue asks about, printed as one line each. The side-by-side comparison
//! with tokio and smol lives in the facade's `benches/compare.rs`.
//!
//! Run with `cargo bench -p weft-timer`.

use std::future::{ready, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant as StdInstant};

use weft_timer::wheel::Wheel;
use weft_timer::{sleep, timeout, Driver};

/// CPU time this thread has used, from Linux's schedstat (None elsewhere).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

fn noop_waker() -> Waker {
    Waker::from(Arc::new(NoopWake))
}

fn report(name: &str, count: usize, elapsed: Duration) {
    let per_op = elapsed.as_nanos() as f64 / count as f64;
    println!("{name:<52} {count:>9} ops {elapsed:>12.3?} {per_op:>9.1} ns/op");
}

struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

fn timeout_around_ready(driver: &Driver) {
    const COUNT: usize = 1_000_000;
    let _enter = driver.handle().enter();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let start = StdInstant::now();
    for i in 0..COUNT {
        let mut fut = timeout(Duration::from_secs(1), ready(i));
        assert!(Pin::new(&mut fut).poll(&mut cx).is_ready());
    }
    report(
        "timeout(1 s, ready) (never registers)",
        COUNT,
        start.elapsed(),
    );
}

fn timeout_around_pending_once(driver: &Driver) {
    const COUNT: usize = 1_000_000;
    let _enter = driver.handle().enter();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let start = StdInstant::now();
    for _ in 0..COUNT {
        let mut fut = Box::pin(timeout(Duration::from_secs(1), PendingOnce(false)));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }
    report(
        "timeout(1 s, pending once): insert + cancel",
        COUNT,
        start.elapsed(),
    );
}

fn wheel_insert_cancel() {
    const COUNT: usize = 1_000_000;
    let mut wheel = Wheel::new();
    let start = StdInstant::now();
    for i in 0..COUNT as u64 {
        let key = wheel.insert(1 + i % 100_000, i);
        assert_eq!(wheel.remove(key), Some(i));
    }
    report("wheel alone: insert + remove", COUNT, start.elapsed());
}

struct CountWake(AtomicUsize);

impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// 100k sleeps of random 1-50 ms on the real clock, parked and fired by one
/// thread: CPU time spent registering, firing and waking.
fn many_random_sleeps() {
    const COUNT: usize = 100_000;
    let thread = std::thread::current();
    let driver = Driver::new(false, Arc::new(move || thread.unpark()));
    let _enter = driver.handle().enter();
    let counter = Arc::new(CountWake(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let cpu_start = thread_cpu_time();
    let start = StdInstant::now();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut sleeps = Vec::with_capacity(COUNT);
    for _ in 0..COUNT {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut s = sleep(Duration::from_millis(1 + seed % 50));
        assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
        sleeps.push(s);
    }
    while counter.0.load(Ordering::Relaxed) < COUNT {
        match driver.park_timeout() {
            Some(timeout) => std::thread::park_timeout(timeout),
            None => break,
        }
        driver.process();
    }
    let wall = start.elapsed();
    assert_eq!(counter.0.load(Ordering::Relaxed), COUNT);
    drop(sleeps);
    match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => report("100k sleeps of random 1-50 ms (CPU time)", COUNT, b - a),
        _ => report("100k sleeps of random 1-50 ms (wall time)", COUNT, wall),
    }
}

/// Lateness of a 10 ms sleep on an otherwise idle driver.
fn accuracy() {
    const SAMPLES: usize = 200;
    let mut late: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            weft_timer::doc_support::block_on(async {
                let deadline = StdInstant::now() + Duration::from_millis(10);
                sleep(Duration::from_millis(10)).await;
                StdInstant::now().saturating_duration_since(deadline)
            })
        })
        .collect();
    late.sort_unstable();
    let p50 = late[SAMPLES / 2];
    let p99 = late[SAMPLES * 99 / 100];
    println!(
        "{:<52} p50 {p50:.3?}  p99 {p99:.3?}  max {:.3?}",
        "10 ms sleep lateness (idle driver)",
        late[SAMPLES - 1]
    );
}

/// Threads registering and cancelling at once on one driver whose wheel has
/// `shards` shards, thread `t` in shard `t % shards`: with one shard, every
/// thread contends on one lock; with one per thread, on none.
fn contended_insert_cancel(threads: usize, shards: usize) {
    const PER_THREAD: usize = 250_000;
    let driver = Arc::new(Driver::with_shards(false, shards, Arc::new(|| {})));
    let barrier = Arc::new(Barrier::new(threads));
    let start = StdInstant::now();
    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            let (handle, barrier) = (driver.handle(), barrier.clone());
            std::thread::spawn(move || {
                let _enter = handle.enter();
                let _shard = handle.enter_shard(thread % shards);
                let waker = noop_waker();
                let mut cx = Context::from_waker(&waker);
                barrier.wait();
                let cpu_start = thread_cpu_time();
                for _ in 0..PER_THREAD {
                    let mut s = sleep(Duration::from_secs(1));
                    assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
                }
                Some(thread_cpu_time()? - cpu_start?)
            })
        })
        .collect();
    let cpu: Option<Duration> = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let name = format!("sleep register + cancel, {threads} threads, {shards} shards");
    report(&name, threads * PER_THREAD, start.elapsed());
    // CPU time per operation, summed over the threads: unlike wall time it
    // does not improve when the threads share a core, and it grows when
    // they contend for a cache line.
    if let Some(cpu) = cpu {
        report("  (cpu time)", threads * PER_THREAD, cpu);
    }
}

fn main() {
    let driver = Driver::new(false, Arc::new(|| {}));
    wheel_insert_cancel();
    timeout_around_ready(&driver);
    timeout_around_pending_once(&driver);
    contended_insert_cancel(1, 1);
    contended_insert_cancel(2, 1);
    contended_insert_cancel(2, 2);
    contended_insert_cancel(4, 1);
    contended_insert_cancel(4, 4);
    many_random_sleeps();
    accuracy();
}
