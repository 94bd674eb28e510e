//! Soak: an echo server under many concurrent loopback connections, some of
//! which the client resets (RST, `SO_LINGER` 0) in the middle of a message.
//!
//! What it proves, through the facade only:
//! - every byte of every surviving connection comes back intact and in
//!   order (each message is a pattern derived from its connection and
//!   index, checked byte for byte);
//! - a reset mid-message ends only that connection's server task, which
//!   sees an error or EOF and exits;
//! - the server's resident memory (`/proc/self/statm`) stays flat across
//!   rounds after a warm-up round, within a margin;
//! - no task leaks: the server runtime's `alive_tasks` is back to its
//!   baseline (the accept loop) once the clients are gone.
//!
//! Scale: the default run is a few rounds of a few hundred connections
//! (seconds in debug). `WEFT_SOAK=1` opens 10,000 connections at once
//! (raising `RLIMIT_NOFILE` first) and runs rounds for 60 seconds
//! (scripts/soak.sh). The server and the clients run on separate runtimes
//! of this process; only loopback addresses are used.
//!
//! Unsafe (design note): three libc calls that std has no
//! safe form of: `setsockopt(SO_LINGER)` to make a close send RST,
//! `getrlimit`/`setrlimit(RLIMIT_NOFILE)` for the soak's 20,000
//! descriptors, and `sysconf(_SC_PAGESIZE)` to turn statm pages into bytes.
#![cfg(unix)]

mod reliability_support;

use reliability_support::{
    is_checker, is_soak, raise_open_files_limit, settle_alive_tasks, within, Rng,
};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::sync::Queue;
use weft::task::JoinHandle;

/// Largest message a client sends; a whole message fits in the loopback
/// socket buffers, so write-then-read never deadlocks.
const MAX_MESSAGE_BYTES: u64 = 8 * 1024;
/// One client in this many resets its connection mid-message.
const RESET_ONE_IN: u64 = 8;
/// Messages per connection per round.
const MESSAGES_PER_CONNECTION: u64 = 12;
/// Allowed RSS growth between the end of the warm-up round and the end of
/// the run: allocator caches and lazily grown tables stay under this; a
/// leak of even a few hundred bytes per connection does not.
const RSS_MARGIN_BYTES: u64 = 16 * 1024 * 1024;
/// Descriptors kept free for the runtimes, the test harness and stdio.
const DESCRIPTOR_HEADROOM: u64 = 256;
/// How long the soak variant keeps running rounds.
const SOAK_DURATION: Duration = Duration::from_secs(60);
/// Bound for the default run; the soak adds its duration.
const LIMIT: Duration = Duration::from_secs(120);

/// The sizes of one run.
#[derive(Copy, Clone, Debug)]
struct Plan {
    connections: usize,
    min_rounds: usize,
    duration: Duration,
}

fn plan() -> Plan {
    if is_soak() {
        Plan {
            connections: 10_000,
            min_rounds: 3,
            duration: SOAK_DURATION,
        }
    } else if is_checker() {
        Plan {
            connections: 16,
            min_rounds: 2,
            duration: Duration::ZERO,
        }
    } else {
        Plan {
            connections: 128,
            min_rounds: 4,
            duration: Duration::ZERO,
        }
    }
}

/// The server: an accept loop that spawns one echo task per connection and
/// hands each task's `JoinHandle` to the test through `finished`.
async fn serve(listener: TcpListener, finished: Arc<Queue<JoinHandle<EchoEnd>>>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors or a connection reset before accept: keep serving.
            Err(_) => continue,
        };
        let echo = weft::spawn(echo(stream));
        if finished.put(echo).await.is_err() {
            return;
        }
    }
}

/// How an echo task ended.
#[derive(Debug, PartialEq, Eq)]
enum EchoEnd {
    /// The client closed after its last message.
    Eof,
    /// The client reset the connection (or it broke).
    Error(io::ErrorKind),
}

async fn echo(mut stream: TcpStream) -> EchoEnd {
    let mut buf = vec![0u8; 4096];
    loop {
        let read = match stream.read(&mut buf).await {
            Ok(0) => return EchoEnd::Eof,
            Ok(read) => read,
            Err(err) => return EchoEnd::Error(err.kind()),
        };
        if let Err(err) = stream.write_all(&buf[..read]).await {
            return EchoEnd::Error(err.kind());
        }
    }
}

/// Byte `offset` of message `message` of connection `connection`: a
/// pattern that differs between connections, messages and offsets, so a
/// byte echoed into the wrong connection or place is caught.
fn pattern_byte(connection: u64, message: u64, offset: u64) -> u8 {
    (connection.wrapping_mul(31) ^ message.wrapping_mul(131) ^ offset.wrapping_mul(7)) as u8
}

/// What one client did.
#[derive(Debug, PartialEq, Eq)]
enum ClientEnd {
    /// Every message came back intact; the bytes echoed.
    Survived(u64),
    /// The client reset its connection on purpose.
    Reset,
}

/// Sets `SO_LINGER` to 0 so that closing `stream` sends RST, not FIN.
fn set_linger_zero(stream: &TcpStream) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open (owned by `stream`) and `linger` is a valid
    // `struct linger` whose size is passed alongside it.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One client: sends its messages and checks every echoed byte, or resets
/// mid-message if its generator says so.
async fn client(addr: SocketAddr, connection: u64, seed: u64) -> io::Result<ClientEnd> {
    let mut rng = Rng::new(seed);
    // Connection 0 of every round resets, so even the smallest run has resets.
    let resets = rng.below(RESET_ONE_IN) == 0 || connection == 0;
    let reset_at = resets.then(|| rng.below(MESSAGES_PER_CONNECTION));
    let mut stream = TcpStream::connect(addr).await?;
    let mut echoed = 0;
    let mut reply = Vec::new();
    for message in 0..MESSAGES_PER_CONNECTION {
        let len = 1 + rng.below(MAX_MESSAGE_BYTES);
        let bytes: Vec<u8> = (0..len)
            .map(|offset| pattern_byte(connection, message, offset))
            .collect();
        if reset_at == Some(message) {
            stream.write_all(&bytes[..bytes.len() / 2]).await?;
            set_linger_zero(&stream)?;
            drop(stream);
            return Ok(ClientEnd::Reset);
        }
        stream.write_all(&bytes).await?;
        reply.resize(bytes.len(), 0);
        stream.read_exact(&mut reply).await?;
        if let Some(offset) = bytes.iter().zip(&reply).position(|(a, b)| a != b) {
            panic!(
                "connection {connection} message {message}: byte {offset} came back as {} instead of {}",
                reply[offset], bytes[offset]
            );
        }
        echoed += len;
    }
    stream.close().await?;
    Ok(ClientEnd::Survived(echoed))
}

/// Resident set size of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page_size as u64
}

/// Totals of a run.
#[derive(Debug, Default)]
struct Totals {
    rounds: usize,
    survived: u64,
    resets: u64,
    bytes: u64,
    /// Server-side echo tasks that ended with an error (the resets, seen
    /// from the server; a reset that lands after the server's last read may
    /// show as a plain EOF instead).
    server_errors: u64,
}

/// One round: `connections` clients at once; returns when every client and
/// every server-side echo task of the round has finished.
fn round(
    clients: &weft::Runtime,
    server: &weft::Handle,
    addr: SocketAddr,
    finished: &Arc<Queue<JoinHandle<EchoEnd>>>,
    connections: usize,
    round: usize,
    totals: &mut Totals,
) {
    let ends = clients.block_on(async {
        let joins: Vec<_> = (0..connections as u64)
            .map(|connection| {
                let seed = (round as u64) << 32 | connection;
                weft::spawn(client(addr, connection, seed))
            })
            .collect();
        let mut ends = Vec::with_capacity(joins.len());
        for join in joins {
            ends.push(join.await.expect("a client task panicked"));
        }
        ends
    });
    for end in ends {
        match end.expect("a client that did not reset must not see an error") {
            ClientEnd::Survived(bytes) => {
                totals.survived += 1;
                totals.bytes += bytes;
            }
            ClientEnd::Reset => totals.resets += 1,
        }
    }
    totals.server_errors += server.block_on(async {
        let mut errors = 0;
        for _ in 0..connections {
            let echo = finished
                .get()
                .await
                .expect("the server hands over every connection");
            if let EchoEnd::Error(_) = echo.await.expect("an echo task panicked") {
                errors += 1;
            }
        }
        errors
    });
    totals.rounds += 1;
}

/// The echo soak (see the module doc for what it proves and its scale).
#[test]
fn echo_server_survives_resets_with_flat_memory_and_no_leaked_task() {
    let plan = plan();
    let totals = within("echo soak", LIMIT + plan.duration, move || {
        // Each connection is two descriptors in this process (client and
        // server side). Where the hard limit cannot be raised (not root),
        // the soak opens as many connections as it allows.
        let mut plan = plan;
        let limit = raise_open_files_limit(2 * plan.connections as u64 + DESCRIPTOR_HEADROOM);
        let affordable = (limit.saturating_sub(DESCRIPTOR_HEADROOM) / 2) as usize;
        if affordable < plan.connections {
            eprintln!(
                "echo soak: RLIMIT_NOFILE allows {limit} descriptors: {affordable} connections instead of {}",
                plan.connections
            );
            plan.connections = affordable;
        }
        let server = weft::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("server runtime builds");
        let clients = weft::Builder::new_current_thread()
            .build()
            .expect("client runtime builds");
        let finished = Arc::new(Queue::unbounded());
        let listener = server
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind on loopback");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let accept_loop = server.spawn(serve(listener, finished.clone()));
        let baseline_tasks = server.metrics().alive_tasks();
        let mut totals = Totals::default();
        round(
            &clients,
            server.handle(),
            addr,
            &finished,
            plan.connections,
            0,
            &mut totals,
        );
        let rss_after_warm_up = rss_bytes();
        let start = Instant::now();
        while totals.rounds < plan.min_rounds || start.elapsed() < plan.duration {
            let next = totals.rounds;
            round(
                &clients,
                server.handle(),
                addr,
                &finished,
                plan.connections,
                next,
                &mut totals,
            );
        }
        settle_alive_tasks(server.handle(), baseline_tasks);
        let rss_at_end = rss_bytes();
        assert!(
            rss_at_end <= rss_after_warm_up + RSS_MARGIN_BYTES,
            "RSS grew from {rss_after_warm_up} to {rss_at_end} bytes over {} rounds",
            totals.rounds
        );
        accept_loop.abort();
        finished.shutdown(true);
        drop(server);
        eprintln!(
            "echo soak: {} connections at once, {totals:?}, RSS {} -> {} KiB",
            plan.connections,
            rss_after_warm_up / 1024,
            rss_at_end / 1024
        );
        totals
    });
    assert!(totals.resets > 0 && totals.survived > 0, "{totals:?}");
}
