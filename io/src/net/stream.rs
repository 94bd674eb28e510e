//! Summary: the one implementation of a connected stream socket's I/O,
//! shared by `TcpStream`, `UnixStream` and the owned halves of either
//! ([`OwnedReadHalf`], [`OwnedWriteHalf`]).
//!
//! Role: `tcp.rs` and `unix.rs` build their stream types on [`Stream`];
//! `into_split` on either returns the halves defined here.
//!
//! Design: [`Stream<S>`] is generic over the mio socket and holds its
//! `Source` in an `Arc`, so `into_split` needs no allocation and the two
//! halves can live in two tasks (reads wait on the read waker list, writes
//! on the write list). Each I/O body (read, write, vectored write, close,
//! the wait for a connect's outcome) is written once, here; the public
//! stream types forward to it in one line per method. The halves are
//! generic over the stream they came from, with `TcpStream` as the default
//! parameter, so `OwnedReadHalf` alone still names TCP's half and
//! `OwnedReadHalf<UnixStream>` is the Unix one.
//! Rejected: a macro stamping the impls out per type (the same text four
//! times once expanded, and harder to read than a generic); public type
//! aliases over one generic stream (`Stream<Tcp>`) would put the mio
//! socket types and a marker parameter into the public signatures. The
//! helper traits are `pub` inside this private module (sealed): nameable
//! in bounds, implementable by nobody outside the crate.
//!
//! Invariants:
//! - INV-1: a write half shuts down the write direction on drop unless it
//!   was reunited with its read half (`shutdown_on_drop` is cleared first).
//!
//! Concurrency: every operation takes `&self` on the shared `Source`; the
//! readiness protocol (`reactor/readiness.rs`) serialises nothing, so a
//! read half and a write half progress independently.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::Interest;

use crate::reactor::Source;

/// What a stream's I/O needs from its mio socket (implemented for mio's
/// TCP and Unix streams).
pub trait StreamSocket: mio::event::Source + Send + Sync + 'static {
    /// `read(2)`.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// `write(2)`.
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    /// `writev(2)`.
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// `shutdown(2)`.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// `SO_ERROR`: the outcome of a non-blocking connect.
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Whether the socket has a peer (`getpeername` succeeds).
    fn is_connected(&self) -> io::Result<()>;
}

impl StreamSocket for mio::net::TcpStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&mut &*self).read(buf)
    }
    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        (&mut &*self).write(buf)
    }
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&mut &*self).write_vectored(bufs)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::TcpStream::shutdown(self, how)
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::TcpStream::take_error(self)
    }
    fn is_connected(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

impl StreamSocket for mio::net::UnixStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&mut &*self).read(buf)
    }
    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        (&mut &*self).write(buf)
    }
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&mut &*self).write_vectored(bufs)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::UnixStream::shutdown(self, how)
    }
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::UnixStream::take_error(self)
    }
    fn is_connected(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

/// A public stream type that `into_split` divides into [`OwnedReadHalf`]
/// and [`OwnedWriteHalf`]: `TcpStream` and `UnixStream`.
pub trait SplitStream: Sized {
    /// The mio socket under the stream.
    type Socket: StreamSocket;
    /// Rebuilds the stream from its reunited halves.
    fn from_stream(stream: Stream<Self::Socket>) -> Self;
}

/// A connected stream socket registered with the reactor: the I/O of every
/// public stream type and half.
pub struct Stream<S: StreamSocket> {
    source: Arc<Source<S>>,
}

impl<S: StreamSocket> Stream<S> {
    /// Registers a connected (or connecting) socket with the current
    /// runtime's reactor for both directions.
    #[track_caller]
    pub(crate) fn new(socket: S) -> io::Result<Stream<S>> {
        let source = Source::new(socket, Interest::READABLE | Interest::WRITABLE)?;
        Ok(Stream {
            source: Arc::new(source),
        })
    }

    /// The mio socket.
    pub(crate) fn socket(&self) -> &S {
        self.source.get_ref()
    }

    /// Waits for a non-blocking connect to finish: the socket becomes
    /// writable, and its outcome is `SO_ERROR`. Writable before the
    /// handshake finished (no peer yet) is waited out.
    pub(crate) async fn finish_connect(&self) -> io::Result<()> {
        poll_fn(|cx| {
            self.source.poll_write(cx, |socket| {
                if let Some(e) = socket.take_error()? {
                    return Err(e);
                }
                match socket.is_connected() {
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    result => result,
                }
            })
        })
        .await
    }

    /// `read(2)` under the readiness protocol; a short read forgets
    /// readiness (O4 in `reactor/readiness.rs`).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.source
            .poll_read_stream(cx, buf.len(), |socket| socket.read(buf))
    }

    /// `write(2)` under the readiness protocol.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.source
            .poll_write_stream(cx, buf.len(), |socket| socket.write(buf))
    }

    /// `writev(2)` under the readiness protocol.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|buf| buf.len()).sum();
        self.source
            .poll_write_stream(cx, len, |socket| socket.write_vectored(bufs))
    }

    /// Closes the write direction: `shutdown(Write)`, where a stream
    /// already reset or never connected counts as closed.
    pub(crate) fn close_write(&self) -> io::Result<()> {
        match self.socket().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }

    /// The two halves of `into_split`, sharing this stream's `Source`.
    pub(crate) fn into_split<T>(self) -> (OwnedReadHalf<T>, OwnedWriteHalf<T>)
    where
        T: SplitStream<Socket = S>,
    {
        let read = OwnedReadHalf {
            stream: Stream {
                source: self.source.clone(),
            },
        };
        let write = OwnedWriteHalf {
            stream: self,
            shutdown_on_drop: true,
        };
        (read, write)
    }
}

/// A socket has no user-space buffer: flushing has nothing to do.
pub(crate) fn flushed() -> Poll<io::Result<()>> {
    Poll::Ready(Ok(()))
}

/// The reading half of `TcpStream::into_split` (the default parameter) or
/// `UnixStream::into_split`.
pub struct OwnedReadHalf<T: SplitStream = super::TcpStream> {
    stream: Stream<T::Socket>,
}

/// The writing half of `TcpStream::into_split` (the default parameter) or
/// `UnixStream::into_split`; dropping it shuts down the write direction,
/// so the peer reads end-of-file.
pub struct OwnedWriteHalf<T: SplitStream = super::TcpStream> {
    stream: Stream<T::Socket>,
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`]: the two halves came from
/// different streams; they are handed back.
pub struct ReuniteError<T: SplitStream = super::TcpStream>(
    pub OwnedReadHalf<T>,
    pub OwnedWriteHalf<T>,
);

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
        if !Arc::ptr_eq(&self.stream.source, &write.stream.source) {
            return Err(ReuniteError(self, write));
        }
        // INV-1: the reunited stream stays open for writing.
        write.shutdown_on_drop = false;
        Ok(T::from_stream(self.stream))
    }

    /// The mio socket, for the address accessors of `tcp.rs`/`unix.rs`.
    pub(crate) fn socket(&self) -> &T::Socket {
        self.stream.socket()
    }

    /// The shared stream, for the tokio trait impls.
    #[cfg_attr(not(feature = "tokio-io"), allow(dead_code))]
    pub(crate) fn stream(&self) -> &Stream<T::Socket> {
        &self.stream
    }
}

impl<T: SplitStream> OwnedWriteHalf<T> {
    /// The shared stream, for the tokio trait impls.
    #[cfg_attr(not(feature = "tokio-io"), allow(dead_code))]
    pub(crate) fn stream(&self) -> &Stream<T::Socket> {
        &self.stream
    }

    /// The mio socket, for the address accessors of `tcp.rs`/`unix.rs`.
    pub(crate) fn socket(&self) -> &T::Socket {
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

impl<T: SplitStream> AsyncRead for OwnedReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read(cx, buf)
    }
}

impl<T: SplitStream> AsyncWrite for OwnedWriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        flushed()
    }

    /// Shuts down the write direction.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.close_write())
    }
}

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
