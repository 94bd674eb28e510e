//! The `AsRawFd` and `AsFd` impls that `net`'s `forward_fd!` writes: every
//! socket type hands out its own socket's descriptor. (The I/O trait impls
//! `forward_to_stream!` writes are exercised by every stream test.)

mod common;

use std::os::fd::{AsFd, AsRawFd};

use common::block_on;
use weft_io::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};

/// `as_raw_fd` and `as_fd` of a socket wrapped with `from_std` name the
/// descriptor the std socket had: the wrapper adds no descriptor of its own.
#[test]
fn socket_types_hand_out_the_wrapped_descriptor() {
    block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let fd = std_listener.as_raw_fd();
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert_eq!(
            (listener.as_raw_fd(), listener.as_fd().as_raw_fd()),
            (fd, fd)
        );

        let std_stream = std::net::TcpStream::connect(addr).unwrap();
        let fd = std_stream.as_raw_fd();
        let stream = TcpStream::from_std(std_stream).unwrap();
        assert_eq!((stream.as_raw_fd(), stream.as_fd().as_raw_fd()), (fd, fd));

        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = std_socket.as_raw_fd();
        let socket = UdpSocket::from_std(std_socket).unwrap();
        assert_eq!((socket.as_raw_fd(), socket.as_fd().as_raw_fd()), (fd, fd));

        let (std_left, _std_right) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = std_left.as_raw_fd();
        let left = UnixStream::from_std(std_left).unwrap();
        assert_eq!((left.as_raw_fd(), left.as_fd().as_raw_fd()), (fd, fd));

        // The Unix listener and datagram socket have no `from_std`: their
        // descriptors are open, distinct and stable across the two calls.
        let dir = std::env::temp_dir().join(format!("weft-fd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let unix_listener = UnixListener::bind(dir.join("listener")).await.unwrap();
        let (a, b) = UnixDatagram::pair().unwrap();
        let fds = [
            unix_listener.as_raw_fd(),
            a.as_raw_fd(),
            b.as_raw_fd(),
            left.as_raw_fd(),
        ];
        assert_eq!(
            [
                unix_listener.as_fd().as_raw_fd(),
                a.as_fd().as_raw_fd(),
                b.as_fd().as_raw_fd(),
                left.as_fd().as_raw_fd(),
            ],
            fds
        );
        for (i, fd) in fds.iter().enumerate() {
            assert!(*fd >= 0);
            assert!(!fds[..i].contains(fd), "descriptor {fd} handed out twice");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
