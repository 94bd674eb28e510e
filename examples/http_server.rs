//! An HTTP/1.1 server on hyper, running on weft: keep-alive connections,
//! a task per connection, graceful shutdown on Ctrl-C, and clients that
//! reset their connection counted as failures while the server keeps
//! serving everyone else.
//!
//! What it shows: hyper's `http1::Builder::serve_connection` over
//! `WeftIo<TcpStream>` with `WeftTimer` (the header-read timeout), the
//! accept loop raced against a shutdown signal with `weft::select!`, and
//! hyper's `graceful_shutdown`: an idle keep-alive connection closes at
//! once, a busy one after the response it is writing. In your own crate
//! the adapter types are `weft::hyper::{WeftIo, WeftTimer}` (the `hyper`
//! feature); the examples use the same types from the `weft-hyper` crate
//! so that they build with no feature flag.
//!
//! How to run:
//! - `cargo run --example http_server` starts demo clients in the same
//!   process (keep-alive clients on hyper-util's pooled client, and
//!   clients that reset mid-request), then shuts down as Ctrl-C would and
//!   prints what happened.
//! - `cargo run --example http_server -- --external` prints its address
//!   and serves until Ctrl-C (try `curl -v http://127.0.0.1:PORT/hello`),
//!   then shuts down gracefully.
//!
//! What to read next: `examples/http_client.rs` (the pooled client),
//! `hyper/src/io.rs` (how hyper's reads map onto weft's readiness).

#[path = "support/reset.rs"]
mod reset;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use weft::io::AsyncWriteExt;
use weft::net::{TcpListener, TcpStream};
use weft::sync::Event;
use weft_hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};

/// Well-behaved demo clients, each sending several requests on one
/// keep-alive connection.
const DEMO_CLIENTS: usize = 8;
/// Requests each demo client sends.
const REQUESTS_PER_CLIENT: usize = 5;
/// Demo clients that reset their connection in the middle of a request.
const RESETTING_CLIENTS: usize = 4;

/// What the server counts.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    requests: AtomicUsize,
    failed: AtomicUsize,
}

fn main() -> io::Result<()> {
    let external = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--external") => true,
        Some(other) => panic!("unknown argument {other:?}; expected nothing or --external"),
    };
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("http server listening on http://{addr}/");
        let stats = Arc::new(Stats::default());
        let shutdown = Arc::new(Event::new());
        let server = weft::spawn(serve(listener, Arc::clone(&stats), Arc::clone(&shutdown)));

        if external {
            println!("serving until Ctrl-C");
            weft::signal::ctrl_c().await?;
            println!("Ctrl-C: no new connections; open ones finish their response");
        } else {
            demo_clients(addr).await?;
            println!("demo done: shutting down as Ctrl-C would");
        }
        shutdown.set();
        server.await.expect("the accept loop does not panic");

        println!(
            "served {} requests on {} connections; {} connections failed (reset by their client), the server kept serving",
            stats.requests.load(Ordering::SeqCst),
            stats.connections.load(Ordering::SeqCst),
            stats.failed.load(Ordering::SeqCst),
        );
        Ok(())
    })
}

/// Accepts connections until `shutdown` is set, then tells every open
/// connection to finish gracefully and waits for all of them.
async fn serve(listener: TcpListener, stats: Arc<Stats>, shutdown: Arc<Event>) {
    let mut connections = Vec::new();
    loop {
        let accepted = weft::select! {
            accepted = listener.accept() => Some(accepted),
            _ = shutdown.wait() => None,
        };
        let Some(accepted) = accepted else { break };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            // An error here concerns one connection attempt, not the
            // listener (weft retries the transient ones itself).
            Err(error) => {
                println!("  accept failed: {error}");
                continue;
            }
        };
        stats.connections.fetch_add(1, Ordering::SeqCst);
        connections.retain(|task: &weft::task::JoinHandle<()>| !task.is_finished());
        let (stats, shutdown) = (Arc::clone(&stats), Arc::clone(&shutdown));
        connections.push(weft::spawn(async move {
            if let Err(error) = serve_connection(stream, &stats, &shutdown).await {
                stats.failed.fetch_add(1, Ordering::SeqCst);
                let cause = std::error::Error::source(&error)
                    .map(|cause| format!(": {cause}"))
                    .unwrap_or_default();
                println!("  connection failed: {error}{cause}");
            }
        }));
    }
    for connection in connections {
        connection.await.expect("connection tasks do not panic");
    }
}

/// Serves one keep-alive connection; on shutdown, asks hyper to close it
/// after the response in progress, if any.
async fn serve_connection(
    stream: TcpStream,
    stats: &Stats,
    shutdown: &Event,
) -> Result<(), hyper::Error> {
    stream.set_nodelay(true).ok();
    let service = service_fn(|request: Request<hyper::body::Incoming>| {
        stats.requests.fetch_add(1, Ordering::SeqCst);
        let body = format!("hello from weft: {}\n", request.uri().path());
        async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
    });
    let mut connection = pin!(http1::Builder::new()
        .timer(WeftTimer::new())
        .serve_connection(WeftIo::new(stream), service));
    weft::select! {
        result = connection.as_mut() => return result,
        _ = shutdown.wait() => {},
    }
    connection.as_mut().graceful_shutdown();
    connection.await
}

/// Keep-alive clients on the pooled client, and clients that reset
/// mid-request, all at once.
async fn demo_clients(addr: SocketAddr) -> io::Result<()> {
    let client = Client::builder(WeftExecutor::new())
        .timer(WeftTimer::new())
        .pool_timer(WeftTimer::new())
        .build::<_, Empty<Bytes>>(HttpConnector::new());
    let good = (0..DEMO_CLIENTS).map(|id| {
        let client = client.clone();
        async move {
            for n in 0..REQUESTS_PER_CLIENT {
                let uri = format!("http://{addr}/client/{id}/request/{n}");
                let response = client
                    .get(uri.parse().expect("a valid URI"))
                    .await
                    .map_err(io::Error::other)?;
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(io::Error::other)?;
                assert!(body.to_bytes().starts_with(b"hello from weft"));
            }
            Ok::<_, io::Error>(())
        }
    });
    let resetting = (0..RESETTING_CLIENTS).map(|_| reset_mid_request(addr));
    let (good, resetting) = weft::join!(weft::gather(good), weft::gather(resetting));
    for result in good.into_iter().chain(resetting) {
        result?;
    }
    println!(
        "  {DEMO_CLIENTS} clients got {} responses; {RESETTING_CLIENTS} clients reset mid-request",
        DEMO_CLIENTS * REQUESTS_PER_CLIENT
    );
    Ok(())
}

/// Sends the first half of a request head, then resets the connection.
async fn reset_mid_request(addr: SocketAddr) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /never-finished HTTP/1.1\r\nHost: demo\r\nX-Half: ")
        .await?;
    // Let the server start reading the request before the reset.
    weft::time::sleep(std::time::Duration::from_millis(20)).await;
    reset::reset_on_drop(&stream)?;
    drop(stream);
    Ok(())
}
