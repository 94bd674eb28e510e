//! How late does a short sleep wake on an idle runtime?
//!
//! Sleeps 1 ms (or `--sleep-us N` microseconds), one at a time, on an
//! otherwise idle runtime, and records how long after its deadline each
//! sleep returned: p50, p99 and max, for weft and tokio (both flavours) and
//! smol (`async_io::Timer` under `async_io::block_on`) in the same run,
//! interleaved sample by sample so machine noise falls on all alike.
//!
//! Run: `cargo bench --bench sleep_accuracy` (a few seconds; `-- --samples N`,
//! `-- --sleep-us N`).
//!
//! A timer wheel rounds every deadline up to its next tick so nothing fires
//! early, so up to one tick of lateness is by design; what is above that is
//! the park's wake-up latency (the kernel's timer slack, 50 us by default,
//! and the thread's wake-up) and, if the park's timeout is rounded to whole
//! milliseconds (`epoll_wait`), up to 1 ms more.

use std::time::{Duration, Instant};

/// The sleep whose lateness is measured, unless `--sleep-us N` is given.
const DEFAULT_SLEEP: Duration = Duration::from_millis(1);
/// Samples per runtime unless `--samples N` is given.
const DEFAULT_SAMPLES: usize = 500;

/// One runtime under test: a name and a function that sleeps once and
/// returns how late it woke.
struct Subject {
    name: &'static str,
    sleep_once: Box<dyn Fn(Duration) -> Duration>,
}

fn weft_subject(name: &'static str, rt: weft::Runtime) -> Subject {
    Subject {
        name,
        sleep_once: Box::new(move |sleep| {
            rt.block_on(async {
                let deadline = Instant::now() + sleep;
                weft::time::sleep(sleep).await;
                Instant::now().saturating_duration_since(deadline)
            })
        }),
    }
}

fn tokio_subject(name: &'static str, rt: tokio::runtime::Runtime) -> Subject {
    Subject {
        name,
        sleep_once: Box::new(move |sleep| {
            rt.block_on(async {
                let deadline = Instant::now() + sleep;
                tokio::time::sleep(sleep).await;
                Instant::now().saturating_duration_since(deadline)
            })
        }),
    }
}

/// smol's timers: `async_io::Timer` driven by `async_io::block_on`, which
/// parks in the reactor itself (the same path `smol::block_on` takes).
fn smol_subject() -> Subject {
    Subject {
        name: "smol",
        sleep_once: Box::new(|sleep| {
            async_io::block_on(async {
                let deadline = Instant::now() + sleep;
                async_io::Timer::after(sleep).await;
                Instant::now().saturating_duration_since(deadline)
            })
        }),
    }
}

/// The value after `flag` on the command line, parsed, or `default`.
fn arg_or(flag: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == flag) {
        Some(index) => args
            .get(index + 1)
            .and_then(|count| count.parse().ok())
            .filter(|&count| count > 0)
            .unwrap_or_else(|| panic!("{flag} takes a positive number, e.g. {flag} 500")),
        None => default,
    }
}

fn main() {
    let samples = arg_or("--samples", DEFAULT_SAMPLES as u64) as usize;
    let sleep = Duration::from_micros(arg_or("--sleep-us", DEFAULT_SLEEP.as_micros() as u64));
    let subjects = [
        weft_subject(
            "weft-mt",
            weft::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("weft multi-thread runtime"),
        ),
        weft_subject(
            "weft-ct",
            weft::Builder::new_current_thread()
                .build()
                .expect("weft current-thread runtime"),
        ),
        tokio_subject(
            "tokio-mt",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio multi-thread runtime"),
        ),
        tokio_subject(
            "tokio-ct",
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio current-thread runtime"),
        ),
        smol_subject(),
    ];
    let mut lateness: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); subjects.len()];
    for _ in 0..samples {
        for (subject, late) in subjects.iter().zip(&mut lateness) {
            late.push((subject.sleep_once)(sleep));
        }
    }
    println!("lateness of a {sleep:?} sleep on an idle runtime, {samples} samples each");
    println!(
        "{:<10} {:>10} {:>10} {:>10}",
        "runtime", "p50", "p99", "max"
    );
    for (subject, late) in subjects.iter().zip(&mut lateness) {
        late.sort_unstable();
        let at = |per_mille: usize| late[(late.len() - 1) * per_mille / 1000];
        println!(
            "{:<10} {:>10.3?} {:>10.3?} {:>10.3?}",
            subject.name,
            at(500),
            at(990),
            late[late.len() - 1]
        );
    }
}
