//! How late does a 10 ms sleep wake on an idle runtime? (issue 3)
//!
//! Sleeps 10 ms, one at a time, on an otherwise idle runtime, and records
//! how long after its deadline each sleep returned: p50, p99 and max, for
//! weft and tokio (both flavours) in the same run, interleaved sample by
//! sample so machine noise falls on both alike.
//!
//! Run: `cargo bench --bench sleep_accuracy` (about 10 s; `-- --samples N`).
//!
//! A timer wheel at 1 ms resolution rounds every deadline up to the next
//! millisecond so nothing fires early, so up to ~1 ms of lateness is by
//! design; what is above that is the park's wake-up latency and the OS.

use std::time::{Duration, Instant};

/// The sleep whose lateness is measured.
const SLEEP: Duration = Duration::from_millis(10);
/// Samples per runtime unless `--samples N` is given.
const DEFAULT_SAMPLES: usize = 200;

/// One runtime under test: a name and a function that sleeps once and
/// returns how late it woke.
struct Subject {
    name: &'static str,
    sleep_once: Box<dyn Fn() -> Duration>,
}

fn weft_subject(name: &'static str, rt: weft::Runtime) -> Subject {
    Subject {
        name,
        sleep_once: Box::new(move || {
            rt.block_on(async {
                let deadline = Instant::now() + SLEEP;
                weft::time::sleep(SLEEP).await;
                Instant::now().saturating_duration_since(deadline)
            })
        }),
    }
}

fn tokio_subject(name: &'static str, rt: tokio::runtime::Runtime) -> Subject {
    Subject {
        name,
        sleep_once: Box::new(move || {
            rt.block_on(async {
                let deadline = Instant::now() + SLEEP;
                tokio::time::sleep(SLEEP).await;
                Instant::now().saturating_duration_since(deadline)
            })
        }),
    }
}

fn samples_from_args() -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|arg| arg == "--samples") {
        Some(index) => args
            .get(index + 1)
            .and_then(|count| count.parse().ok())
            .filter(|&count| count > 0)
            .expect("--samples takes a positive count, e.g. --samples 500"),
        None => DEFAULT_SAMPLES,
    }
}

fn main() {
    let samples = samples_from_args();
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
    ];
    let mut lateness: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); subjects.len()];
    for _ in 0..samples {
        for (subject, late) in subjects.iter().zip(&mut lateness) {
            late.push((subject.sleep_once)());
        }
    }
    println!("lateness of a {SLEEP:?} sleep on an idle runtime, {samples} samples each");
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
