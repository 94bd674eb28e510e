//! hyper-util's pooled HTTP client on weft: keep-alive connections reused
//! across requests, concurrent requests, a connect timeout, and the error
//! a refused connection gives (aiohttp's `ClientSession`).
//!
//! What it shows: `hyper_util::client::legacy::Client` built with
//! `WeftExecutor` (the connection tasks), `WeftTimer` (the pool's idle
//! reaping) and `HttpConnector` (TCP connects on weft, host names resolved
//! on the blocking pool, with a connect timeout). The client is `Clone`
//! and shares one pool: 100 requests in waves of 10 need about 10 TCP
//! connections, not 100. In your own crate the types are `weft::hyper::{...}` (the
//! `hyper` feature); the examples use the `weft-hyper` crate directly so
//! that they build with no feature flag.
//!
//! How to run: `cargo run --example http_client` starts a small hyper
//! server on loopback (counting the connections it accepts), sends the
//! requests, and prints how many connections served how many requests.
//!
//! What to read next: `examples/patterns/connection_pool.rs` (the same
//! client under aiohttp's total and per-host limits),
//! `examples/http_server.rs` (the server side).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::client::legacy::Client;
use weft::net::TcpListener;
use weft_hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};

/// Requests sent in total.
const REQUESTS: usize = 100;
/// Requests in flight at once.
const CONCURRENCY: usize = 10;

fn main() -> io::Result<()> {
    weft::run(async {
        let accepted = Arc::new(AtomicUsize::new(0));
        let addr = start_server(Arc::clone(&accepted)).await?;
        println!("server on http://{addr}/");

        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let client = Client::builder(WeftExecutor::new())
            .timer(WeftTimer::new())
            .pool_timer(WeftTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build::<_, Empty<Bytes>>(connector);

        let started = Instant::now();
        let mut bytes = 0;
        for wave in 0..REQUESTS / CONCURRENCY {
            let requests = (0..CONCURRENCY).map(|i| {
                let client = client.clone();
                let uri = format!("http://{addr}/item/{}", wave * CONCURRENCY + i);
                async move {
                    let response = client
                        .get(uri.parse().expect("a valid URI"))
                        .await
                        .map_err(io::Error::other)?;
                    assert!(response.status().is_success());
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .map_err(io::Error::other)?;
                    Ok::<_, io::Error>(body.to_bytes().len())
                }
            });
            for result in weft::gather(requests).await {
                bytes += result?;
            }
        }
        let connections = accepted.load(Ordering::SeqCst);
        println!(
            "{REQUESTS} requests ({bytes} body bytes) in {:.1} ms over {connections} keep-alive TCP connections",
            started.elapsed().as_secs_f64() * 1e3
        );
        // hyper-util may open a spare connection while a busy one is on its
        // way back to the pool (it races a connect against the checkout),
        // so the bound is loose; without reuse it would be one per request.
        assert!(
            connections <= 2 * CONCURRENCY,
            "the pool reuses its connections: {connections} for {REQUESTS} requests"
        );

        // A port nobody listens on: the error names the cause.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let refused = client
            .get(format!("http://{closed}/").parse().expect("a valid URI"))
            .await
            .expect_err("nothing listens there");
        println!("a closed port answers: {}", error_chain(&refused));
        Ok(())
    })
}

/// A hyper server counting the connections it accepts.
async fn start_server(accepted: Arc<AtomicUsize>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    weft::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            weft::spawn(async move {
                let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| {
                    let body = format!("item at {}", request.uri().path());
                    async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
                });
                if let Err(error) = http1::Builder::new()
                    .timer(WeftTimer::new())
                    .serve_connection(WeftIo::new(stream), service)
                    .await
                {
                    println!("  server: connection failed: {error}");
                }
            });
        }
    });
    Ok(addr)
}

/// An error and its sources, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
