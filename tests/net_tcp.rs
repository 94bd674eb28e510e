//! weft-io on the real runtime: TCP through the `weft` facade with tasks
//! spread over worker threads, so the reactor's wake-ups cross threads.

use std::io::ErrorKind;
use std::net::SocketAddr;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};

/// Connections in the multi-thread echo test (2,000 sockets, well under
/// the default descriptor limit).
const CONNECTIONS: usize = 1000;
/// Bytes per connection.
const BYTES_PER_CONNECTION: usize = 8 * 1024;

fn payload(id: usize) -> Vec<u8> {
    (0..BYTES_PER_CONNECTION)
        .map(|i| (id.wrapping_mul(131).wrapping_add(i) % 251) as u8)
        .collect()
}

async fn echo_server(listener: TcpListener, connections: usize) -> std::io::Result<()> {
    for _ in 0..connections {
        let (stream, _) = listener.accept().await?;
        weft::spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            weft::io::copy(&mut reader, &mut writer).await
        });
    }
    Ok(())
}

async fn client(addr: SocketAddr, id: usize) -> std::io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let sent = payload(id);
    let writer_task = weft::spawn(async move {
        writer.write_all(&sent).await?;
        writer.close().await
    });
    let mut echoed = Vec::new();
    reader.read_to_end(&mut echoed).await?;
    writer_task.await.expect("writer panicked")?;
    assert!(echoed == payload(id), "connection {id}: echo differs");
    Ok(())
}

/// 1,000 concurrent echo connections on a multi-thread runtime, every byte
/// checked; readers and writers of one connection run as separate tasks.
#[test]
fn multi_thread_runtime_echoes_1000_connections() {
    let runtime = weft::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(echo_server(listener, CONNECTIONS));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|id| weft::spawn(client(addr, id)))
            .collect();
        for client in clients {
            client.await.unwrap().unwrap();
        }
        server.await.unwrap().unwrap();
    });
}

/// The same on the current-thread flavour.
#[test]
fn current_thread_runtime_echoes_connections() {
    let runtime = weft::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(echo_server(listener, 100));
        let clients: Vec<_> = (0..100).map(|id| weft::spawn(client(addr, id))).collect();
        for client in clients {
            client.await.unwrap().unwrap();
        }
        server.await.unwrap().unwrap();
    });
}

/// OS errors come through as `io::Error` kinds on the runtime too.
#[test]
fn connection_refused_is_an_error_kind() {
    weft::run(async {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
    });
}

/// Creating a socket outside any runtime panics with a message that says
/// so.
#[test]
fn socket_outside_a_runtime_panics_with_a_clear_message() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let panic = std::panic::catch_unwind(|| TcpListener::from_std(std_listener)).unwrap_err();
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("no weft runtime"), "message: {message}");
}

/// A host name resolves on the runtime's blocking pool.
#[test]
fn connect_by_host_name_resolves_on_the_blocking_pool() {
    weft::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connect = weft::spawn(async move { TcpStream::connect(("localhost", port)).await });
        let (_accepted, peer) = listener.accept().await.unwrap();
        let stream = connect.await.unwrap().unwrap();
        assert_eq!(stream.local_addr().unwrap(), peer);
    });
}
