//! UDP ping: a client sends numbered datagrams to an echo server in the
//! same process and measures the round-trip times.
//!
//! What it shows: `weft::net::UdpSocket` — `bind`, `send_to`/`recv_from` on
//! the server, `connect` + `send`/`recv` on the client — and that a
//! datagram arrives whole (its sequence number comes back intact).
//!
//! How to run: `cargo run --example udp_ping` sends 100 pings over
//! loopback and prints the min/average/max round trip; `--count N` changes
//! the number.
//!
//! What to read next: `io/src/net/udp.rs`, then `examples/unix_echo.rs`.

use std::io;
use std::time::{Duration, Instant};

use weft::net::UdpSocket;

/// Pings sent by default.
const DEFAULT_COUNT: u64 = 100;

fn parse_count() -> u64 {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => DEFAULT_COUNT,
        (Some("--count"), Some(n)) => n.parse().expect("--count wants a number, e.g. --count 50"),
        (Some(other), _) => panic!("unknown argument {other:?}; expected --count N"),
    }
}

fn main() -> io::Result<()> {
    let count = parse_count();
    weft::run(async move {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let server_addr = server.local_addr()?;
        let echo = weft::spawn(async move {
            let mut buf = [0u8; 64];
            for _ in 0..count {
                let (n, from) = server.recv_from(&mut buf).await?;
                server.send_to(&buf[..n], from).await?;
            }
            Ok::<(), io::Error>(())
        });

        let client = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(server_addr).await?;
        println!(
            "pinging {server_addr} from {} {count} times",
            client.local_addr()?
        );
        let started = Instant::now();
        let (mut min, mut max, mut sum) = (Duration::MAX, Duration::ZERO, Duration::ZERO);
        let mut reply = [0u8; 8];
        for seq in 0..count {
            let sent = Instant::now();
            client.send(&seq.to_be_bytes()).await?;
            let n = client.recv(&mut reply).await?;
            let rtt = sent.elapsed();
            assert_eq!(
                (n, u64::from_be_bytes(reply)),
                (8, seq),
                "reply out of order"
            );
            min = min.min(rtt);
            max = max.max(rtt);
            sum += rtt;
        }
        echo.await.expect("echo task panicked")?;
        println!(
            "{count} pings in {:?}: rtt min {min:?} avg {:?} max {max:?}",
            started.elapsed(),
            sum / count.max(1) as u32
        );
        Ok(())
    })
}
