//! Stress tests of the reactor's registration slab and waker lists, named
//! after STYLE §7.5: `smoke`, `stampede`, `destructors`.

mod common;

use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use common::{block_on_parking, DriverThread};
use weft_io::net::UdpSocket;

/// Sockets each stampede thread opens and closes.
const SOCKETS_PER_THREAD: usize = 2000;
/// Threads registering and deregistering at once.
const THREADS: usize = 4;

/// One socket, one datagram to itself, received through the reactor; the
/// slab is empty again afterwards.
#[test]
fn smoke() {
    let driver = DriverThread::start();
    let _entered = driver.handle().enter();
    block_on_parking(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket
            .send_to(b"hi", socket.local_addr().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 2];
        assert_eq!(socket.recv_from(&mut buf).await.unwrap().0, 2);
    });
    let debug = format!("{:?}", driver.handle());
    assert!(
        debug.contains("sources: 0"),
        "the socket's slot is freed: {debug}"
    );
    drop(_entered);
    driver.stop();
}

/// Several threads register and deregister thousands of sockets at once,
/// each waiting on a real event, while the driver polls on its own thread:
/// every wait completes, and every slot is freed at the end.
#[test]
fn stampede() {
    let driver = DriverThread::start();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let handle = driver.handle().clone();
            std::thread::spawn(move || {
                let _entered = handle.enter();
                block_on_parking(async {
                    for i in 0..SOCKETS_PER_THREAD {
                        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                        let me = socket.local_addr().unwrap();
                        socket.send_to(&(i as u32).to_le_bytes(), me).await.unwrap();
                        let mut buf = [0u8; 4];
                        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                        assert_eq!((n, u32::from_le_bytes(buf)), (4, i as u32));
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("stampede thread panicked");
    }
    let debug = format!("{:?}", driver.handle());
    assert!(
        debug.contains("sources: 0"),
        "every slot must be freed: {debug}"
    );
    driver.stop();
}

/// A waker payload whose `Arc` strong count counts the waker's clones.
struct Tracked;

impl Wake for Tracked {
    fn wake(self: Arc<Self>) {}
}

/// A waker whose clones are counted through `Waker::from(Arc)`: each clone
/// is an `Arc` reference, so `Arc::strong_count` counts them.
fn tracked_waker() -> (Arc<Tracked>, Waker) {
    let tracked = Arc::new(Tracked);
    (tracked.clone(), Waker::from(tracked))
}

/// Wakers stored by pending operations are dropped exactly once: when the
/// socket they wait on is dropped, every clone the reactor held is
/// released (no leak in the waker lists).
#[test]
fn destructors() {
    let mut driver = common::new_driver();
    let _entered = driver.handle().enter();
    let (tracked, waker) = tracked_waker();
    let baseline = Arc::strong_count(&tracked);
    {
        let sockets: Vec<UdpSocket> = (0..100)
            .map(|_| {
                UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap()
            })
            .collect();
        // Drain the registrations' initial events.
        while driver.poll(Some(std::time::Duration::ZERO)).unwrap() {}
        let mut buf = [0u8; 4];
        for socket in &sockets {
            let mut recv = std::pin::pin!(socket.recv_from(&mut buf));
            let poll = std::future::Future::poll(recv.as_mut(), &mut Context::from_waker(&waker));
            assert!(poll.is_pending());
        }
        assert_eq!(
            Arc::strong_count(&tracked),
            baseline + 100,
            "one stored clone per socket"
        );
    }
    assert_eq!(
        Arc::strong_count(&tracked),
        baseline,
        "dropping the sockets drops every clone"
    );
}
