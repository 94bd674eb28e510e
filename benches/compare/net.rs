//! Network workload: TCP echo over loopback.
//!
//! This measures the reactor: registering sockets, turning readiness events
//! into wake-ups, and the read/write paths of the stream types. Messages are
//! small (64 bytes) and every connection waits for its echo before sending
//! again, so the figure is dominated by wake-up latency and per-operation
//! overhead (system calls, readiness bookkeeping), not by bandwidth.
//!
//! The echo server's per-connection task and the client are the same text on
//! every runtime, over each runtime's own stream type, and are written once
//! (`echo_and_client!`); binding, spawning and joining are written out per
//! runtime, side by side.

use std::net::SocketAddr;

use super::harness::{wall_ms, Metric, Primitives, Scale, Workload};
use super::rt::{tokio_run, weft_run, Executor, Flavour, Rt};

/// The workloads of this family.
pub fn workloads() -> Vec<Workload> {
    vec![Workload {
        name: "tcp_echo",
        stresses: "reactor: readiness to wake-up, socket read/write paths, cross-worker wake-ups",
        metric: Metric::WallMs,
        primitives: Primitives {
            weft: "weft::net::{TcpListener, TcpStream}",
            tokio: "tokio::net::{TcpListener, TcpStream}",
            smol: "smol::net (async-net on async-io)",
        },
        sample: tcp_echo::sample,
    }]
}

/// Bytes per message.
const MESSAGE_BYTES: usize = 64;

/// The server's read buffer. A server does not know how long the next
/// message is, so it reads into a buffer larger than any message (1 KiB, as
/// in tokio's echo example); a read shorter than the buffer then tells a
/// runtime that the socket is drained.
const SERVER_BUFFER_BYTES: usize = 1024;

/// C client tasks each connect to an echo server on 127.0.0.1 and make R
/// round trips of one 64-byte message; the server runs one task per
/// connection.
pub mod tcp_echo {
    use super::*;

    const ROUND_TRIPS: usize = 1_000;
    /// Any free port on loopback.
    const BIND_ADDR: &str = "127.0.0.1:0";

    fn connections(scale: Scale) -> usize {
        scale.pick(100, 20)
    }

    /// Round trips per sample (the floor section's operations).
    pub fn ops(scale: Scale) -> usize {
        connections(scale) * ROUND_TRIPS
    }

    pub fn sample(flavour: Flavour, scale: Scale) -> f64 {
        let connections = connections(scale);
        let (ms, trips) = match Rt::build(flavour) {
            Rt::Weft(rt) => wall_ms(|| weft_run(&rt, weft(connections))),
            Rt::Tokio(rt) => wall_ms(|| tokio_run(&rt, tokio(connections))),
            Rt::Smol(rt) => wall_ms(|| rt.run(|ex| smol(ex, connections))),
        };
        assert_eq!(
            trips,
            connections * ROUND_TRIPS,
            "tcp_echo lost a round trip"
        );
        ms
    }

    /// Defines `echo` (the server's task for one connection) and `client`
    /// (one client's round trips) for the runtime whose `$stream` type and
    /// read/write extension traits are in scope where it is used.
    ///
    /// The two functions are the same text on all three runtimes, but each
    /// runtime has its own stream type and its own `AsyncReadExt` and
    /// `AsyncWriteExt` traits, so one generic function would need a trait of
    /// ours over the three; the macro writes the same text three times
    /// instead, and each runtime's code below names its own types in its
    /// `use` lines. The rest of each runtime's body (binding, spawning,
    /// joining) stays written out, side by side: there the runtimes' APIs
    /// differ.
    macro_rules! echo_and_client {
        ($stream:ident) => {
            async fn echo(mut stream: $stream) {
                let mut buf = [0u8; SERVER_BUFFER_BYTES];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }

            async fn client(addr: SocketAddr) -> usize {
                let mut stream = $stream::connect(addr)
                    .await
                    .expect("connecting to the echo server");
                stream.set_nodelay(true).expect("setting TCP_NODELAY");
                let message = [7u8; MESSAGE_BYTES];
                let mut reply = [0u8; MESSAGE_BYTES];
                for _ in 0..ROUND_TRIPS {
                    stream.write_all(&message).await.expect("writing a message");
                    stream
                        .read_exact(&mut reply)
                        .await
                        .expect("reading the echo");
                }
                ROUND_TRIPS
            }
        };
    }

    async fn weft(connections: usize) -> usize {
        use weft::io::{AsyncReadExt, AsyncWriteExt};
        use weft::net::{TcpListener, TcpStream};

        echo_and_client!(TcpStream);

        let listener = TcpListener::bind(BIND_ADDR)
            .await
            .expect("binding the echo server");
        let addr = listener.local_addr().expect("the listener's address");
        let server = weft::spawn(async move {
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accepting a connection");
                stream.set_nodelay(true).expect("setting TCP_NODELAY");
                drop(weft::spawn(echo(stream)));
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| weft::spawn(client(addr)))
            .collect();
        let mut trips = 0;
        for handle in clients {
            trips += handle.await.expect("a client panicked");
        }
        server.await.expect("the accept loop panicked");
        trips
    }

    async fn tokio(connections: usize) -> usize {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::{TcpListener, TcpStream};

        echo_and_client!(TcpStream);

        let listener = TcpListener::bind(BIND_ADDR)
            .await
            .expect("binding the echo server");
        let addr = listener.local_addr().expect("the listener's address");
        let server = tokio::spawn(async move {
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accepting a connection");
                stream.set_nodelay(true).expect("setting TCP_NODELAY");
                tokio::spawn(echo(stream));
            }
        });
        let clients: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(client(addr)))
            .collect();
        let mut trips = 0;
        for handle in clients {
            trips += handle.await.expect("a client panicked");
        }
        server.await.expect("the accept loop panicked");
        trips
    }

    async fn smol(ex: Executor, connections: usize) -> usize {
        use smol::io::{AsyncReadExt, AsyncWriteExt};
        use smol::net::{TcpListener, TcpStream};

        echo_and_client!(TcpStream);

        let listener = TcpListener::bind(BIND_ADDR)
            .await
            .expect("binding the echo server");
        let addr = listener.local_addr().expect("the listener's address");
        let server_ex = ex.clone();
        let server = ex.spawn(async move {
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.expect("accepting a connection");
                stream.set_nodelay(true).expect("setting TCP_NODELAY");
                server_ex.spawn(echo(stream)).detach();
            }
        });
        let clients: Vec<_> = (0..connections).map(|_| ex.spawn(client(addr))).collect();
        let mut trips = 0;
        for handle in clients {
            trips += handle.await;
        }
        server.await;
        trips
    }
}
