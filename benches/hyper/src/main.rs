//! hyper 1.x on weft and on tokio, server and client, for
//! `scripts/bench-hyper.sh`.
//!
//! ```text
//! weft-hyper-bench weft      127.0.0.1:8081 [workers]   # server: hyper on weft, multi-thread
//! weft-hyper-bench weft-ct   127.0.0.1:8081             # server: hyper on weft, current-thread
//! weft-hyper-bench tokio     127.0.0.1:8082 [workers]   # the same server on tokio
//! weft-hyper-bench tokio-ct  127.0.0.1:8082
//! weft-hyper-bench client-weft  127.0.0.1:8082 [workers] [concurrency] [rounds]
//! weft-hyper-bench client-tokio 127.0.0.1:8082 [workers] [concurrency] [rounds]
//! ```
//!
//! The servers answer every request with the same 13-byte body, one task
//! per connection, keep-alive on, and serve until killed; the script drives
//! them with `wrk`. The clients are one hyper-util pooled client each,
//! sending `rounds` rounds of `concurrency` concurrent keep-alive GETs
//! (joined with the same executor-agnostic `join_all` on both runtimes) to
//! a server the script started, and print the time taken. With
//! `CLIENT_SPAWN=1` each request runs as a task of its own, spawned on
//! the client's runtime, and the `join_all` joins the tasks.
//!
//! The weft side uses `weft::hyper` (the `hyper` feature): `WeftIo`,
//! `WeftTimer`, `WeftExecutor` and `HttpConnector`. The tokio side uses
//! hyper-util's ready-made `TokioIo`, `TokioTimer`, `TokioExecutor` and
//! `HttpConnector`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;

/// The response body every request gets.
const BODY: &[u8] = b"Hello, world!";

/// Worker threads unless the command line says otherwise (the machine has 2 cores).
const DEFAULT_WORKERS: usize = 2;
/// Concurrent requests per client round.
const DEFAULT_CONCURRENCY: usize = 100;
/// Client rounds.
const DEFAULT_ROUNDS: usize = 1000;

async fn hello(
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

async fn serve_weft(addr: SocketAddr) {
    let listener = weft::net::TcpListener::bind(addr)
        .await
        .expect("binding the weft server");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        drop(weft::spawn(async move {
            let _ = http1::Builder::new()
                .timer(weft::hyper::WeftTimer::new())
                .serve_connection(weft::hyper::WeftIo::new(stream), service_fn(hello))
                .await;
        }));
    }
}

async fn serve_tokio(addr: SocketAddr) {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("binding the tokio server");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

/// `rounds` rounds of `concurrency` concurrent GETs through `get`; the
/// time the rounds took, warm-up round excluded.
async fn drive<F, Fut>(concurrency: usize, rounds: usize, get: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let warm_up = futures_util::future::join_all((0..concurrency).map(|_| get())).await;
    assert!(warm_up.iter().all(|&len| len == BODY.len()));
    let started = Instant::now();
    for _ in 0..rounds {
        let lengths = futures_util::future::join_all((0..concurrency).map(|_| get())).await;
        assert!(lengths.iter().all(|&len| len == BODY.len()));
    }
    started.elapsed()
}

async fn client_weft(addr: SocketAddr, concurrency: usize, rounds: usize) -> Duration {
    let client = Client::builder(weft::hyper::WeftExecutor::new())
        .timer(weft::hyper::WeftTimer::new())
        .pool_timer(weft::hyper::WeftTimer::new())
        .pool_max_idle_per_host(concurrency)
        .build::<_, Empty<Bytes>>(weft::hyper::HttpConnector::new());
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("a valid URI");
    let spawned = spawn_requests();
    drive(concurrency, rounds, || {
        let (client, uri) = (client.clone(), uri.clone());
        let request = async move {
            let response = client.get(uri).await.expect("the request succeeds");
            let body = response
                .into_body()
                .collect()
                .await
                .expect("the body arrives");
            body.to_bytes().len()
        };
        match spawned {
            false => Either::Left(request),
            true => {
                let task = weft::spawn(request);
                Either::Right(async move { task.await.expect("the request task does not panic") })
            }
        }
    })
    .await
}

async fn client_tokio(addr: SocketAddr, concurrency: usize, rounds: usize) -> Duration {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(hyper_util::rt::TokioExecutor::new())
        .timer(hyper_util::rt::TokioTimer::new())
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .pool_max_idle_per_host(concurrency)
        .build::<_, Empty<Bytes>>(connector);
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("a valid URI");
    let spawned = spawn_requests();
    drive(concurrency, rounds, || {
        let (client, uri) = (client.clone(), uri.clone());
        let request = async move {
            let response = client.get(uri).await.expect("the request succeeds");
            let body = response
                .into_body()
                .collect()
                .await
                .expect("the body arrives");
            body.to_bytes().len()
        };
        match spawned {
            false => Either::Left(request),
            true => {
                let task = tokio::spawn(request);
                Either::Right(async move { task.await.expect("the request task does not panic") })
            }
        }
    })
    .await
}

/// True when `CLIENT_SPAWN=1`: each request of a round runs as a task of
/// its own (spawned on the client's runtime and joined), instead of all
/// of them inside `block_on`'s future through one `join_all`. The two
/// shapes stress different paths: the second wakes the `block_on` thread
/// once per round, the first once per response.
fn spawn_requests() -> bool {
    std::env::var("CLIENT_SPAWN").is_ok_and(|value| value == "1")
}

fn number(args: &[String], index: usize, default: usize, what: &str) -> usize {
    match args.get(index) {
        Some(text) => text.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            eprintln!("weft-hyper-bench: {what} must be a positive number, got {text:?}");
            std::process::exit(2);
        }),
        None => default,
    }
}

fn weft_runtime(current_thread: bool, workers: usize) -> weft::Runtime {
    let mut builder = if current_thread {
        weft::Builder::new_current_thread()
    } else {
        let mut builder = weft::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder.build().expect("building weft's runtime")
}

fn tokio_runtime(current_thread: bool, workers: usize) -> tokio::runtime::Runtime {
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder
        .enable_all()
        .build()
        .expect("building tokio's runtime")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: weft-hyper-bench weft|weft-ct|tokio|tokio-ct ADDR [workers]\n       \
                 weft-hyper-bench client-weft|client-weft-ct|client-tokio|client-tokio-ct ADDR [workers] [concurrency] [rounds]";
    if args.len() < 3 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[2].parse().unwrap_or_else(|_| {
        eprintln!(
            "weft-hyper-bench: {:?} is not a socket address like 127.0.0.1:8081",
            args[2]
        );
        std::process::exit(2);
    });
    let workers = number(&args, 3, DEFAULT_WORKERS, "workers");
    let concurrency = number(&args, 4, DEFAULT_CONCURRENCY, "concurrency");
    let rounds = number(&args, 5, DEFAULT_ROUNDS, "rounds");
    let mode = args[1].as_str();
    let current_thread = mode.ends_with("-ct");
    match mode.trim_end_matches("-ct") {
        "weft" => weft_runtime(current_thread, workers).block_on(serve_weft(addr)),
        "tokio" => tokio_runtime(current_thread, workers).block_on(serve_tokio(addr)),
        "client-weft" | "client-tokio" => {
            let took = if mode.starts_with("client-weft") {
                weft_runtime(current_thread, workers).block_on(client_weft(
                    addr,
                    concurrency,
                    rounds,
                ))
            } else {
                tokio_runtime(current_thread, workers).block_on(client_tokio(
                    addr,
                    concurrency,
                    rounds,
                ))
            };
            let requests = concurrency * rounds;
            println!(
                "{mode}: {requests} requests in {:.3} s ({:.0} req/s)",
                took.as_secs_f64(),
                requests as f64 / took.as_secs_f64()
            );
        }
        other => {
            eprintln!("weft-hyper-bench: unknown mode {other:?}\n{usage}");
            std::process::exit(2);
        }
    }
}
