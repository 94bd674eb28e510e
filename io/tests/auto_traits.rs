//! Compile-time Send/Sync/Unpin assertions for every public type, and for
//! the futures of the methods tasks spawn most (a `!Send` future here would
//! make a socket unusable from `weft::spawn`).

use std::future::Future;

use weft_io::fs::File;
use weft_io::io::{BufReader, BufWriter, ReadHalf, WriteHalf};
use weft_io::net::{
    OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener,
    UnixStream,
};
use weft_io::{Driver, Handle, Unparker};

fn send_sync_unpin<T: Send + Sync + Unpin>() {}
fn send_unpin<T: Send + Unpin>() {}
fn send_future<F: Future + Send>(_: &F) {}

/// The socket, file, driver and helper types are Send + Sync + Unpin
/// (`File` and the buffered adapters are Send + Unpin).
#[test]
fn public_types_have_the_expected_auto_traits() {
    send_sync_unpin::<TcpListener>();
    send_sync_unpin::<TcpStream>();
    send_sync_unpin::<OwnedReadHalf>();
    send_sync_unpin::<OwnedWriteHalf>();
    send_sync_unpin::<UdpSocket>();
    send_sync_unpin::<UnixListener>();
    send_sync_unpin::<UnixStream>();
    send_sync_unpin::<OwnedReadHalf<UnixStream>>();
    send_sync_unpin::<OwnedWriteHalf<UnixStream>>();
    send_sync_unpin::<UnixDatagram>();
    send_sync_unpin::<Handle>();
    send_sync_unpin::<Unparker>();
    send_unpin::<Driver>();
    send_unpin::<File>();
    send_sync_unpin::<BufReader<TcpStream>>();
    send_sync_unpin::<BufWriter<TcpStream>>();
    send_sync_unpin::<ReadHalf<TcpStream>>();
    send_sync_unpin::<WriteHalf<TcpStream>>();
}

/// The futures of the async methods are Send, so tasks holding them can
/// move between worker threads. Only type-checked: the futures are never
/// polled.
#[test]
fn async_method_futures_are_send() {
    if std::hint::black_box(false) {
        let listener: &TcpListener = unreachable_ref();
        send_future(&TcpListener::bind("127.0.0.1:0"));
        send_future(&listener.accept());
        send_future(&TcpStream::connect(String::from("localhost:80")));
        let socket: &UdpSocket = unreachable_ref();
        let mut buf = [0u8; 4];
        send_future(&socket.send_to(b"x", "127.0.0.1:9"));
        send_future(&socket.recv_from(&mut buf));
        send_future(&UnixListener::bind("/nonexistent"));
        send_future(&UnixStream::connect("/nonexistent"));
        send_future(&File::open("/nonexistent"));
        send_future(&weft_io::fs::read("/nonexistent"));
        send_future(&weft_io::signal::ctrl_c());
    }
}

/// A reference that is never created at run time (the caller is behind a
/// false condition); lets the test name method futures without a runtime.
fn unreachable_ref<T>() -> &'static T {
    unreachable!("only used for type checking")
}
