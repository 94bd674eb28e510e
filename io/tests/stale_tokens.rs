//! Stale-token safety: sockets opened and closed by the thousand, so slab
//! slots are reused constantly, while other connections carry traffic. A
//! late event for a closed socket must never corrupt the socket that reused
//! its slot, and no live connection may lose a wake-up.
//!
//! What this test can and cannot see: a stale event that reached the wrong
//! socket would cost only a spurious wake and one `WouldBlock`, which the
//! echo traffic cannot observe. The generation check itself is pinned by the
//! unit test `stale_tokens_find_nothing` in `io/src/reactor/`; this test is
//! the stress half: slot reuse under load loses no wake-up and no byte.

mod common;

use common::{Countdown, Executor};
use weft_io::io::{AsyncReadExt, AsyncWriteExt};
use weft_io::net::{TcpListener, TcpStream, UdpSocket};

/// Sockets opened and closed while traffic flows.
const CHURN_SOCKETS: usize = 10_000;
/// Long-lived connections carrying traffic during the churn.
const TRAFFIC_CONNECTIONS: usize = 8;
/// Round trips per long-lived connection.
const ROUND_TRIPS: usize = 200;

/// 10,000 sockets are created and dropped (half of them with a datagram in
/// flight, so events for them are pending when they close) while eight
/// connections do echo round trips; every round trip returns exactly what
/// was sent.
#[test]
fn churning_10k_sockets_loses_no_wakeup_and_no_byte() {
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_spawner = spawner.clone();
        spawner.spawn(async move {
            for _ in 0..TRAFFIC_CONNECTIONS {
                let (mut stream, _) = listener.accept().await.unwrap();
                server_spawner.spawn(async move {
                    let mut buf = [0u8; 8];
                    while stream.read_exact(&mut buf).await.is_ok() {
                        stream.write_all(&buf).await.unwrap();
                    }
                });
            }
        });
        let done = Countdown::new(TRAFFIC_CONNECTIONS + 1);
        for id in 0..TRAFFIC_CONNECTIONS {
            let done = done.clone();
            spawner.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                for round in 0..ROUND_TRIPS {
                    let message = ((id as u64) << 32 | round as u64).to_le_bytes();
                    stream.write_all(&message).await.unwrap();
                    let mut echoed = [0u8; 8];
                    stream.read_exact(&mut echoed).await.unwrap();
                    assert_eq!(echoed, message, "connection {id} round {round}");
                }
                done.done();
            });
        }
        let churn_done = done.clone();
        spawner.spawn(async move {
            let target = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for i in 0..CHURN_SOCKETS {
                let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                if i % 2 == 0 {
                    // An event for `target`, and a writable event for
                    // `socket` that may still be queued when it closes.
                    socket
                        .send_to(b"x", target.local_addr().unwrap())
                        .await
                        .unwrap();
                }
                drop(socket);
                if i % 64 == 0 {
                    common::yield_now().await;
                }
            }
            churn_done.done();
        });
        done.wait().await;
    });
}

/// The same churn with the driver polling on its own thread, so sockets
/// are deregistered *while* `poll` runs and slots are reused between an
/// event's collection and its dispatch; a ping-pong on a third thread
/// must see every reply.
#[test]
fn churn_on_another_thread_while_the_driver_polls() {
    const PING_PONGS: usize = 1000;
    let driver = common::DriverThread::start();
    let churn_handle = driver.handle().clone();
    let churn = std::thread::spawn(move || {
        let _entered = churn_handle.enter();
        common::block_on_parking(async {
            let target = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            for _ in 0..CHURN_SOCKETS {
                let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                socket
                    .send_to(b"x", target.local_addr().unwrap())
                    .await
                    .unwrap();
            }
        })
    });
    {
        let _entered = driver.handle().enter();
        common::block_on_parking(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            a.connect(b.local_addr().unwrap()).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            let mut buf = [0u8; 8];
            for i in 0..PING_PONGS as u64 {
                a.send(&i.to_le_bytes()).await.unwrap();
                assert_eq!(b.recv(&mut buf).await.unwrap(), 8);
                assert_eq!(u64::from_le_bytes(buf), i);
                b.send(&buf).await.unwrap();
                assert_eq!(a.recv(&mut buf).await.unwrap(), 8);
                assert_eq!(u64::from_le_bytes(buf), i);
            }
        });
    }
    churn.join().expect("churn thread panicked");
    assert!(driver.stop() > 0);
}
