//! Side-by-side benchmarks of weft, tokio and smol (issue 7).
//!
//! ```text
//! cargo bench --bench compare                      # full suite, 15 runs per runtime
//! cargo bench --bench compare -- --quick           # small sizes, 3 runs (< 2 min)
//! cargo bench --bench compare -- spawn             # only workloads whose name contains "spawn"
//! cargo bench --bench compare -- --runs 25 --json out.json --runtimes tokio-mt,weft-mt
//! cargo bench --bench compare -- --floor --runs 5   # the floor parts, and workloads against them
//! ```
//!
//! Every workload runs on each runtime flavour (weft multi-thread with 2
//! workers and current-thread, tokio the same two, smol's executor on 2
//! threads), interleaved run by run, on a fresh runtime per sample. The
//! table gives median, min and max per runtime and the ratios of weft's
//! medians to tokio's and smol's (below 1.00: weft is faster or smaller). The
//! same table is written as JSON to `target/bench-compare.json` unless
//! `--json PATH` says otherwise, and as an SVG bar chart of the ratios
//! beside it (`target/bench-compare.svg`; `compare/charts.rs`). `docs/performance.md` explains each workload
//! and holds the latest figures.
//!
//! # Reading order
//! `compare/harness.rs` (workloads, interleaving, statistics, output), then
//! `compare/rt.rs` (how each runtime is built), then any workload family:
//! `tasks`, `channels`, `sync`, `time`, `net`, `memory`, `latency`. Every workload is a
//! small module with one body per runtime, written with the same logic.
//!
//! Where the runtimes' bodies differ only in the names of each runtime's
//! APIs (its spawn and join, its lock, its sleep), they are written out side
//! by side: a generic body would need a trait of ours over the three runtimes
//! and would hide which API each one calls. Where the logic is shared, it is
//! written once: a function taking each runtime's parts as arguments
//! (`memory`'s measurement, `latency`'s ticker, `queue_mpmc`'s async-channel
//! body), or, where it is the same text over each runtime's own types, a
//! documented `macro_rules!` (`net`'s echo server and client, `channels`'
//! ping-pong tasks).

use std::time::{SystemTime, UNIX_EPOCH};

use compare::harness::{self, RunInfo, Scale, Workload};
use compare::rt::Flavour;

/// The benchmark's modules live in `benches/compare/`.
mod compare {
    pub mod channels;
    pub mod charts;
    pub mod floor;
    pub mod harness;
    pub mod latency;
    pub mod memory;
    pub mod net;
    pub mod rt;
    pub mod sync;
    pub mod tasks;
    pub mod time;
}

/// Runs per runtime in full mode: multi-thread figures on 2 cores are noisy
/// and sometimes bimodal, so a median needs at least this many samples.
const FULL_RUNS: usize = 15;
/// Runs per runtime in `--quick` mode.
const QUICK_RUNS: usize = 3;
/// Where the JSON goes unless `--json PATH` is given.
const DEFAULT_JSON_PATH: &str = "target/bench-compare.json";
/// The SVG chart of the ratios goes beside the JSON, with this extension.
const CHART_EXTENSION: &str = "svg";

/// What the command line asked for.
struct Options {
    scale: Scale,
    runs: Option<usize>,
    json_path: String,
    filter: Option<String>,
    runtimes: Option<Vec<String>>,
    list: bool,
    floor: bool,
}

const USAGE: &str =
    "usage: compare [--quick] [--runs N] [--json PATH] [--runtimes a,b] [--list] [--floor] [FILTER]";

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        scale: Scale::Full,
        runs: None,
        json_path: DEFAULT_JSON_PATH.to_string(),
        filter: None,
        runtimes: None,
        list: false,
        floor: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            "--quick" => options.scale = Scale::Quick,
            "--list" => options.list = true,
            "--floor" => options.floor = true,
            "--runs" => {
                let value = args.next().ok_or("--runs needs a number")?;
                let runs: usize = value
                    .parse()
                    .map_err(|_| format!("--runs expects a positive number, got {value:?}"))?;
                if runs == 0 {
                    return Err("--runs expects a positive number, got 0".to_string());
                }
                options.runs = Some(runs);
            }
            "--json" => options.json_path = args.next().ok_or("--json needs a path")?,
            "--runtimes" => {
                let value = args
                    .next()
                    .ok_or("--runtimes needs a list such as tokio-mt,smol-2t")?;
                options.runtimes = Some(value.split(',').map(str::to_string).collect());
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag:?}\n{USAGE}"));
            }
            filter => {
                if options.filter.is_some() {
                    return Err(format!(
                        "only one filter may be given, got a second: {filter:?}"
                    ));
                }
                options.filter = Some(filter.to_string());
            }
        }
    }
    Ok(options)
}

fn all_workloads() -> Vec<Workload> {
    let mut workloads = compare::tasks::workloads();
    workloads.extend(compare::channels::workloads());
    workloads.extend(compare::sync::workloads());
    workloads.extend(compare::time::workloads());
    workloads.extend(compare::net::workloads());
    workloads.extend(compare::memory::workloads());
    workloads.extend(compare::latency::workloads());
    workloads
}

fn chosen_flavours(names: &Option<Vec<String>>) -> Result<Vec<Flavour>, String> {
    let available = Flavour::all();
    let Some(names) = names else {
        return Ok(available);
    };
    let nameable: Vec<Flavour> = available.iter().copied().chain(Flavour::extra()).collect();
    names
        .iter()
        .map(|name| {
            nameable
                .iter()
                .copied()
                .find(|flavour| flavour.label() == name || flavour.family() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = nameable.iter().map(|f| f.label()).collect();
                    format!("unknown runtime {name:?}; available: {}", known.join(", "))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|mut flavours| {
            // `--runtimes weft` names a family: expand it to every flavour of it.
            for name in names {
                for flavour in &available {
                    if flavour.family() == name && !flavours.contains(flavour) {
                        flavours.push(*flavour);
                    }
                }
            }
            flavours
        })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Prints each panic as one line: a failing workload is reported in the
/// table, and a backtrace per lost task would bury it.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|m| m.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if compare::harness::not_applicable(&message).is_some() {
            return; // the table says so
        }
        eprintln!(
            "compare: panic on thread {} at {location}: {message}",
            thread.name().unwrap_or("unnamed")
        );
    }));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == compare::memory::CHILD_FLAG {
        compare::memory::child_main(&args[2], &args[3]);
        return;
    }
    let options = parse_options().unwrap_or_else(|message| {
        eprintln!("compare: {message}");
        std::process::exit(2);
    });
    let flavours = chosen_flavours(&options.runtimes).unwrap_or_else(|message| {
        eprintln!("compare: {message}");
        std::process::exit(2);
    });
    if options.floor {
        let runs = options.runs.unwrap_or(QUICK_RUNS);
        install_panic_hook();
        compare::floor::run(&all_workloads(), &flavours, runs, options.scale);
        return;
    }
    let workloads: Vec<Workload> = all_workloads()
        .into_iter()
        .filter(|w| {
            options
                .filter
                .as_deref()
                .map_or(true, |f| w.name.contains(f))
        })
        .collect();
    if options.list || workloads.is_empty() {
        if workloads.is_empty() {
            eprintln!(
                "compare: no workload name contains {:?}; the workloads are:",
                options.filter.as_deref().unwrap_or_default()
            );
        }
        for workload in all_workloads() {
            println!("{:<16} {}", workload.name, workload.stresses);
        }
        std::process::exit(if options.list { 0 } else { 2 });
    }
    let runs = options.runs.unwrap_or(match options.scale {
        Scale::Full => FULL_RUNS,
        Scale::Quick => QUICK_RUNS,
    });
    let labels: Vec<&str> = flavours.iter().map(|f| f.label()).collect();
    eprintln!(
        "compare: {} workloads x {} runs on {}",
        workloads.len(),
        runs,
        labels.join(", ")
    );

    install_panic_hook();
    let mut outcomes = Vec::with_capacity(workloads.len());
    for workload in &workloads {
        outcomes.push(harness::measure(workload, &flavours, runs, options.scale));
        if let Ok(mut finished) = harness::FINISHED_TABLE.lock() {
            *finished = harness::table(&outcomes);
        }
    }

    print!("{}", harness::table(&outcomes));
    let info = RunInfo {
        scale: options.scale,
        runs,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model: cpu_model(),
        finished_unix_s: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs()),
    };
    let json = harness::json(&info, &outcomes);
    if let Some(parent) = std::path::Path::new(&options.json_path).parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    match std::fs::write(&options.json_path, json) {
        Ok(()) => eprintln!("compare: wrote {}", options.json_path),
        Err(error) => {
            eprintln!("compare: cannot write {}: {error}", options.json_path);
            std::process::exit(1);
        }
    }
    let chart_path = std::path::Path::new(&options.json_path).with_extension(CHART_EXTENSION);
    let chart_path = chart_path.to_string_lossy();
    match compare::charts::write_ratios(&outcomes, &chart_path) {
        Ok(()) => eprintln!("compare: wrote {chart_path}"),
        Err(error) => eprintln!("compare: cannot write the chart {chart_path}: {error}"),
    }
    let stem = std::path::Path::new(&options.json_path).with_extension("");
    let latency_path = format!("{}-latency.{CHART_EXTENSION}", stem.to_string_lossy());
    let has_latency = outcomes.iter().any(|outcome| {
        outcome
            .workload
            .name
            .starts_with(compare::latency::NAME_PREFIX)
    });
    if has_latency {
        match compare::charts::write_latencies(
            &outcomes,
            compare::latency::NAME_PREFIX,
            &latency_path,
        ) {
            Ok(()) => eprintln!("compare: wrote {latency_path}"),
            Err(error) => eprintln!("compare: cannot write the chart {latency_path}: {error}"),
        }
    }
}
