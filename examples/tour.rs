//! # The weft tour: every asyncio pattern, live
//!
//! Runs each pattern of `examples/patterns/` in turn, each on a fresh
//! runtime (as each `asyncio.run` starts a fresh event loop), then prints a
//! one-screen table: the pattern, what it showed, and how long it took.
//!
//! Run: `cargo run --example tour` (about five seconds; `--release` changes
//! little, the time is spent waiting on purpose).
//!
//! Each pattern is also its own example: `cargo run --example gather`, and
//! so on. Start reading at `examples/basics.rs`; `docs/asyncio.md` maps
//! every asyncio name to its weft counterpart.

use std::time::{Duration, Instant};

mod patterns {
    pub mod async_iter;
    pub mod basics;
    pub mod batch;
    pub mod cancel;
    pub mod condition;
    pub mod connection_pool;
    pub mod context_manager;
    pub mod create_task;
    pub mod errors;
    pub mod event;
    pub mod gather;
    pub mod graceful_shutdown;
    pub mod local_state;
    pub mod lock;
    pub mod producer_consumer;
    pub mod rate_limit;
    pub mod report;
    pub mod run_in_executor;
    pub mod testing;
    pub mod timeout;
}

/// One entry of the tour.
struct Pattern {
    name: &'static str,
    asyncio: &'static str,
    run: fn() -> String,
}

/// The patterns in reading order.
const PATTERNS: &[Pattern] = &[
    Pattern {
        name: "basics",
        asyncio: "asyncio.run + await",
        run: || weft::run(patterns::basics::run()),
    },
    Pattern {
        name: "gather",
        asyncio: "asyncio.gather",
        run: || weft::run(patterns::gather::run()),
    },
    Pattern {
        name: "create_task",
        asyncio: "asyncio.create_task, as_completed",
        run: || weft::run(patterns::create_task::run()),
    },
    Pattern {
        name: "cancel",
        asyncio: "Task.cancel + CancelledError",
        run: || weft::run(patterns::cancel::run()),
    },
    Pattern {
        name: "errors",
        asyncio: "gather(return_exceptions=True)",
        run: || weft::run(patterns::errors::run()),
    },
    Pattern {
        name: "timeout",
        asyncio: "asyncio.wait_for, timeout, shield",
        run: || weft::run(patterns::timeout::run()),
    },
    Pattern {
        name: "context_manager",
        asyncio: "async with",
        run: || weft::run(patterns::context_manager::run()),
    },
    Pattern {
        name: "async_iter",
        asyncio: "async for / async generators",
        run: || weft::run(patterns::async_iter::run()),
    },
    Pattern {
        name: "producer_consumer",
        asyncio: "asyncio.Queue, task_done, join",
        run: || weft::run(patterns::producer_consumer::run()),
    },
    Pattern {
        name: "rate_limit",
        asyncio: "asyncio.Semaphore",
        run: || weft::run(patterns::rate_limit::run()),
    },
    Pattern {
        name: "lock",
        asyncio: "asyncio.Lock",
        run: || weft::run(patterns::lock::run()),
    },
    Pattern {
        name: "event",
        asyncio: "asyncio.Event",
        run: || weft::run(patterns::event::run()),
    },
    Pattern {
        name: "condition",
        asyncio: "asyncio.Condition",
        run: || weft::run(patterns::condition::run()),
    },
    Pattern {
        name: "connection_pool",
        asyncio: "aiohttp TCPConnector(limit, limit_per_host)",
        run: || weft::run(patterns::connection_pool::run()),
    },
    Pattern {
        name: "graceful_shutdown",
        asyncio: "Task.cancel + CancelledError cleanup, Runner's cancel-all",
        run: || weft::run(patterns::graceful_shutdown::run()),
    },
    Pattern {
        name: "run_in_executor",
        asyncio: "loop.run_in_executor, asyncio.to_thread",
        run: || weft::run(patterns::run_in_executor::run()),
    },
    Pattern {
        name: "batch",
        asyncio: "gather in chunks",
        run: || weft::run(patterns::batch::run()),
    },
    Pattern {
        name: "local_state",
        asyncio: "contextvars, one-thread event loop",
        run: || weft::run_local(patterns::local_state::run()),
    },
    Pattern {
        name: "testing",
        asyncio: "pytest-asyncio + virtual time",
        run: patterns::testing::run,
    },
];

/// Width of the summary column, so the table fits one screen.
const SUMMARY_WIDTH: usize = 72;

fn main() {
    let tour_started = Instant::now();
    let mut rows: Vec<(&str, String, Duration)> = Vec::new();
    for pattern in PATTERNS {
        let started = patterns::report::begin(pattern.name, pattern.asyncio);
        let summary = (pattern.run)();
        let took = patterns::report::end(pattern.name, &summary, started);
        println!();
        rows.push((pattern.name, summary, took));
    }
    print_table(&rows, tour_started.elapsed());
}

/// The closing summary: one line per pattern.
fn print_table(rows: &[(&str, String, Duration)], total: Duration) {
    let name_width = rows.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
    println!(
        "{:<name_width$}  {:<SUMMARY_WIDTH$}  {:>7}",
        "pattern", "what it showed", "time"
    );
    println!("{}", "-".repeat(name_width + SUMMARY_WIDTH + 11));
    for (name, summary, took) in rows {
        println!(
            "{name:<name_width$}  {:<SUMMARY_WIDTH$}  {:>7}",
            clip(summary),
            patterns::report::seconds(*took)
        );
    }
    println!("{}", "-".repeat(name_width + SUMMARY_WIDTH + 11));
    println!(
        "{} patterns in {}",
        rows.len(),
        patterns::report::seconds(total)
    );
}

/// `text` cut to the summary column, with an ellipsis if it was longer.
fn clip(text: &str) -> String {
    if text.chars().count() <= SUMMARY_WIDTH {
        return text.to_string();
    }
    let kept: String = text.chars().take(SUMMARY_WIDTH - 1).collect();
    format!("{kept}…")
}
