//! The measuring machinery: what a workload is, how runs are interleaved,
//! how samples become statistics, and how the result is printed and saved.
//!
//! # Design
//! Every workload is measured on every runtime *interleaved run by run*
//! (run 1 on each runtime, then run 2 on each runtime, ...) rather than
//! "all runs of runtime A, then all of B". On a shared 2-core machine the
//! background load drifts over minutes; interleaving spreads that drift over
//! every runtime instead of charging it to whichever ran last. The order of
//! the runtimes inside a round also rotates, so no runtime always runs right
//! after another one's teardown.
//!
//! A fresh runtime is built for every sample and is not part of the
//! measurement: each workload times only its own body (see the workload
//! modules), so thread start-up and shutdown costs stay out of the figures.
//!
//! Statistics are median, min and max: medians resist the bimodal outliers
//! that 2-worker runtimes on 2 shared cores produce, and min/max show how
//! wide the spread was. JSON is written by hand (no serde) because the
//! document is small and flat.
//!
//! # Invariants
//! - INV-1: a workload's samples for one runtime are all in the workload's
//!   [`Metric`] unit, so medians and ratios compare like with like.
//! - INV-2: ratios are only computed between runtimes whose medians exist
//!   and are non-zero; a missing runtime gives no ratio, never a fake one.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::rt::Flavour;

/// What a workload's sample measures, and so its unit (INV-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Wall-clock time of the workload body, in milliseconds.
    WallMs,
    /// CPU time (user + system, all threads) consumed by the process while the
    /// body ran, in milliseconds. Used where wall time is dominated by waiting.
    CpuMs,
    /// Resident memory added per task, in bytes.
    BytesPerTask,
}

impl Metric {
    /// The unit printed in the table and stored in the JSON.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::WallMs => "ms",
            Metric::CpuMs => "cpu ms",
            Metric::BytesPerTask => "B/task",
        }
    }
}

/// Whether to use the full sizes or the small `--quick` ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The sizes named in issue 7.
    Full,
    /// Sizes divided so the whole suite finishes in under two minutes.
    Quick,
}

impl Scale {
    /// `full` in full mode, `quick` in quick mode.
    pub fn pick(self, full: usize, quick: usize) -> usize {
        match self {
            Scale::Full => full,
            Scale::Quick => quick,
        }
    }
}

/// The primitive each runtime family uses for a workload, printed beside
/// its figures so a reader knows what was compared.
#[derive(Clone, Copy, Debug)]
pub struct Primitives {
    /// What the weft side uses.
    pub weft: &'static str,
    /// What the tokio side uses.
    pub tokio: &'static str,
    /// What the smol side uses.
    pub smol: &'static str,
}

impl Primitives {
    /// The primitive used by `flavour`'s family.
    pub fn for_flavour(&self, flavour: Flavour) -> &'static str {
        match flavour.family() {
            "weft" => self.weft,
            "tokio" => self.tokio,
            _ => self.smol,
        }
    }
}

/// One benchmark workload: its name, what it stresses, and how to take one
/// sample of it on a given runtime flavour.
pub struct Workload {
    /// Short name used by the filter argument and in the table.
    pub name: &'static str,
    /// One line: what part of a runtime this workload stresses.
    pub stresses: &'static str,
    /// What a sample measures.
    pub metric: Metric,
    /// The primitives each runtime family uses.
    pub primitives: Primitives,
    /// Takes one sample (in `metric`'s unit) on a freshly built runtime.
    pub sample: fn(Flavour, Scale) -> f64,
}

/// How a workload's panic message starts when the workload does not apply
/// to a flavour (a blocked-worker probe on a one-thread runtime): the
/// table prints "n/a" and the reason instead of a failure.
pub const NOT_APPLICABLE: &str = "not applicable: ";

/// The reason `message` gives, if it says its workload does not apply.
pub fn not_applicable(message: &str) -> Option<&str> {
    message.strip_prefix(NOT_APPLICABLE)
}

/// One runtime's result for one workload: its statistics, or why it has
/// none (a panic in the workload, e.g. a lost task caught by a checksum).
#[derive(Clone, Debug)]
pub struct RuntimeResult {
    /// The runtime flavour measured.
    pub flavour: Flavour,
    /// The statistics, or the panic message of the sample that failed.
    pub outcome: Result<Stats, String>,
}

/// Median, min and max of one runtime's samples for one workload.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Every sample, in run order.
    pub samples: Vec<f64>,
    /// The median sample.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Stats {
    /// Summarises `samples` (which must not be empty).
    fn new(samples: Vec<f64>) -> Stats {
        assert!(
            !samples.is_empty(),
            "a runtime must have at least one sample"
        );
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 {
            sorted[mid]
        } else {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        };
        Stats {
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            median,
            samples,
        }
    }
}

/// The result of one workload over every runtime.
pub struct Outcome<'w> {
    /// The workload measured.
    pub workload: &'w Workload,
    /// One entry per runtime flavour, in the order of the runtime list.
    pub results: Vec<RuntimeResult>,
}

/// A named ratio `numerator / denominator` of two medians.
pub struct Ratio {
    /// E.g. `weft-mt/tokio-mt`.
    pub label: String,
    /// The ratio of the medians; below 1.00 means weft is better.
    pub value: f64,
}

impl Outcome<'_> {
    fn median_of(&self, flavour: Flavour) -> Option<f64> {
        self.results
            .iter()
            .find(|result| result.flavour == flavour)
            .and_then(|result| result.outcome.as_ref().ok())
            .map(|stats| stats.median)
    }

    /// The ratios of each weft flavour against the tokio flavour of the same
    /// kind and against smol (INV-2: only where both medians exist).
    pub fn ratios(&self) -> Vec<Ratio> {
        let mut ratios = Vec::new();
        for result in self.results.iter().filter(|r| r.flavour.family() == "weft") {
            let Some(ours) = self.median_of(result.flavour) else {
                continue;
            };
            for other in result.flavour.compared_with() {
                if let Some(theirs) = self.median_of(other).filter(|m| *m > 0.0) {
                    ratios.push(Ratio {
                        label: format!("{}/{}", result.flavour.label(), other.label()),
                        value: ours / theirs,
                    });
                }
            }
        }
        ratios
    }
}

/// Guards a sample: if it has not finished after [`WATCHDOG_LIMIT`], the
/// process exits with a message, so a deadlocked runtime fails the suite
/// loudly instead of hanging it.
struct Watchdog {
    done: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Longest a single sample may take. The slowest full-size sample (TCP echo
/// on a busy machine) takes a few seconds; a minute means something hangs.
pub const WATCHDOG_LIMIT: Duration = Duration::from_secs(60);

impl Watchdog {
    fn arm(what: String) -> Watchdog {
        let (done, fired) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                fired.recv_timeout(WATCHDOG_LIMIT)
            {
                eprintln!("compare: {what} did not finish within {WATCHDOG_LIMIT:?}; aborting");
                let finished = FINISHED_TABLE
                    .lock()
                    .map(|table| table.clone())
                    .unwrap_or_default();
                if !finished.is_empty() {
                    eprintln!("compare: the workloads finished so far:\n{finished}");
                }
                std::process::exit(2);
            }
        });
        Watchdog {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.done.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The table of the workloads finished so far, printed by the watchdog if a
/// later sample hangs, so a long run is not lost entirely.
pub static FINISHED_TABLE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// The message of a caught panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message.to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `workload` `runs` times on every flavour, interleaved run by run with
/// a rotating runtime order, and summarises the samples. A runtime whose
/// sample panics is marked failed for this workload, with the message, and
/// is not run again for it; the other runtimes carry on.
pub fn measure<'w>(
    workload: &'w Workload,
    flavours: &[Flavour],
    runs: usize,
    scale: Scale,
) -> Outcome<'w> {
    let mut samples: Vec<Result<Vec<f64>, String>> =
        vec![Ok(Vec::with_capacity(runs)); flavours.len()];
    let started = Instant::now();
    for run in 0..runs {
        for step in 0..flavours.len() {
            let index = (run + step) % flavours.len();
            let flavour = flavours[index];
            let Ok(taken) = &mut samples[index] else {
                continue;
            };
            let _watchdog = Watchdog::arm(format!(
                "{} on {} (run {})",
                workload.name,
                flavour.label(),
                run + 1
            ));
            let sample = std::panic::catch_unwind(|| (workload.sample)(flavour, scale));
            match sample {
                Ok(value) => taken.push(value),
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    if not_applicable(&message).is_none() {
                        eprintln!(
                            "compare: {} failed on {}: {message}",
                            workload.name,
                            flavour.label()
                        );
                    }
                    samples[index] = Err(message);
                }
            }
        }
    }
    eprintln!(
        "compare: {} done ({} runs x {} runtimes, {:.1} s)",
        workload.name,
        runs,
        flavours.len(),
        started.elapsed().as_secs_f64()
    );
    let results = flavours
        .iter()
        .zip(samples)
        .map(|(flavour, samples)| RuntimeResult {
            flavour: *flavour,
            outcome: samples.map(Stats::new),
        })
        .collect();
    Outcome { workload, results }
}

/// Formats a figure with three significant-ish digits, whatever its size.
fn figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The whole result as a plain-text table, one block per workload.
pub fn table(outcomes: &[Outcome<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:<9} {:>9} {:>9} {:>9}  {:<8} using",
        "workload", "runtime", "median", "min", "max", "unit"
    );
    for outcome in outcomes {
        let workload = outcome.workload;
        for result in &outcome.results {
            let flavour = result.flavour;
            match &result.outcome {
                Ok(stats) => {
                    let _ = writeln!(
                        out,
                        "{:<16} {:<9} {:>9} {:>9} {:>9}  {:<8} {}",
                        workload.name,
                        flavour.label(),
                        figure(stats.median),
                        figure(stats.min),
                        figure(stats.max),
                        workload.metric.unit(),
                        workload.primitives.for_flavour(flavour)
                    );
                }
                Err(message) if not_applicable(message).is_some() => {
                    let reason = not_applicable(message).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "{:<16} {:<9} n/a ({reason})",
                        workload.name,
                        flavour.label()
                    );
                }
                Err(message) => {
                    let first_line = message.lines().next().unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "{:<16} {:<9} FAILED: {first_line}",
                        workload.name,
                        flavour.label()
                    );
                }
            }
        }
        let ratios = outcome.ratios();
        if !ratios.is_empty() {
            let listed: Vec<String> = ratios
                .iter()
                .map(|ratio| format!("{} {:.2}", ratio.label, ratio.value))
                .collect();
            let _ = writeln!(out, "{:<16} ratios: {}", "", listed.join(", "));
        }
    }
    out
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            ch if (ch as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", ch as u32);
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// `value` as a JSON number (JSON has no NaN or infinity: those become null).
fn json_number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "null".to_string()
    }
}

/// Describes the run as a whole, for the JSON header.
pub struct RunInfo {
    /// `quick` or `full`.
    pub scale: Scale,
    /// Runs per runtime.
    pub runs: usize,
    /// `nproc`.
    pub cpus: usize,
    /// CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// Seconds since the Unix epoch when the suite finished.
    pub finished_unix_s: u64,
}

/// The whole result as a JSON document.
pub fn json(info: &RunInfo, outcomes: &[Outcome<'_>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(
        out,
        "  \"scale\": {},\n  \"runs\": {},\n  \"cpus\": {},\n  \"cpu_model\": {},\n  \"finished_unix_s\": {},",
        json_string(if info.scale == Scale::Quick { "quick" } else { "full" }),
        info.runs,
        info.cpus,
        json_string(&info.cpu_model),
        info.finished_unix_s
    );
    let _ = writeln!(out, "  \"workloads\": [");
    for (w, outcome) in outcomes.iter().enumerate() {
        let workload = outcome.workload;
        let _ = writeln!(out, "    {{");
        let _ = writeln!(
            out,
            "      \"name\": {},\n      \"stresses\": {},\n      \"unit\": {},",
            json_string(workload.name),
            json_string(workload.stresses),
            json_string(workload.metric.unit())
        );
        let _ = writeln!(out, "      \"results\": [");
        for (r, result) in outcome.results.iter().enumerate() {
            let figures = match &result.outcome {
                Ok(stats) => {
                    let samples: Vec<String> =
                        stats.samples.iter().map(|v| json_number(*v)).collect();
                    format!(
                        "\"median\": {}, \"min\": {}, \"max\": {}, \"samples\": [{}]",
                        json_number(stats.median),
                        json_number(stats.min),
                        json_number(stats.max),
                        samples.join(", ")
                    )
                }
                Err(message) => match not_applicable(message) {
                    Some(reason) => format!("\"not_applicable\": {}", json_string(reason)),
                    None => format!("\"failed\": {}", json_string(message)),
                },
            };
            let _ = writeln!(
                out,
                "        {{\"runtime\": {}, \"using\": {}, {}}}{}",
                json_string(result.flavour.label()),
                json_string(workload.primitives.for_flavour(result.flavour)),
                figures,
                if r + 1 < outcome.results.len() {
                    ","
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(out, "      ],");
        let ratios: Vec<String> = outcome
            .ratios()
            .iter()
            .map(|ratio| {
                format!(
                    "{}: {}",
                    json_string(&ratio.label),
                    json_number(ratio.value)
                )
            })
            .collect();
        let _ = writeln!(out, "      \"ratios\": {{{}}}", ratios.join(", "));
        let _ = writeln!(
            out,
            "    }}{}",
            if w + 1 < outcomes.len() { "," } else { "" }
        );
    }
    let _ = writeln!(out, "  ]");
    let _ = writeln!(out, "}}");
    out
}

/// Runs `body` and returns the wall-clock milliseconds it took, with its
/// result (returned, not dropped, so freeing it stays out of the figure).
pub fn wall_ms<R>(body: impl FnOnce() -> R) -> (f64, R) {
    let start = Instant::now();
    let result = body();
    (start.elapsed().as_secs_f64() * 1e3, result)
}

/// CPU time (user + system, all threads) this process has used so far.
pub fn process_cpu_time() -> Duration {
    // SAFETY: `getrusage` only writes into the zeroed struct we own, and
    // RUSAGE_SELF is always a valid `who`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let rc = libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        assert_eq!(rc, 0, "getrusage(RUSAGE_SELF) failed");
        usage
    };
    let to_duration = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    to_duration(usage.ru_utime) + to_duration(usage.ru_stime)
}

/// Runs `body` and returns the process CPU milliseconds consumed meanwhile,
/// with its result.
pub fn cpu_ms<R>(body: impl FnOnce() -> R) -> (f64, R) {
    let start = process_cpu_time();
    let result = body();
    let used = process_cpu_time().saturating_sub(start);
    (used.as_secs_f64() * 1e3, result)
}

/// Resident set size of this process in bytes, from /proc/self/statm.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .expect("/proc/self/statm must be readable (this suite runs on Linux)");
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("/proc/self/statm's second field is the resident page count");
    // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    resident_pages * page_size as u64
}

/// A small deterministic generator (xorshift64*) so every runtime gets the
/// same "random" sleep durations.
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (zero is replaced, xorshift needs a set bit).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A value uniformly-ish spread over `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let value = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        low + value % (high - low + 1)
    }
}
