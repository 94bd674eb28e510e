//! Summary: [`WeftIo`], hyper's `Read`/`Write` over any futures-io stream.
//!
//! Role: wraps the transport of every hyper connection on weft: an
//! accepted `TcpStream` on the server side, the connector's `TcpStream` on
//! the client side, or a TLS stream over either.
//!
//! Design: hyper hands `Read` a cursor over memory that may be
//! uninitialised, and futures-io reads only into an initialised
//! `&mut [u8]`. The adapter zeroes the cursor's unfilled part in place,
//! lets the stream read into it, then advances the cursor by the count
//! read: one `memset` per read and no copy. With weft's sockets the read
//! is the readiness protocol of `weft-io`: a read that would block
//! registers the task's waker on the socket's read waker list and returns
//! `Pending`; the reactor wakes the task when epoll reports the socket
//! readable, and hyper polls `Read` again. Rejected: reading into a stack
//! buffer and copying into the cursor (a copy per read on top of the
//! zeroing), and reading into the uninitialised memory through a raw
//! `read(2)` (it would bypass the futures-io trait every other stream
//! speaks). `Write` maps one to one, with vectored writes passed through
//! (weft's sockets implement them with `writev`), which lets hyper send a
//! response's head and body in one system call.
//!
//! Invariants:
//! - INV-1: the adapter writes only initialised bytes into hyper's cursor
//!   and advances it by at most the number of bytes it initialised.
//!
//! Concurrency: a `WeftIo` is owned by the connection's task.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use hyper_util::client::legacy::connect::{Connected, Connection};

/// A futures-io stream seen through hyper's `rt::Read` and `rt::Write`.
///
/// # Examples
///
/// ```no_run
/// # async fn serve(listener: weft_io::net::TcpListener) -> std::io::Result<()> {
/// let (stream, _) = listener.accept().await?;
/// let io = weft_hyper::WeftIo::new(stream);
/// // hyper::server::conn::http1::Builder::new().serve_connection(io, service)
/// # drop(io);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WeftIo<T> {
    inner: T,
}

impl<T> WeftIo<T> {
    /// Wraps `io`.
    pub fn new(io: T) -> WeftIo<T> {
        WeftIo { inner: io }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for WeftIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the slice is only written with initialised bytes below
        // (INV-1), which is all `as_mut` asks of its caller.
        let unfilled = unsafe { buf.as_mut() };
        let bytes = zeroed(unfilled);
        let len = bytes.len();
        let read = match Pin::new(&mut self.inner).poll_read(cx, bytes) {
            Poll::Ready(Ok(read)) => read,
            other => return other.map_ok(drop),
        };
        assert!(
            read <= len,
            "the stream under WeftIo reported {read} bytes read into a {len}-byte buffer"
        );
        // SAFETY: the first `read` bytes were zeroed by `zeroed`, then
        // written by the stream (INV-1), so they are initialised.
        unsafe { buf.advance(read) };
        Poll::Ready(Ok(()))
    }
}

/// Initialises `memory` with zeros and returns it as bytes.
fn zeroed(memory: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    for byte in memory.iter_mut() {
        byte.write(0);
    }
    // SAFETY: every element was initialised just above, and
    // `MaybeUninit<u8>` has the layout of `u8`.
    unsafe { &mut *(memory as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for WeftIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    /// Always true: futures-io streams without a real `writev` fall back to
    /// writing the first buffer, which is still correct.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// What hyper-util's pooled client asks of a connection: a plain TCP
/// connection carries no metadata beyond the defaults (HTTP/1, not
/// proxied).
impl Connection for WeftIo<weft_io::net::TcpStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
