//! connection_pool: an HTTP/1.1 client pool with a total limit and a
//! per-host limit that reuses keep-alive connections (aiohttp's
//! `TCPConnector(limit=..., limit_per_host=...)`).
//!
//! Two tiny HTTP servers listen on loopback. Twenty GET requests (ten per
//! server) are gathered at once through a `Pool` that allows at most three
//! requests in flight in total and two per host. A connection goes back to
//! its host's idle list after each response, so later requests reuse it
//! instead of connecting again: the servers see at most two connections
//! each, not twenty.
//!
//! Each request takes its host permit before its total permit: taking the
//! total permit first would let requests queued for a busy host hold total
//! permits that requests for an idle host could use.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream};
use weft::sync::Semaphore;
use weft::time::sleep;

/// Requests in flight across all hosts.
const TOTAL_LIMIT: usize = 3;
/// Requests in flight to one host.
const PER_HOST_LIMIT: usize = 2;
/// Requests sent to each server.
const REQUESTS_PER_HOST: usize = 10;
/// Time the server takes to answer one request.
const SERVICE_TIME: Duration = Duration::from_millis(40);
/// Size of one read from a socket.
const READ_CHUNK_BYTES: usize = 1024;

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

/// One keep-alive connection and the bytes read past the last response.
struct Connection {
    stream: TcpStream,
    buffered: Vec<u8>,
}

impl Connection {
    /// Sends one GET and reads one `Content-Length` response.
    async fn get(&mut self, host: SocketAddr, path: &str) -> io::Result<String> {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n");
        self.stream.write_all(request.as_bytes()).await?;
        let head_end = loop {
            if let Some(at) = self.buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.read_more().await?;
        };
        let head = String::from_utf8_lossy(&self.buffered[..head_end]).into_owned();
        let length = content_length(&head)?;
        while self.buffered.len() < head_end + length {
            self.read_more().await?;
        }
        let body: Vec<u8> = self
            .buffered
            .drain(..head_end + length)
            .skip(head_end)
            .collect();
        String::from_utf8(body).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
    }

    async fn read_more(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection mid-response",
            ));
        }
        self.buffered.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}

/// The `Content-Length` of a response head.
fn content_length(head: &str) -> io::Result<usize> {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("response without Content-Length: {head:?}"),
            )
        })
}

/// Per-host state: its limit, its idle connections, its in-flight gauge.
struct Host {
    limit: Semaphore,
    idle: Mutex<Vec<Connection>>,
    in_flight: Gauge,
}

/// The client pool.
struct Pool {
    total: Semaphore,
    in_flight: Gauge,
    hosts: Mutex<HashMap<SocketAddr, Arc<Host>>>,
    connects: AtomicUsize,
}

impl Pool {
    fn new() -> Pool {
        Pool {
            total: Semaphore::new(TOTAL_LIMIT),
            in_flight: Gauge::default(),
            hosts: Mutex::new(HashMap::new()),
            connects: AtomicUsize::new(0),
        }
    }

    fn host(&self, addr: SocketAddr) -> Arc<Host> {
        let mut hosts = self.hosts.lock().expect("pool lock not poisoned");
        let host = hosts.entry(addr).or_insert_with(|| {
            Arc::new(Host {
                limit: Semaphore::new(PER_HOST_LIMIT),
                idle: Mutex::new(Vec::new()),
                in_flight: Gauge::default(),
            })
        });
        Arc::clone(host)
    }

    /// GET `path` from `addr` within both limits, on a reused connection if
    /// one is idle.
    async fn get(&self, addr: SocketAddr, path: &str) -> io::Result<String> {
        let host = self.host(addr);
        let _host_permit = host.limit.acquire().await;
        let _total_permit = self.total.acquire().await;
        host.in_flight.enter();
        self.in_flight.enter();
        let body = self.get_on_idle_or_new(&host, addr, path).await;
        self.in_flight.leave();
        host.in_flight.leave();
        body
    }

    /// One request on a reused connection if one is idle, else on a new
    /// one; the connection goes back to the idle list if the exchange
    /// succeeded (a failed one may be mid-response, so it is dropped).
    async fn get_on_idle_or_new(
        &self,
        host: &Host,
        addr: SocketAddr,
        path: &str,
    ) -> io::Result<String> {
        let reused = host.idle.lock().expect("idle lock not poisoned").pop();
        let mut conn = match reused {
            Some(conn) => conn,
            None => {
                self.connects.fetch_add(1, Ordering::SeqCst);
                let stream = TcpStream::connect(addr).await?;
                Connection {
                    stream,
                    buffered: Vec::new(),
                }
            }
        };
        let body = conn.get(addr, path).await?;
        host.idle.lock().expect("idle lock not poisoned").push(conn); // keep-alive
        Ok(body)
    }
}

/// A minimal keep-alive HTTP/1.1 server: answers every GET after SERVICE_TIME.
async fn serve(listener: TcpListener, name: &'static str, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _peer)) = listener.accept().await {
        accepted.fetch_add(1, Ordering::SeqCst);
        weft::spawn(async move {
            if let Err(err) = answer_requests(stream, name).await {
                println!("  {name}: connection error: {err}");
            }
        });
    }
}

async fn answer_requests(stream: TcpStream, name: &str) -> io::Result<()> {
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(()); // the client closed the connection
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
                break; // end of headers
            }
        }
        sleep(SERVICE_TIME).await;
        let body = format!("{name} served {path}");
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{body}",
            body.len()
        );
        write_half.write_all(response.as_bytes()).await?;
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
            "  {name} accepted {} connection(s)",
            accepted.load(Ordering::SeqCst)
        );
        task.abort();
    }
    let host_peaks: Vec<usize> = addrs
        .iter()
        .map(|addr| pool.host(*addr).in_flight.peak())
        .collect();
    let connects = pool.connects.load(Ordering::SeqCst);
    println!(
        "  {ok}/{} responses in {:.2} s; peak in flight {} (limit {TOTAL_LIMIT}), per host {host_peaks:?} (limit {PER_HOST_LIMIT})",
        responses.len(),
        took.as_secs_f64(),
        pool.in_flight.peak()
    );
    assert_eq!(ok, responses.len(), "every request succeeds: {responses:?}");
    assert!(pool.in_flight.peak() <= TOTAL_LIMIT);
    assert!(host_peaks.iter().all(|&peak| peak <= PER_HOST_LIMIT));
    assert!(
        connects <= addrs.len() * PER_HOST_LIMIT,
        "connections are reused"
    );
    format!("{ok} requests over {connects} keep-alive connections; limits {TOTAL_LIMIT} total, {PER_HOST_LIMIT}/host")
}
