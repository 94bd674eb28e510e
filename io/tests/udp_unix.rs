//! UDP round trips and Unix-domain stream and datagram sockets.

mod common;

use std::io::ErrorKind;

use common::{block_on, Countdown, Executor};
use weft_io::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use weft_io::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};

/// Round trips between two UDP sockets: each datagram arrives whole and
/// the reply goes back to the sender's address.
#[test]
fn udp_round_trips_between_two_sockets() {
    const ROUND_TRIPS: u32 = 100;
    block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        for i in 0..ROUND_TRIPS {
            let ping = format!("ping {i}");
            client.send_to(ping.as_bytes(), server_addr).await.unwrap();
            let mut buf = [0u8; 64];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], ping.as_bytes());
            assert_eq!(from, client.local_addr().unwrap());
            server.send_to(&buf[..n], from).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (ping.as_bytes(), server_addr));
        }
    });
}

/// A connected UDP socket uses `send`/`recv`; a datagram to a port with no
/// listener surfaces later as `ConnectionRefused` on that socket.
#[test]
fn connected_udp_sends_receives_and_reports_refusal() {
    block_on(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server.local_addr().unwrap()).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        client.send(b"hi").await.unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        server.send_to(&buf[..n], from).await.unwrap();
        assert_eq!(client.recv(&mut buf).await.unwrap(), 2);

        let closed_port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let lonely = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        lonely.connect(closed_port).await.unwrap();
        lonely.send(b"anyone?").await.unwrap();
        let error = lonely.recv(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    });
}

/// Several tasks waiting on one UDP socket are all served: the reactor
/// keeps a waker per waiting task, not one per direction.
#[test]
fn udp_socket_shared_by_several_receiving_tasks() {
    const RECEIVERS: usize = 4;
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let server = std::rc::Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let done = Countdown::new(RECEIVERS);
        for _ in 0..RECEIVERS {
            let (server, done) = (server.clone(), done.clone());
            spawner.spawn(async move {
                let mut buf = [0u8; 8];
                server.recv_from(&mut buf).await.unwrap();
                done.done();
            });
        }
        // Spawned tasks first run on the executor's next turn; after three
        // turns every receiver has polled and is waiting.
        for _ in 0..3 {
            common::yield_now().await;
        }
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for _ in 0..RECEIVERS {
            client
                .send_to(b"x", server.local_addr().unwrap())
                .await
                .unwrap();
        }
        done.wait().await;
    });
}

/// A fresh socket path in the temp directory, removed if left over.
fn socket_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("weft-io-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A Unix stream echo: lines written by the client come back through a
/// `BufReader` on the same connection.
#[test]
fn unix_stream_echoes_lines() {
    let path = socket_path("stream.sock");
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    let bound = path.clone();
    executor.block_on(async move {
        let listener = UnixListener::bind(&bound).await.unwrap();
        spawner.spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut stream = BufReader::new(stream);
            let mut line = String::new();
            while stream.read_line(&mut line).await.unwrap() > 0 {
                stream.write_all(line.as_bytes()).await.unwrap();
                line.clear();
            }
        });
        let mut client = BufReader::new(UnixStream::connect(&bound).await.unwrap());
        for i in 0..10 {
            client
                .write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
            let mut echoed = String::new();
            client.read_line(&mut echoed).await.unwrap();
            assert_eq!(echoed, format!("line {i}\n"));
        }
        let error = UnixListener::bind(&bound).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
    });
    std::fs::remove_file(path).unwrap();
}

/// A Unix stream splits into halves that work from two tasks at once;
/// halves of different streams do not reunite (both come back), halves of
/// one stream do, and the reunited stream still writes (the write half's
/// drop did not shut it down).
#[test]
fn unix_stream_splits_into_halves_that_reunite() {
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let (left, mut right) = UnixStream::pair().unwrap();
        let (mut reader, mut writer) = left.into_split();
        assert_eq!(reader.peer_addr().unwrap().as_pathname(), None);
        spawner.spawn(async move {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = right.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                right.write_all(&buf[..n]).await.unwrap();
            }
            right.write_all(b"bye").await.unwrap();
        });
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let sent = data.clone();
        let writing = async move {
            writer.write_all(&sent).await.unwrap();
            writer
        };
        let reading = async {
            let mut echoed = vec![0u8; data.len()];
            reader.read_exact(&mut echoed).await.unwrap();
            echoed
        };
        let (writer, echoed) = join_both(writing, reading).await;
        assert!(echoed == data, "the echo differs from what was written");

        let (other, _keep) = UnixStream::pair().unwrap();
        let (other_reader, other_writer) = other.into_split();
        let error = reader.reunite(other_writer).unwrap_err();
        assert!(error.to_string().contains("not from the same stream"));
        let (reader, _) = (error.0, other_reader);
        let mut stream = reader.reunite(writer).unwrap();
        stream.close().await.unwrap();
        let mut tail = Vec::new();
        stream.read_to_end(&mut tail).await.unwrap();
        assert_eq!(tail, b"bye");
    });
}

/// Polls two futures to completion side by side (the test helpers have
/// no join).
async fn join_both<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let std::task::Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// Connecting to a missing socket file is `NotFound`.
#[test]
fn unix_connect_to_missing_path_is_not_found() {
    block_on(async {
        let error = UnixStream::connect(socket_path("missing.sock"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    });
}

/// Unix datagrams: bound sockets exchange datagrams by path; a pair
/// exchanges them connected; stream pairs half-close.
#[test]
fn unix_datagrams_and_pairs() {
    let server_path = socket_path("dgram-server.sock");
    let client_path = socket_path("dgram-client.sock");
    block_on(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        client.send_to(b"ping", &server_path).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        server
            .send_to(b"pong", from.as_pathname().unwrap())
            .await
            .unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");

        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"one").await.unwrap();
        assert_eq!(b.recv(&mut buf).await.unwrap(), 3);

        let (mut left, mut right) = UnixStream::pair().unwrap();
        left.write_all(b"bye").await.unwrap();
        left.close().await.unwrap();
        let mut all = Vec::new();
        right.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"bye");
    });
    std::fs::remove_file(server_path).unwrap();
    std::fs::remove_file(client_path).unwrap();
}
