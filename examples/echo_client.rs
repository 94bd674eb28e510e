//! Many concurrent TCP clients doing request/response round trips against
//! an echo server, with a throughput summary.
//!
//! What it shows: hundreds of tasks each owning a `TcpStream`, all
//! multiplexed over one reactor; `write_all`/`read_exact` round trips;
//! `set_nodelay` for latency-bound traffic; collecting task results.
//!
//! How to run:
//! - `cargo run --release --example echo_client` starts an echo server in
//!   this process, runs 100 clients x 1,000 round trips of 64 bytes, and
//!   prints the round trips per second.
//! - `cargo run --release --example echo_client -- --addr 127.0.0.1:PORT`
//!   uses a running server instead (e.g. `echo_server --external`).
//! - `--clients N` and `--rounds N` change the load.
//!
//! What to read next: `examples/echo_server.rs`, `examples/http_get.rs`
//! (a protocol on top of a stream), and `io/src/reactor/mod.rs` (how one
//! `mio::Poll` serves every connection).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Concurrent clients by default.
const DEFAULT_CLIENTS: usize = 100;
/// Round trips per client by default.
const DEFAULT_ROUNDS: usize = 1000;
/// Bytes per request (and per echoed response).
const MESSAGE_BYTES: usize = 64;

struct Args {
    addr: Option<SocketAddr>,
    clients: usize,
    rounds: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        addr: None,
        clients: DEFAULT_CLIENTS,
        rounds: DEFAULT_ROUNDS,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        let mut value = |what: &str| {
            iter.next()
                .unwrap_or_else(|| panic!("{arg} needs a value, e.g. {arg} {what}"))
        };
        match arg.as_str() {
            "--addr" => {
                args.addr = Some(
                    value("127.0.0.1:8080")
                        .parse()
                        .expect("--addr wants ip:port"),
                )
            }
            "--clients" => args.clients = value("100").parse().expect("--clients wants a number"),
            "--rounds" => args.rounds = value("1000").parse().expect("--rounds wants a number"),
            other => panic!("unknown argument {other:?}; expected --addr, --clients or --rounds"),
        }
    }
    args
}

fn main() -> io::Result<()> {
    let args = parse_args();
    weft::run(async move {
        let addr = match args.addr {
            Some(addr) => addr,
            None => start_server(args.clients).await?,
        };
        println!(
            "{} clients x {} round trips of {MESSAGE_BYTES} bytes against {addr}",
            args.clients, args.rounds
        );
        let started = Instant::now();
        let clients: Vec<_> = (0..args.clients)
            .map(|id| weft::spawn(client(addr, id, args.rounds)))
            .collect();
        let mut slowest = Duration::ZERO;
        for client in clients {
            slowest = slowest.max(client.await.expect("client task panicked")?);
        }
        let elapsed = started.elapsed();
        let total = args.clients * args.rounds;
        println!(
            "{total} round trips in {elapsed:?} ({:.0} per second); slowest client took {slowest:?}",
            total as f64 / elapsed.as_secs_f64()
        );
        Ok(())
    })
}

/// One client: `rounds` request/response exchanges, each checked. Returns
/// how long it took.
async fn client(addr: SocketAddr, id: usize, rounds: usize) -> io::Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut request = [0u8; MESSAGE_BYTES];
    let mut response = [0u8; MESSAGE_BYTES];
    for round in 0..rounds {
        request[..8].copy_from_slice(&(id as u64).to_le_bytes());
        request[8..16].copy_from_slice(&(round as u64).to_le_bytes());
        stream.write_all(&request).await?;
        stream.read_exact(&mut response).await?;
        assert_eq!(request, response, "client {id} round {round}: wrong echo");
    }
    Ok(started.elapsed())
}

/// Starts an in-process echo server for `connections` connections; returns
/// its address.
async fn start_server(connections: usize) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    weft::spawn(async move {
        for _ in 0..connections {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            weft::spawn(async move {
                let (mut reader, mut writer) = stream.into_split();
                weft::io::copy(&mut reader, &mut writer).await
            });
        }
        Ok::<(), io::Error>(())
    });
    Ok(addr)
}
