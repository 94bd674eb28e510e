//! # `graceful_shutdown`: Task.cancel + CancelledError cleanup, asyncio.Runner's cancel-all
//!
//! Shows: a TCP server whose connection tasks each watch a child
//! `CancellationToken`; cancelling the root (Ctrl-C, or a timer) makes every
//! open connection write an async goodbye line before it closes; the server
//! waits for them for a grace period, then aborts the stragglers; a client
//! that resets its connection is counted as one failed connection while the
//! server keeps serving the rest.
//!
//! Run: `cargo run --example graceful_shutdown` starts the server with 8
//! polite demo clients, one that resets its connection and one whose request
//! outlasts the grace period; press Ctrl-C (or wait 3 s for the timer) to
//! shut down. `cargo run --example tour` runs it with a timer.
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/graceful_shutdown.rs`, shared with the tour. Read
//! next: `sync/src/cancel.rs` (the token tree), `examples/echo_server.rs`
//! (the same accept loop without a token).

use std::time::Duration;

mod patterns {
    pub mod graceful_shutdown;
    pub mod report;
}

/// Polite demo clients.
const POLITE_CLIENTS: usize = 8;
/// The timer that stands in for Ctrl-C when nobody presses it.
const TIMER: Duration = Duration::from_secs(3);

#[weft::main]
async fn main() {
    let started = patterns::report::begin(
        "graceful_shutdown",
        "Task.cancel + CancelledError cleanup, asyncio.Runner's cancel-all",
    );
    let summary = patterns::graceful_shutdown::demo(POLITE_CLIENTS, async {
        println!(
            "serving; press Ctrl-C to shut down (a timer does it in {} s)",
            TIMER.as_secs()
        );
        weft::select! {
            signal = weft::signal::ctrl_c() => {
                signal.expect("listening for Ctrl-C");
                "Ctrl-C"
            },
            () = weft::time::sleep(TIMER) => "the timer fired",
        }
    })
    .await;
    patterns::report::end("graceful_shutdown", &summary, started);
}
