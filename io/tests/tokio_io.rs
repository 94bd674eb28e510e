//! Feature `tokio-io`: tokio's `AsyncRead`/`AsyncWrite` on weft's streams
//! and their owned halves, driven through tokio's own extension traits
//! (on the bare driver: no tokio runtime exists here).
#![cfg(feature = "tokio-io")]

mod common;

use common::{block_on, Executor};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use weft_io::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream, UnixStream};

/// Every type the feature promises implements both traits (a compile-time
/// check, kept beside the behaviour it enables).
#[test]
fn streams_and_halves_implement_tokio_traits() {
    fn read<T: AsyncRead + Unpin>() {}
    fn write<T: AsyncWrite + Unpin>() {}
    read::<TcpStream>();
    write::<TcpStream>();
    read::<UnixStream>();
    write::<UnixStream>();
    read::<OwnedReadHalf>();
    write::<OwnedWriteHalf>();
    read::<OwnedReadHalf<UnixStream>>();
    write::<OwnedWriteHalf<UnixStream>>();
}

/// A TCP round trip through tokio's extension traits: `write_all`, a
/// half-close with `shutdown`, `read_to_end` until end-of-file, and
/// `read_buf` into a `Vec`'s spare capacity (tokio's uninitialised-memory
/// path).
#[test]
fn tcp_round_trip_through_tokio_traits() {
    let mut executor = Executor::new();
    let spawner = executor.spawner();
    executor.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        spawner.spawn(async move {
            let (mut server, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            AsyncReadExt::read_to_end(&mut server, &mut request)
                .await
                .unwrap();
            AsyncWriteExt::write_all(&mut server, &request)
                .await
                .unwrap();
            AsyncWriteExt::shutdown(&mut server).await.unwrap();
        });
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = client.into_split();
        let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        AsyncWriteExt::write_all(&mut writer, &message)
            .await
            .unwrap();
        AsyncWriteExt::shutdown(&mut writer).await.unwrap();
        let mut echoed = Vec::with_capacity(message.len());
        while AsyncReadExt::read_buf(&mut reader, &mut echoed)
            .await
            .unwrap()
            > 0
        {}
        assert!(echoed == message, "the echo differs from the message");
    });
}

/// A Unix socket pair through tokio's traits, whole and split.
#[test]
fn unix_pair_through_tokio_traits() {
    block_on(async {
        let (mut left, right) = UnixStream::pair().unwrap();
        let (mut reader, mut writer) = right.into_split();
        AsyncWriteExt::write_all(&mut left, b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        AsyncReadExt::read_exact(&mut reader, &mut buf)
            .await
            .unwrap();
        assert_eq!(&buf, b"ping");
        AsyncWriteExt::write_all(&mut writer, b"pong")
            .await
            .unwrap();
        AsyncReadExt::read_exact(&mut left, &mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    });
}
