//! Summary: Unix-domain sockets: [`UnixListener`], [`UnixStream`] and
//! [`UnixDatagram`].
//!
//! Role: user code and `examples/unix_echo.rs`; local IPC without TCP's
//! overhead.
//!
//! Design: the same shape as `tcp.rs` and `udp.rs` over mio's Unix
//! sockets; the stream's I/O and its owned halves are `stream.rs`'s,
//! shared with TCP, and the datagram calls go through `net`'s
//! `read_ready`/`write_ready`, as UDP's do. `UnixListener::bind` and `UnixStream::connect` are `async` for
//! symmetry with TCP, although a path needs no resolution.
//! `UnixDatagram`'s constructors are plain functions, like std's. A stream
//! `connect` that the kernel cannot complete at once (a full backlog on
//! some systems) waits for writability and reads the outcome with
//! `take_error`, as TCP does (`Stream::finish_connect`). Binding to an existing path fails with
//! `AddrInUse`: the caller decides whether a stale socket file may be
//! removed.
//!
//! Invariants: none beyond the reactor's.
//!
//! Concurrency: as for the TCP and UDP types.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use mio::Interest;

use super::stream::{forward_to_stream, SplitStream, Stream};
use super::{forward_fd, read_ready, write_ready};
use crate::reactor::Source;

/// A Unix-domain socket listening for stream connections.
pub struct UnixListener {
    source: Source<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it.
    ///
    /// # Errors
    ///
    /// The OS error of `bind`/`listen` (e.g. `AddrInUse` if `path` exists).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let listener = mio::net::UnixListener::bind(path)?;
        Ok(UnixListener {
            source: Source::new(listener, Interest::READABLE)?,
        })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// The OS error of `accept(2)`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = read_ready(&self.source, |l| l.accept()).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

forward_fd!(UnixListener, source.get_ref());

/// A Unix-domain stream connection; implements `AsyncRead` and
/// `AsyncWrite`.
pub struct UnixStream {
    stream: Stream<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotFound` for no such file, `ConnectionRefused`
    /// for a file nobody listens on).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        stream.stream.finish_connect().await?;
        Ok(stream)
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # weft_io::doc_support::block_on(async {
    /// use weft_io::io::{AsyncReadExt, AsyncWriteExt};
    /// use weft_io::net::UnixStream;
    ///
    /// let (mut left, mut right) = UnixStream::pair()?;
    /// left.write_all(b"over a socket pair").await?;
    /// left.close().await?;
    /// let mut text = String::new();
    /// right.read_to_string(&mut text).await?;
    /// assert_eq!(text, "over a socket pair");
    /// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    ///
    /// # Errors
    ///
    /// The OS error of `fcntl` or of the reactor registration.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    #[track_caller]
    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            stream: Stream::new(stream)?,
        })
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.socket().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.socket().peer_addr()
    }

    /// Shuts down reading, writing or both (`Write` is a half-close).
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stream.socket().shutdown(how)
    }
}

impl UnixStream {
    /// The stream's I/O, for the trait impls `forward_to_stream!` writes.
    pub(crate) fn stream(&self) -> &Stream<mio::net::UnixStream> {
        &self.stream
    }
}

impl SplitStream for UnixStream {
    type Socket = mio::net::UnixStream;

    fn from_stream(stream: Stream<mio::net::UnixStream>) -> UnixStream {
        UnixStream { stream }
    }

    fn into_stream(self) -> Stream<mio::net::UnixStream> {
        self.stream
    }
}

forward_to_stream!(impl futures_io::AsyncRead for UnixStream);
forward_to_stream!(impl futures_io::AsyncWrite for UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

forward_fd!(UnixStream, stream.socket());

/// A Unix-domain datagram socket.
pub struct UnixDatagram {
    source: Source<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket file at `path` and binds to it.
    ///
    /// # Errors
    ///
    /// The OS error of `bind` (e.g. `AddrInUse` if `path` exists).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can send, and receive replies to
    /// an unnamed peer only through `pair`).
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of datagram sockets.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # weft_io::doc_support::block_on(async {
    /// let (a, b) = weft_io::net::UnixDatagram::pair()?;
    /// a.send(b"one message").await?;
    /// let mut buf = [0u8; 32];
    /// let len = b.recv(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"one message");
    /// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            source: Source::new(socket, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Sets the default peer for `send` and `recv`.
    ///
    /// # Errors
    ///
    /// The OS error of `connect` (e.g. `NotFound`).
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.source.get_ref().connect(path)
    }

    /// Sends `buf` as one datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto`.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        write_ready(&self.source, |s| s.send_to(buf, path)).await
    }

    /// Receives one datagram; returns its length and sender.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        read_ready(&self.source, |s| s.recv_from(buf)).await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `send` (`NotConnected` without `connect`).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        write_ready(&self.source, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `recv`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        read_ready(&self.source, |s| s.recv(buf)).await
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

forward_fd!(UnixDatagram, source.get_ref());
