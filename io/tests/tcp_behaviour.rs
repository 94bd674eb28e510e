//! TCP behaviours beyond plain echo: half-close, errors passed through from
//! the OS (refused, reset, address in use), cancel safety of reads, split
//! halves in two tasks, and host-name resolution.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::task::Poll;

use common::{block_on, poll_once, set_linger_zero, Countdown, Executor};
use weft_io::io::{AsyncReadExt, AsyncWriteExt};
use weft_io::net::{TcpListener, TcpStream};

/// After the client shuts down writing, the server reads end-of-file but
/// can still send, and the client still receives.
#[test]
fn half_close_lets_the_other_direction_continue() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        assert_eq!(request, b"request");

        server.write_all(b"response after EOF").await.unwrap();
        server.close().await.unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        assert_eq!(response, "response after EOF");
    });
}

/// Connecting to a port nobody listens on is an `io::Error` of kind
/// `ConnectionRefused`, not a panic or a hang.
#[test]
fn connect_to_closed_port_is_connection_refused() {
    block_on(async {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
    });
}

/// Binding a port that is already listening is `AddrInUse`.
#[test]
fn bind_to_listening_port_is_addr_in_use() {
    block_on(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let error = TcpListener::bind(first.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    });
}

/// A peer that resets the connection mid-stream (SO_LINGER 0) makes the
/// server's next read fail with `ConnectionReset`, and the server keeps
/// serving its other connections.
#[test]
fn peer_reset_mid_stream_is_an_error_and_other_connections_continue() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let mut doomed = TcpStream::connect(addr).await.unwrap();
        let (mut doomed_server, _) = listener.accept().await.unwrap();
        let mut healthy = TcpStream::connect(addr).await.unwrap();
        let (mut healthy_server, _) = listener.accept().await.unwrap();

        doomed.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        doomed_server.read_exact(&mut buf).await.unwrap();
        doomed_server.write_all(b"ack").await.unwrap();
        let mut ack = [0u8; 3];
        doomed.read_exact(&mut ack).await.unwrap();
        set_linger_zero(&doomed);
        drop(doomed);

        let error = doomed_server.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");

        healthy.write_all(b"still here").await.unwrap();
        let mut echo = [0u8; 10];
        healthy_server.read_exact(&mut echo).await.unwrap();
        healthy_server.write_all(&echo).await.unwrap();
        let mut back = [0u8; 10];
        healthy.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"still here");

        // The listener is unaffected too.
        let (third, (accepted, _)) = join(TcpStream::connect(addr), listener.accept()).await;
        assert_eq!(third.local_addr().unwrap(), accepted.peer_addr().unwrap());
    });
}

/// Awaits two futures concurrently (both must succeed).
async fn join<A, B, TA, TB>(a: A, b: B) -> (TA, TB)
where
    A: Future<Output = std::io::Result<TA>>,
    B: Future<Output = std::io::Result<TB>>,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(r) = a.as_mut().poll(cx) {
                ra = Some(r.unwrap());
            }
        }
        if rb.is_none() {
            if let Poll::Ready(r) = b.as_mut().poll(cx) {
                rb = Some(r.unwrap());
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A read future dropped while pending consumes nothing: the bytes that
/// arrive afterwards (and the readiness the driver recorded while nobody
/// waited) go to the next read.
#[test]
fn dropped_read_future_loses_no_data() {
    let mut executor = Executor::new();
    executor.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        let mut buf = [0u8; 64];
        {
            let mut read = client.read(&mut buf);
            assert!(
                poll_once(&mut read).await.is_pending(),
                "nothing was sent yet"
            );
        }
        server.write_all(b"first").await.unwrap();
        // Let the driver dispatch the readiness while no read is waiting.
        common::yield_now().await;
        common::yield_now().await;
        let n = client.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");

        {
            let mut read = client.read(&mut buf);
            assert!(poll_once(&mut read).await.is_pending());
        }
        server.write_all(b"second").await.unwrap();
        let mut second = [0u8; 6];
        client.read_exact(&mut second).await.unwrap();
        assert_eq!(&second, b"second");
    });
}

/// `into_split` halves work from two tasks at once: one task streams data
/// in while the other streams it out, over one connection.
#[test]
fn split_halves_work_from_two_tasks() {
    const CHUNKS: usize = 200;
    const CHUNK_BYTES: usize = 1024;
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        spawner.spawn(async move {
            let mut buf = vec![0u8; CHUNK_BYTES];
            loop {
                let n = server.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                server.write_all(&buf[..n]).await.unwrap();
            }
        });
        let (mut reader, mut writer) = client.into_split();
        let done = Countdown::new(2);
        let writer_done = done.clone();
        spawner.spawn(async move {
            for i in 0..CHUNKS {
                writer
                    .write_all(&[(i % 256) as u8; CHUNK_BYTES])
                    .await
                    .unwrap();
            }
            drop(writer); // shuts down writing: the echo server sees EOF
            writer_done.done();
        });
        let reader_done = done.clone();
        spawner.spawn(async move {
            let mut all = Vec::new();
            reader.read_to_end(&mut all).await.unwrap();
            assert_eq!(all.len(), CHUNKS * CHUNK_BYTES);
            for (i, chunk) in all.chunks(CHUNK_BYTES).enumerate() {
                assert!(chunk.iter().all(|&b| b == (i % 256) as u8), "chunk {i}");
            }
            reader_done.done();
        });
        done.wait().await;
    });
}

/// A host name is resolved (on the blocking hook) and connected to.
#[test]
fn connect_resolves_host_names() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = TcpStream::connect(("localhost", port)).await;
        // localhost may resolve to ::1 first; every address is tried, so
        // the IPv4 one is reached.
        let stream = stream.unwrap();
        let (accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(stream.local_addr().unwrap(), peer);
        assert_eq!(accepted.peer_addr().unwrap(), peer);
        stream.set_nodelay(true).unwrap();
        assert!(stream.nodelay().unwrap());
    });
}

/// A name that does not resolve is an error, not a panic.
#[test]
fn connect_to_unresolvable_name_is_an_error() {
    block_on(async {
        let result = TcpStream::connect("no-such-host.invalid:80").await;
        assert!(result.is_err());
    });
}

/// A writer that fills the socket buffers gets `Pending` (write
/// readiness cleared), and resumes when the peer drains them: the write
/// direction of the readiness protocol. 32 MiB is far beyond loopback's
/// buffers, so the writer must block many times.
#[test]
fn writer_blocked_on_full_buffers_resumes_as_the_peer_reads() {
    const TOTAL_BYTES: usize = 32 * 1024 * 1024;
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let done = Countdown::new(1);
        let writer_done = done.clone();
        spawner.spawn(async move {
            let chunk = vec![0xa5u8; 1024 * 1024];
            for _ in 0..TOTAL_BYTES / chunk.len() {
                client.write_all(&chunk).await.unwrap();
            }
            client.close().await.unwrap();
            writer_done.done();
        });
        // Let the writer run until it blocks on full buffers.
        for _ in 0..3 {
            common::yield_now().await;
        }
        assert_eq!(done.remaining(), 1, "32 MiB cannot fit in loopback buffers");
        let mut received = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = server.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            assert!(buf[..n].iter().all(|&b| b == 0xa5));
            received += n;
        }
        assert_eq!(received, TOTAL_BYTES);
        done.wait().await;
    });
}

/// `connect` tries every address it is given: a refused first address does
/// not stop it from reaching the second; when all fail, the last error is
/// returned.
#[test]
fn connect_tries_every_address_in_turn() {
    block_on(async {
        let refused = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let stream = TcpStream::connect(&[refused, good][..]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);

        let error = TcpStream::connect(vec![refused, refused])
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        let error = TcpStream::connect(Vec::new()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "no address at all");
    });
}
