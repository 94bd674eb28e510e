//! # `graceful_shutdown`: Task.cancel + CancelledError cleanup, asyncio.Runner's cancel-all
//!
//! A TCP server whose connection tasks each watch a child of one root
//! [`CancellationToken`]. Cancelling the root (Ctrl-C, or a timer in the
//! tour) stops the accept loop and tells every connection to wind down:
//! each one writes an async goodbye line to its client before it closes,
//! which is what asyncio code does in an `except CancelledError:` block.
//! The server then waits for its connections for a grace period, and
//! aborts the stragglers (asyncio.Runner cancels whatever is left on
//! close). A connection that fails (its client reset it) is counted and
//! reported; the server keeps serving the others.
//!
//! Why a token and not `JoinHandle::abort`: aborting drops the task's
//! future, so only synchronous `Drop` code runs and no goodbye can be
//! awaited. A token is a request: the task sees it at an `.await` of its
//! choosing (`select!` beside its read), and runs async cleanup.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream};
use weft::sync::{Barrier, CancellationToken};
use weft::task::TaskGroup;

/// What a connection task sends before it closes on shutdown.
pub const GOODBYE: &str = "goodbye: the server is shutting down";
/// How long the server waits for its connections after the cancel.
pub const GRACE: Duration = Duration::from_millis(500);
/// A request that makes the connection ignore the token for a long time:
/// the straggler that the grace period exists for.
const SLOW_REQUEST: &str = "slow";

/// How a connection ended.
enum Ending {
    /// The client closed it first.
    ClientLeft,
    /// Shutdown: the goodbye was written.
    SaidGoodbye,
}

/// What the server saw, once it has stopped.
#[derive(Debug, Default)]
pub struct Report {
    /// Connections accepted.
    pub accepted: usize,
    /// Connections that wrote their goodbye on shutdown.
    pub goodbyes: usize,
    /// Connections that ended with an error (counted, never fatal).
    pub failed: usize,
    /// Connections still running at the end of the grace period, aborted.
    pub aborted: usize,
    /// From the cancel to the server's return.
    pub stopped_after: Duration,
}

/// Serves `listener` until `root` is cancelled, then winds down as the
/// module doc says.
pub async fn serve(listener: TcpListener, root: CancellationToken) -> Report {
    let mut report = Report::default();
    let mut connections = TaskGroup::new();
    loop {
        weft::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    report.accepted += 1;
                    connections.spawn(connection(stream, root.child_token()));
                }
                // One failed accept is that client's problem, not the server's.
                Err(_) => report.failed += 1,
            },
            () = root.cancelled() => break,
        }
    }
    let cancelled_at = Instant::now();
    drop(listener);
    let deadline = weft::time::Instant::now() + GRACE;
    loop {
        match weft::time::timeout_at(deadline, connections.join_next()).await {
            Ok(Some(done)) => tally(&mut report, done),
            Ok(None) => break,
            Err(_elapsed) => {
                report.aborted = connections.len();
                connections.abort_all();
                break;
            }
        }
    }
    report.stopped_after = cancelled_at.elapsed();
    report
}

fn tally(report: &mut Report, done: Result<io::Result<Ending>, weft::task::JoinError>) {
    match done {
        Ok(Ok(Ending::SaidGoodbye)) => report.goodbyes += 1,
        Ok(Ok(Ending::ClientLeft)) => {}
        Ok(Err(_)) | Err(_) => report.failed += 1,
    }
}

/// One connection: echoes lines until the client leaves or `token` is
/// cancelled; on cancel, writes the goodbye line (the async cleanup).
async fn connection(stream: TcpStream, token: CancellationToken) -> io::Result<Ending> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    let mut line = String::new();
    loop {
        line.clear();
        weft::select! {
            read = lines.read_line(&mut line) => {
                if read? == 0 {
                    return Ok(Ending::ClientLeft);
                }
                if line.trim() == SLOW_REQUEST {
                    writer.write_all(b"working\n").await?;
                    // Ignores the token: only the grace period's abort ends it.
                    weft::time::sleep(Duration::from_secs(60)).await;
                }
                writer.write_all(line.as_bytes()).await?;
            },
            () = token.cancelled() => {
                writer.write_all(format!("{GOODBYE}\n").as_bytes()).await?;
                writer.flush().await?;
                return Ok(Ending::SaidGoodbye);
            },
        }
    }
}

/// A demo client: sends one line, reads the echo, signals that it is
/// connected, then reads until the server's goodbye. Returns true if the
/// goodbye arrived.
async fn polite_client(addr: SocketAddr, connected: &Barrier) -> io::Result<bool> {
    let stream = TcpStream::connect(addr).await?;
    let mut lines = BufReader::new(stream);
    lines.get_mut().write_all(b"hello\n").await?;
    let mut echo = String::new();
    lines.read_line(&mut echo).await?;
    connected.wait().await;
    let mut goodbye = String::new();
    lines.read_line(&mut goodbye).await?;
    Ok(goodbye.trim_end() == GOODBYE)
}

/// A client that resets its connection after its first echo: a failed
/// connection for the server, which must keep serving the others.
async fn resetting_client(addr: SocketAddr, connected: &Barrier) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(b"hello\n").await?;
    let mut echo = [0u8; 6];
    stream.read_exact(&mut echo).await?;
    socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
    stream.write_all(b"half a request").await?;
    drop(stream);
    connected.wait().await;
    Ok(())
}

/// A client whose request keeps its connection busy past the grace period.
async fn slow_client(addr: SocketAddr, connected: &Barrier) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(format!("{SLOW_REQUEST}\n").as_bytes())
        .await?;
    // The acknowledgement proves the server is inside the slow request.
    let mut working = [0u8; 8];
    stream.read_exact(&mut working).await?;
    connected.wait().await;
    // The server aborts the connection: the read ends (0 bytes or an error).
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    Ok(())
}

/// Runs the server with `polite` polite clients, one resetting and one
/// slow client; cancels the root once all are connected, when `trigger`
/// completes (a timer in the tour, Ctrl-C or a timer when run alone).
pub async fn demo<F: std::future::Future<Output = &'static str>>(
    polite: usize,
    trigger: F,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let root = CancellationToken::new();
    let server = weft::spawn(serve(listener, root.clone()));
    // Everyone connected (polite, resetting, slow) plus this task.
    let connected = std::sync::Arc::new(Barrier::new(polite + 3));
    let polite_clients: Vec<_> = (0..polite)
        .map(|_| {
            let connected = connected.clone();
            weft::spawn(async move { polite_client(addr, &connected).await })
        })
        .collect();
    let resetting = weft::spawn({
        let connected = connected.clone();
        async move { resetting_client(addr, &connected).await }
    });
    let slow = weft::spawn({
        let connected = connected.clone();
        async move { slow_client(addr, &connected).await }
    });
    connected.wait().await;
    let cause = trigger.await;
    println!(
        "all {} clients connected; {cause}: cancelling the root token",
        polite + 2
    );
    root.cancel();

    let report = server.await.expect("the server task panicked");
    let mut goodbyes_read = 0;
    for client in polite_clients {
        if client
            .await
            .expect("a client panicked")
            .expect("a polite client's I/O failed")
        {
            goodbyes_read += 1;
        }
    }
    resetting
        .await
        .expect("the resetting client panicked")
        .expect("the resetting client's I/O failed");
    slow.await
        .expect("the slow client panicked")
        .expect("the slow client's I/O failed");

    println!(
        "server: {} accepted, {} goodbyes written, {} failed, {} aborted after the grace",
        report.accepted, report.goodbyes, report.failed, report.aborted
    );
    println!("{goodbyes_read} of {polite} polite clients read their goodbye line");
    println!(
        "{} connection failed (reset by its client), the server kept serving",
        report.failed
    );
    println!(
        "the server returned {} ms after the cancel (grace {} ms)",
        report.stopped_after.as_millis(),
        GRACE.as_millis()
    );
    assert_eq!(
        goodbyes_read, polite,
        "every polite client reads its goodbye"
    );
    assert_eq!(
        report.goodbyes, polite,
        "every polite connection says goodbye"
    );
    assert_eq!(report.failed, 1, "the resetting client is the one failure");
    assert_eq!(
        report.aborted, 1,
        "the slow connection is aborted at the grace"
    );
    assert!(
        report.stopped_after < GRACE + Duration::from_millis(400),
        "the server must return within the grace period"
    );
    format!(
        "{goodbyes_read}/{polite} goodbyes read, 1 failed, 1 aborted, stopped in {} ms",
        report.stopped_after.as_millis()
    )
}

/// The tour's entry: 8 polite clients, the cancel comes from a timer.
// `examples/graceful_shutdown.rs` calls `demo` with Ctrl-C as its trigger.
#[allow(dead_code)]
pub async fn run() -> String {
    demo(8, async {
        weft::time::sleep(Duration::from_millis(50)).await;
        "a 50 ms timer fired"
    })
    .await
}
