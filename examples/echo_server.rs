//! A TCP echo server: an accept loop, one task per connection, a graceful
//! stop on Ctrl-C, and clients that reset their connection counted as
//! failed connections while the server keeps serving the others.
//!
//! What it shows: `weft::net::TcpListener::bind`/`accept`, a task per
//! connection with `weft::spawn`, `weft::io::copy` between the two halves
//! of `TcpStream::into_split`, and `weft::signal::ctrl_c` raced against the
//! accept loop (accept is cancel-safe: a connection not yet accepted stays
//! in the kernel's queue). One connection's error (a client that vanished,
//! `ConnectionReset`) is that connection's failure, counted and reported:
//! it is never returned from `main`, which would stop serving everyone.
//!
//! How to run:
//! - `cargo run --example echo_server` starts 20 demo clients in the same
//!   process, plus 5 that reset their connection mid-stream, serves them,
//!   prints what happened and exits.
//! - `cargo run --example echo_server -- --clients 50` does the same with
//!   50 clients.
//! - `cargo run --example echo_server -- --external --clients 100` starts
//!   no demo clients: it prints its address and serves 100 outside clients
//!   (e.g. `cargo run --example echo_client -- --addr 127.0.0.1:PORT`),
//!   or stops early on Ctrl-C.
//!
//! What to read next: `examples/echo_client.rs` (many concurrent clients),
//! `io/src/net/tcp.rs` (the socket types), and `io/src/reactor/readiness.rs`
//! (how a blocked read becomes a wake-up).

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Instant;

#[path = "support/reset.rs"]
mod reset;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Clients served (and, without `--external`, started) by default.
const DEFAULT_CLIENTS: usize = 20;
/// Bytes each demo client sends: several reads and writes per connection.
const DEMO_MESSAGE_BYTES: usize = 64 * 1024;
/// Demo clients (on top of `--clients`) that reset their connection
/// mid-stream.
const RESETTING_CLIENTS: usize = 5;

struct Args {
    clients: usize,
    external: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        clients: DEFAULT_CLIENTS,
        external: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--clients" => {
                args.clients = iter
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--clients needs a number, e.g. --clients 50")
            }
            "--external" => args.external = true,
            other => panic!("unknown argument {other:?}; expected --clients N or --external"),
        }
    }
    args
}

fn main() -> io::Result<()> {
    let args = parse_args();
    weft::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("echo server listening on {addr}");
        let started = Instant::now();

        let (demo_clients, resetting_clients, expected) = if args.external {
            println!(
                "waiting for {} clients (Ctrl-C to stop early)",
                args.clients
            );
            (Vec::new(), Vec::new(), args.clients)
        } else {
            let good = (0..args.clients)
                .map(|id| weft::spawn(demo_client(addr, id)))
                .collect();
            let resetting = (0..RESETTING_CLIENTS)
                .map(|_| weft::spawn(resetting_client(addr)))
                .collect();
            (good, resetting, args.clients + RESETTING_CLIENTS)
        };

        let handlers = serve(&listener, expected).await?;
        let connections = handlers.len();
        let (mut echoed, mut failed) = (0, 0);
        for handler in handlers {
            match handler.await.expect("connection task panicked") {
                Ok(bytes) => echoed += bytes,
                Err(error) => {
                    failed += 1;
                    println!("connection failed: {error}");
                }
            }
        }
        for client in demo_clients.into_iter().chain(resetting_clients) {
            client.await.expect("demo client panicked")?;
        }
        if !args.external {
            assert_eq!(
                failed, RESETTING_CLIENTS,
                "each resetting client fails its connection"
            );
            assert_eq!(echoed, (args.clients * DEMO_MESSAGE_BYTES) as u64);
        }
        println!(
            "served {connections} connections, echoed {echoed} bytes in {:?}; {failed} connections failed (reset by their client), the server kept serving",
            started.elapsed()
        );
        Ok(())
    })
}

/// Accepts up to `clients` connections, each echoed by its own task, or
/// fewer if Ctrl-C arrives first. Returns the connection tasks.
async fn serve(
    listener: &TcpListener,
    clients: usize,
) -> io::Result<Vec<weft::task::JoinHandle<io::Result<u64>>>> {
    let mut ctrl_c = Box::pin(weft::signal::ctrl_c());
    let mut handlers = Vec::with_capacity(clients);
    while handlers.len() < clients {
        let accepted = {
            let mut accept = Box::pin(listener.accept());
            poll_fn(|cx| {
                if let Poll::Ready(result) = ctrl_c.as_mut().poll(cx) {
                    return Poll::Ready(result.map(|()| None));
                }
                accept.as_mut().poll(cx).map(|result| result.map(Some))
            })
            .await?
        };
        match accepted {
            Some((stream, peer)) => {
                println!("accepted {peer}");
                handlers.push(weft::spawn(echo(stream)));
            }
            None => {
                println!("Ctrl-C: no longer accepting, finishing open connections");
                break;
            }
        }
    }
    Ok(handlers)
}

/// Echoes everything the peer sends until it closes its side; returns the
/// byte count. Dropping the write half closes ours.
async fn echo(stream: TcpStream) -> io::Result<u64> {
    let (mut reader, mut writer) = stream.into_split();
    weft::io::copy(&mut reader, &mut writer).await
}

/// A client that sends a recognisable message, half-closes, and checks
/// that exactly the same bytes come back.
async fn demo_client(addr: SocketAddr, id: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let message: Vec<u8> = (0..DEMO_MESSAGE_BYTES).map(|i| (i + id) as u8).collect();
    let (mut reader, mut writer) = stream.into_split();
    // Write from a second task while this one reads, so neither side's
    // socket buffer can fill up and stall the other.
    let sent = message.clone();
    let sender = weft::spawn(async move {
        writer.write_all(&sent).await?;
        writer.close().await
    });
    let mut echoed = Vec::with_capacity(DEMO_MESSAGE_BYTES);
    reader.read_to_end(&mut echoed).await?;
    sender.await.expect("sender task panicked")?;
    assert!(
        echoed == message,
        "client {id}: the echo differs from what was sent"
    );
    Ok(())
}

/// A client that sends, reads part of the echo, and resets the connection
/// while the server is still echoing: the server's next read or write on
/// it fails with `ConnectionReset`.
async fn resetting_client(addr: SocketAddr) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&[7u8; 4096]).await?;
    let mut first = [0u8; 1024];
    stream.read_exact(&mut first).await?;
    reset::reset_on_drop(&stream)?;
    drop(stream);
    Ok(())
}
