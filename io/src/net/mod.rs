//! Summary: the network types: TCP, UDP and Unix-domain sockets.
//!
//! Role: users create these inside a runtime; each registers with the
//! runtime's reactor through the thread-local I/O handle.
//!
//! Design: one file per protocol family (`tcp.rs`, `udp.rs`, `unix.rs`),
//! each a thin layer over mio's sockets plus the reactor's readiness
//! protocol; `addr.rs` holds the address argument and name resolution.
//! Streams implement futures-io's `AsyncRead`/`AsyncWrite` rather than a
//! weft-specific trait, so any futures-io adapter works on them.
//!
//! Invariants: none of their own; see `reactor`.
//!
//! Concurrency: every type is `Send + Sync`; see each file.

mod addr;
mod tcp;
mod udp;
mod unix;

use std::io::{self, IoSlice, Read, Write};
use std::task::{Context, Poll};

use crate::reactor::Source;

pub use addr::ToSocketAddrs;
pub use tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReuniteError, TcpListener, TcpStream, ACCEPT_BACKOFF,
    LISTEN_BACKLOG,
};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// `read(2)` on a stream socket under the readiness protocol; a short read
/// forgets readiness (O4 in `reactor/readiness.rs`).
fn poll_read_source<T>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    T: mio::event::Source,
    for<'a> &'a T: Read,
{
    source.poll_read_stream(cx, buf.len(), |mut socket| socket.read(buf))
}

/// `write(2)` on a stream socket under the readiness protocol.
fn poll_write_source<T>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    T: mio::event::Source,
    for<'a> &'a T: Write,
{
    source.poll_write_stream(cx, buf.len(), |mut socket| socket.write(buf))
}

/// `writev(2)` on a stream socket under the readiness protocol.
fn poll_write_vectored_source<T>(
    source: &Source<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    T: mio::event::Source,
    for<'a> &'a T: Write,
{
    let len = bufs.iter().map(|buf| buf.len()).sum();
    source.poll_write_stream(cx, len, |mut socket| socket.write_vectored(bufs))
}
