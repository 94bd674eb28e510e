//! # `connection_pool`: aiohttp TCPConnector(limit, limit_per_host)
//!
//! Shows: hyper-util's pooled HTTP client on weft under total and per-host limits, reusing keep-alive connections.
//!
//! Run: `cargo run --example connection_pool` (or `cargo run --example tour` for
//! every pattern in sequence).
//!
//! The pattern's code, with its explanation, is in
//! `examples/patterns/connection_pool.rs`, shared with the tour. Read next:
//! `examples/run_in_executor.rs` (the next pattern), or `examples/tour.rs` to run them all.

mod patterns {
    pub mod connection_pool;
    pub mod report;
}

#[weft::main]
async fn main() {
    let started = patterns::report::begin(
        "connection_pool",
        "aiohttp TCPConnector(limit, limit_per_host)",
    );
    let summary = patterns::connection_pool::run().await;
    patterns::report::end("connection_pool", &summary, started);
}
