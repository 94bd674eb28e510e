//! Summary: the one implementation of a connected stream socket's I/O,
//! shared by `TcpStream`, `UnixStream` and the owned halves of either
//! (`split.rs`).
//!
//! Role: `tcp.rs` and `unix.rs` build their stream types on [`Stream`];
//! `into_split` on either (`split.rs`) returns halves built on it too.
//!
//! Design: [`Stream<S>`] is generic over the mio socket and holds its
//! `Source` in an `Arc`, so `into_split` needs no allocation and the two
//! halves can live in two tasks (reads wait on the read waker list, writes
//! on the write list). Each I/O body (read, write, vectored write, close,
//! the wait for a connect's outcome) is written once, here; the public
//! stream types and the halves (`split.rs`, above this file and `tcp.rs`,
//! since their default parameter names `TcpStream`) forward to it in one
//! line per method. Those forwarding trait impls are the same for all four
//! types, and the traits are other crates', which rules out one blanket
//! impl; the `forward_to_stream!` macro below writes them from an impl
//! header. Likewise `impl_stream_socket!` writes [`StreamSocket`] for
//! mio's two stream types, which have the same inherent methods but no
//! trait in common.
//! Rejected: the I/O bodies themselves in a macro stamped out per type
//! (the same code four times once expanded, and harder to read than a
//! generic); public type aliases over one generic stream (`Stream<Tcp>`)
//! would put the mio socket types and a marker parameter into the public
//! signatures. The helper traits are `pub` inside this private module
//! (sealed): nameable in bounds, implementable by nobody outside the
//! crate.
//!
//! Invariants: none of its own (the halves' INV-1 is in `split.rs`).
//!
//! Concurrency: every operation takes `&self` on the shared `Source`; the
//! readiness protocol (`reactor/readiness.rs`) serialises nothing, so a
//! read half and a write half progress independently.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// Implements [`StreamSocket`] for each listed mio stream type. mio's TCP
/// and Unix streams spell every call the trait needs with the same
/// inherent method names, but share no trait that has them, so a generic
/// impl cannot reach them; the macro writes the one body for both.
macro_rules! impl_stream_socket {
    ($($socket:ty),+ $(,)?) => {$(
        impl StreamSocket for $socket {
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
                <$socket>::shutdown(self, how)
            }
            fn take_error(&self) -> io::Result<Option<io::Error>> {
                <$socket>::take_error(self)
            }
            fn is_connected(&self) -> io::Result<()> {
                self.peer_addr().map(drop)
            }
        }
    )+};
}

impl_stream_socket!(mio::net::TcpStream, mio::net::UnixStream);

/// A public stream type that `into_split` divides into an `OwnedReadHalf`
/// and an `OwnedWriteHalf` (`split.rs`): `TcpStream` and `UnixStream`.
pub trait SplitStream: Sized {
    /// The mio socket under the stream.
    type Socket: StreamSocket;
    /// Rebuilds the stream from its reunited halves.
    fn from_stream(stream: Stream<Self::Socket>) -> Self;
    /// The stream's I/O, to split it.
    fn into_stream(self) -> Stream<Self::Socket>;
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

    /// A second handle on this stream's `Source` (the read half of
    /// `into_split`, `split.rs`).
    pub(crate) fn share(&self) -> Stream<S> {
        Stream {
            source: self.source.clone(),
        }
    }

    /// True if `other` is a handle on the same `Source` (`reunite`).
    pub(crate) fn is_same(&self, other: &Stream<S>) -> bool {
        Arc::ptr_eq(&self.source, &other.source)
    }
}

/// Writes an I/O trait impl for a public stream type or owned half, each
/// method forwarding to the [`Stream`] that the type's `stream()` accessor
/// returns. It is invoked with an impl header and no body:
///
/// ```text
/// forward_to_stream!(impl futures_io::AsyncRead for TcpStream);
/// forward_to_stream!(impl<T: SplitStream> tokio::io::AsyncWrite for OwnedWriteHalf<T>);
/// ```
///
/// for futures-io's `AsyncRead` and `AsyncWrite` (`tcp.rs`, `unix.rs`,
/// `split.rs`) and, with the `tokio-io` feature, tokio's (`tokio_io.rs`).
/// Why a macro: the traits are other crates', so the orphan rule forbids
/// one blanket impl over every type with a `Stream`, and each type needs an
/// impl of its own; what the macro stamps out is only the signatures and
/// one-line bodies, never I/O logic, which stays in `Stream` above. The
/// write methods the two `AsyncWrite` traits share (same names, same
/// signatures) are written once, in the `@write_methods` arm.
macro_rules! forward_to_stream {
    (impl $(<$T:ident: $bound:ident>)? futures_io::AsyncRead for $ty:ty) => {
        impl $(<$T: $bound>)? futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.stream().poll_read(cx, buf)
            }
        }
    };
    (impl $(<$T:ident: $bound:ident>)? futures_io::AsyncWrite for $ty:ty) => {
        impl $(<$T: $bound>)? futures_io::AsyncWrite for $ty {
            $crate::net::stream::forward_to_stream!(@write_methods);

            /// Shuts down the write direction (the peer reads end-of-file).
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.stream().close_write())
            }
        }
    };
    // tokio's read fills the unfilled part of a `ReadBuf`, zeroing first
    // only what was never initialised (see `tokio_io.rs`).
    (impl $(<$T:ident: $bound:ident>)? tokio::io::AsyncRead for $ty:ty) => {
        impl $(<$T: $bound>)? tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let unfilled = buf.initialize_unfilled();
                let read = std::task::ready!(self.stream().poll_read(cx, unfilled))?;
                buf.advance(read);
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
    (impl $(<$T:ident: $bound:ident>)? tokio::io::AsyncWrite for $ty:ty) => {
        impl $(<$T: $bound>)? tokio::io::AsyncWrite for $ty {
            $crate::net::stream::forward_to_stream!(@write_methods);

            fn is_write_vectored(&self) -> bool {
                true
            }

            /// Shuts down the write direction (the peer reads end-of-file).
            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.stream().close_write())
            }
        }
    };
    // The methods both `AsyncWrite` traits have, with the same signatures.
    (@write_methods) => {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.stream().poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.stream().poll_write_vectored(cx, bufs)
        }

        /// A socket has no user-space buffer: flushing has nothing to do.
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    };
}

pub(crate) use forward_to_stream;
