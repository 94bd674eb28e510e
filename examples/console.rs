//! A small service of named tasks to watch live with tokio-console: a
//! ticker, a queue pipeline (a producer and two consumers) and one task
//! whose polls are slow, on weft, with console-subscriber reading weft's
//! task spans (the `tracing` feature).
//!
//! What it shows: every task carries a name (`weft::task::Builder::name`),
//! and tokio-console lists them with their poll counts, busy and idle time
//! and wakes; the `slow-poll` task stands out with long polls (and
//! console's "long poll" warning), the consumers with many short ones.
//!
//! Run it (two terminals):
//!
//! ```text
//! cargo install tokio-console                          # once
//! RUSTFLAGS="--cfg console_without_tokio_unstable" CARGO_TARGET_DIR=target/console \
//!     cargo run --example console --features console   # the service
//! tokio-console                                        # connects to 127.0.0.1:6669
//! ```
//!
//! The flag is console-subscriber's: it refuses to start unless built with
//! `--cfg tokio_unstable` or, for runtimes other than tokio,
//! `--cfg console_without_tokio_unstable` (weft needs neither for its own
//! spans). A target dir of its own keeps the flag from rebuilding `target/`.
//!
//! or `scripts/console-demo.sh`, which runs both in tmux and prints the
//! console's screen. With `WEFT_CONSOLE_SECS=N` the service stops after N
//! seconds; without it, it runs until Ctrl-C.
//!
//! In a program of your own: depend on `console-subscriber`, enable weft's
//! `tracing` feature, build with `--cfg console_without_tokio_unstable` (for
//! console-subscriber), and call `console_subscriber::init()` before
//! building the runtime; weft's names and spans need no unstable flag.
//!
//! Read next: `runtime/src/trace/mod.rs` (what console-subscriber matches
//! on), `docs/observability.md` (every debug tool), and the guide's
//! measuring chapter (`docs/guide/08-measuring.md`).

use std::sync::Arc;
use std::time::Duration;
use weft::sync::Queue;
use weft::task::Builder;

fn main() {
    console_subscriber::init();
    weft::run(async {
        let queue = Arc::new(Queue::bounded(16));

        Builder::new().name("ticker").spawn(async {
            let mut ticks = weft::time::interval(Duration::from_millis(250));
            loop {
                ticks.tick().await;
            }
        });

        let producer_queue = queue.clone();
        Builder::new().name("producer").spawn(async move {
            for item in 0u64.. {
                weft::time::sleep(Duration::from_millis(10)).await;
                if producer_queue.put(item).await.is_err() {
                    return;
                }
            }
        });

        for index in 0..2 {
            let queue = queue.clone();
            let name = format!("consumer-{index}");
            Builder::new().name(&name).spawn(async move {
                let mut sum = 0u64;
                while let Ok(item) = queue.get().await {
                    sum = sum.wrapping_add(item);
                }
                sum
            });
        }

        Builder::new().name("slow-poll").spawn(async {
            loop {
                weft::time::sleep(Duration::from_millis(500)).await;
                // Blocks its worker for 60 ms inside one poll: what the
                // console flags, and what `Builder::slow_poll_threshold`
                // reports without a console.
                std::thread::sleep(Duration::from_millis(60));
            }
        });

        match std::env::var("WEFT_CONSOLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(secs) => weft::time::sleep(Duration::from_secs(secs)).await,
            None => weft::signal::ctrl_c().await.expect("listening for Ctrl-C"),
        }
        queue.shutdown(true);
        println!("console example: stopped");
    });
}
