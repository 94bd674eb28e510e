//! TCP echo over loopback with many concurrent connections, on the bare
//! driver and the test executor of `common`.

mod common;

use common::{Countdown, Executor};
use weft_io::io::{AsyncReadExt, AsyncWriteExt};
use weft_io::net::{TcpListener, TcpStream};

/// Concurrent connections in `echo_with_1000_concurrent_connections`: 1,000
/// client plus 1,000 server sockets, well inside the default 20,000 file
/// descriptor limit of this machine (raised in the test if lower).
const CONNECTIONS: usize = 1000;
/// Bytes each client sends; larger than a socket buffer is not needed to
/// interleave, several reads per connection are.
const BYTES_PER_CONNECTION: usize = 4096;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit so many sockets fit.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the valid, exclusively borrowed struct.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit failed");
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: setrlimit reads the valid struct.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit failed");
}

/// The byte at `offset` of connection `id`'s payload: differs between
/// connections and positions, so a byte delivered to the wrong connection
/// or out of order is caught.
fn payload_byte(id: usize, offset: usize) -> u8 {
    (id.wrapping_mul(31).wrapping_add(offset.wrapping_mul(7)) % 251) as u8
}

/// 1,000 clients connect at once, each sends its own pattern, reads the
/// echo back, and checks every byte.
#[test]
fn echo_with_1000_concurrent_connections() {
    raise_fd_limit();
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    let finished = Countdown::new(CONNECTIONS);
    let outside = finished.clone();
    executor.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server_spawner = spawner.clone();
        spawner.spawn(async move {
            for _ in 0..CONNECTIONS {
                let (mut stream, _) = listener.accept().await.unwrap();
                server_spawner.spawn(async move {
                    let mut buf = vec![0u8; 1024];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        for id in 0..CONNECTIONS {
            let finished = finished.clone();
            spawner.spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let payload: Vec<u8> = (0..BYTES_PER_CONNECTION)
                    .map(|i| payload_byte(id, i))
                    .collect();
                stream.write_all(&payload).await.unwrap();
                stream.close().await.unwrap();
                let mut echoed = Vec::new();
                stream.read_to_end(&mut echoed).await.unwrap();
                assert_eq!(echoed.len(), BYTES_PER_CONNECTION, "connection {id}");
                for (i, byte) in echoed.iter().enumerate() {
                    assert_eq!(*byte, payload_byte(id, i), "connection {id} byte {i}");
                }
                finished.done();
            });
        }
        finished.wait().await;
    });
    assert_eq!(outside.remaining(), 0);
}
