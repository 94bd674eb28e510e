//! connection_pool: a pooled HTTP/1.1 client with a total limit and a
//! per-host limit that reuses keep-alive connections (aiohttp's
//! `TCPConnector(limit=..., limit_per_host=...)`).
//!
//! The client is hyper-util's pooled client on weft (`HttpConnector`,
//! `WeftExecutor`, `WeftTimer`): it keeps each host's idle keep-alive
//! connections and reuses them, so this file writes no HTTP at all. The
//! limits are two `weft::sync::Semaphore`s around each request: at most
//! three requests in flight in total and two per host.
//!
//! Two small hyper servers listen on loopback and count the connections
//! they accept. Twenty GET requests (ten per server) are gathered at once
//! through the pool; since a host never has more than two requests in
//! flight, its pool needs about two connections, not ten.
//!
//! Each request takes its host permit before its total permit: taking the
//! total permit first would let requests queued for a busy host hold total
//! permits that requests for an idle host could use.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::client::legacy::Client;
use weft::net::TcpListener;
use weft::sync::Semaphore;
use weft::time::sleep;
use weft_hyper::{HttpConnector, WeftExecutor, WeftIo, WeftTimer};

/// Requests in flight across all hosts.
const TOTAL_LIMIT: usize = 3;
/// Requests in flight to one host.
const PER_HOST_LIMIT: usize = 2;
/// Requests sent to each server.
const REQUESTS_PER_HOST: usize = 10;
/// Time the server takes to answer one request.
const SERVICE_TIME: Duration = Duration::from_millis(40);

/// A current and a peak count.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// One host's limit and in-flight gauge.
struct Host {
    limit: Semaphore,
    in_flight: Gauge,
}

/// The pool: hyper-util's client (which keeps the idle connections) under
/// a total and a per-host limit.
struct Pool {
    client: Client<HttpConnector, Empty<Bytes>>,
    total: Semaphore,
    in_flight: Gauge,
    hosts: Mutex<HashMap<SocketAddr, Arc<Host>>>,
}

impl Pool {
    fn new() -> Pool {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        Pool {
            client: Client::builder(WeftExecutor::new())
                .timer(WeftTimer::new())
                .pool_timer(WeftTimer::new())
                .pool_max_idle_per_host(PER_HOST_LIMIT)
                .build(connector),
            total: Semaphore::new(TOTAL_LIMIT),
            in_flight: Gauge::default(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn host(&self, addr: SocketAddr) -> Arc<Host> {
        let mut hosts = self.hosts.lock().expect("pool lock not poisoned");
        let host = hosts.entry(addr).or_insert_with(|| {
            Arc::new(Host {
                limit: Semaphore::new(PER_HOST_LIMIT),
                in_flight: Gauge::default(),
            })
        });
        Arc::clone(host)
    }

    /// GET `path` from `addr` within both limits; the client reuses an
    /// idle keep-alive connection to `addr` if it has one.
    async fn get(&self, addr: SocketAddr, path: &str) -> io::Result<String> {
        let host = self.host(addr);
        let _host_permit = host.limit.acquire().await;
        let _total_permit = self.total.acquire().await;
        host.in_flight.enter();
        self.in_flight.enter();
        let body = self.fetch(addr, path).await;
        self.in_flight.leave();
        host.in_flight.leave();
        body
    }

    /// One request, its body read to the end (which hands the connection
    /// back to the pool).
    async fn fetch(&self, addr: SocketAddr, path: &str) -> io::Result<String> {
        let uri = format!("http://{addr}{path}")
            .parse()
            .map_err(io::Error::other)?;
        let response = self.client.get(uri).await.map_err(io::Error::other)?;
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
    }
}

/// A keep-alive hyper server that answers every GET after SERVICE_TIME and
/// counts the connections it accepts.
async fn serve(listener: TcpListener, name: &'static str, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _peer)) = listener.accept().await {
        accepted.fetch_add(1, Ordering::SeqCst);
        weft::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let body = format!("{name} served {}", request.uri().path());
                async move {
                    sleep(SERVICE_TIME).await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                }
            });
            let connection = http1::Builder::new()
                .timer(WeftTimer::new())
                .serve_connection(WeftIo::new(stream), service);
            if let Err(err) = connection.await {
                println!("  {name}: connection error: {err}");
            }
        });
    }
}

/// Twenty requests to two local servers through the pool.
pub async fn run() -> String {
    let mut servers = Vec::new();
    let mut addrs = Vec::new();
    for name in ["server-a", "server-b"] {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        addrs.push(
            listener
                .local_addr()
                .expect("a bound listener has an address"),
        );
        let accepted = Arc::new(AtomicUsize::new(0));
        servers.push((
            name,
            Arc::clone(&accepted),
            weft::spawn(serve(listener, name, accepted)),
        ));
    }

    let pool = Pool::new();
    let started = Instant::now();
    let requests = (0..REQUESTS_PER_HOST * addrs.len()).map(|i| {
        let addr = addrs[i % addrs.len()];
        let pool = &pool;
        async move { pool.get(addr, &format!("/item/{i}")).await }
    });
    let responses = weft::gather(requests).await;
    let took = started.elapsed();
    let ok = responses.iter().filter(|response| response.is_ok()).count();
    if let Some(Ok(first)) = responses.first() {
        println!("  first response: {first:?}");
    }
    for (name, accepted, task) in &servers {
        println!(
            "  {name}: {} keep-alive TCP connection(s) served {REQUESTS_PER_HOST} requests",
            accepted.load(Ordering::SeqCst)
        );
        task.abort();
    }
    let host_peaks: Vec<usize> = addrs
        .iter()
        .map(|addr| pool.host(*addr).in_flight.peak())
        .collect();
    let connects: usize = servers
        .iter()
        .map(|(_, accepted, _)| accepted.load(Ordering::SeqCst))
        .sum();
    println!(
        "  {ok}/{} responses in {:.2} s; peak in flight {} (limit {TOTAL_LIMIT}), per host {host_peaks:?} (limit {PER_HOST_LIMIT})",
        responses.len(),
        took.as_secs_f64(),
        pool.in_flight.peak()
    );
    assert_eq!(ok, responses.len(), "every request succeeds: {responses:?}");
    assert!(pool.in_flight.peak() <= TOTAL_LIMIT);
    assert!(host_peaks.iter().all(|&peak| peak <= PER_HOST_LIMIT));
    // The pool may open a spare connection while a busy one is on its way
    // back (hyper-util races a connect against the checkout), so the bound
    // is loose; without reuse it would be one connection per request.
    assert!(
        connects <= 2 * addrs.len() * PER_HOST_LIMIT,
        "connections are reused: {connects} for {ok} requests"
    );
    format!("{ok} requests over {connects} keep-alive TCP connections; limits {TOTAL_LIMIT} total, {PER_HOST_LIMIT}/host")
}
