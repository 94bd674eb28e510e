//! Summary: splitting a stream socket into owned halves:
//! [`OwnedReadHalf`], [`OwnedWriteHalf`], [`ReuniteError`], and the
//! `into_split` of `TcpStream` and `UnixStream` that make them.
//!
//! Role: a user splits a `TcpStream` or `UnixStream` to read and write
//! from two tasks; the halves forward their I/O to the stream's one
//! implementation (`stream.rs`); `reunite` gives the stream back.
//!
//! Design: the halves are generic over the stream they came from, with
//! `TcpStream` as the default parameter, so `OwnedReadHalf` alone still
//! names TCP's half and `OwnedReadHalf<UnixStream>` is the Unix one. That
//! default names `tcp.rs`, so this file sits above `tcp.rs`, `unix.rs` and
//! `stream.rs`, and holds every piece that names a half: the `into_split`
//! of both stream types and the halves' address accessors. Rejected: the
//! halves in `stream.rs` (the default parameter made `stream <-> tcp` a
//! circle, since `TcpStream` is built on `Stream`).
//!
//! Invariants:
//! - INV-1: a write half shuts down the write direction on drop unless it
//!   was reunited with its read half (`shutdown_on_drop` is cleared first).
//!
//! Concurrency: both halves share the stream's `Source`; a read half and a
//! write half progress independently (`stream.rs`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::unix::net::SocketAddr as UnixSocketAddr;

use super::stream::{forward_to_stream, SplitStream, Stream};
use super::{TcpStream, UnixStream};

/// The two halves of `stream`, sharing its `Source`.
fn split<T: SplitStream>(stream: T) -> (OwnedReadHalf<T>, OwnedWriteHalf<T>) {
    let stream = stream.into_stream();
    let read = OwnedReadHalf {
        stream: stream.share(),
    };
    let write = OwnedWriteHalf {
        stream,
        shutdown_on_drop: true,
    };
    (read, write)
}

impl TcpStream {
    /// Splits the stream into halves that can move to two tasks; no
    /// allocation, no lock. Dropping the write half shuts down writing.
    ///
    /// # Examples
    ///
    /// ```
    /// # weft_io::doc_support::block_on(async {
    /// use weft_io::io::{AsyncReadExt, AsyncWriteExt};
    /// use weft_io::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let client = TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut server, _) = listener.accept().await?;
    ///
    /// let (mut reader, mut writer) = client.into_split();
    /// writer.write_all(b"hello").await?;
    /// drop(writer); // the server reads end-of-file after "hello"
    /// let mut request = Vec::new();
    /// server.read_to_end(&mut request).await?;
    /// server.write_all(&request).await?;
    /// let mut echo = [0u8; 5];
    /// reader.read_exact(&mut echo).await?;
    /// assert_eq!(&echo, b"hello");
    /// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split(self)
    }
}

impl UnixStream {
    /// Splits the stream into halves that can move to two tasks, as
    /// `TcpStream::into_split` does; no allocation, no lock. Dropping the
    /// write half shuts down writing.
    ///
    /// # Examples
    ///
    /// ```
    /// # weft_io::doc_support::block_on(async {
    /// use weft_io::io::{AsyncReadExt, AsyncWriteExt};
    /// use weft_io::net::UnixStream;
    ///
    /// let (left, mut right) = UnixStream::pair()?;
    /// let (mut reader, mut writer) = left.into_split();
    /// writer.write_all(b"ping").await?;
    /// drop(writer); // right reads end-of-file after "ping"
    /// let mut request = Vec::new();
    /// right.read_to_end(&mut request).await?;
    /// right.write_all(&request).await?;
    /// let mut echo = [0u8; 4];
    /// reader.read_exact(&mut echo).await?;
    /// assert_eq!(&echo, b"ping");
    /// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        split(self)
    }
}

/// The reading half of `TcpStream::into_split` (the default parameter) or
/// `UnixStream::into_split`.
pub struct OwnedReadHalf<T: SplitStream = TcpStream> {
    stream: Stream<T::Socket>,
}

/// The writing half of `TcpStream::into_split` (the default parameter) or
/// `UnixStream::into_split`; dropping it shuts down the write direction,
/// so the peer reads end-of-file.
pub struct OwnedWriteHalf<T: SplitStream = TcpStream> {
    stream: Stream<T::Socket>,
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`]: the two halves came from
/// different streams; they are handed back.
pub struct ReuniteError<T: SplitStream = TcpStream>(pub OwnedReadHalf<T>, pub OwnedWriteHalf<T>);

impl<T: SplitStream> fmt::Debug for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError")
            .field(&self.0)
            .field(&self.1)
            .finish()
    }
}

impl<T: SplitStream> fmt::Display for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<T: SplitStream> std::error::Error for ReuniteError<T> {}

impl<T: SplitStream> OwnedReadHalf<T> {
    /// Joins the halves back into the stream they came from.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they are from different
    /// streams.
    pub fn reunite(self, mut write: OwnedWriteHalf<T>) -> Result<T, ReuniteError<T>> {
        if !self.stream.is_same(&write.stream) {
            return Err(ReuniteError(self, write));
        }
        // INV-1: the reunited stream stays open for writing.
        write.shutdown_on_drop = false;
        Ok(T::from_stream(self.stream))
    }

    /// The mio socket, for the address accessors below.
    fn socket(&self) -> &T::Socket {
        self.stream.socket()
    }

    /// The shared stream, for the trait impls `forward_to_stream!` writes.
    pub(crate) fn stream(&self) -> &Stream<T::Socket> {
        &self.stream
    }
}

impl<T: SplitStream> OwnedWriteHalf<T> {
    /// The shared stream, for the trait impls `forward_to_stream!` writes.
    pub(crate) fn stream(&self) -> &Stream<T::Socket> {
        &self.stream
    }

    /// The mio socket, for the address accessors below.
    fn socket(&self) -> &T::Socket {
        self.stream.socket()
    }
}

impl<T: SplitStream> Drop for OwnedWriteHalf<T> {
    fn drop(&mut self) {
        // INV-1
        if self.shutdown_on_drop {
            // The peer may already be gone; there is no one to report to.
            let _ = self.stream.close_write();
        }
    }
}

forward_to_stream!(impl<T: SplitStream> futures_io::AsyncRead for OwnedReadHalf<T>);
forward_to_stream!(impl<T: SplitStream> futures_io::AsyncWrite for OwnedWriteHalf<T>);

impl<T: SplitStream> fmt::Debug for OwnedReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedReadHalf").finish_non_exhaustive()
    }
}

impl<T: SplitStream> fmt::Debug for OwnedWriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf").finish_non_exhaustive()
    }
}

impl OwnedReadHalf {
    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket().local_addr()
    }
}

impl OwnedWriteHalf {
    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket().local_addr()
    }
}

impl OwnedReadHalf<UnixStream> {
    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<UnixSocketAddr> {
        self.socket().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<UnixSocketAddr> {
        self.socket().local_addr()
    }
}

impl OwnedWriteHalf<UnixStream> {
    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<UnixSocketAddr> {
        self.socket().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<UnixSocketAddr> {
        self.socket().local_addr()
    }
}
