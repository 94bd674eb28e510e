//! Summary: [`WeftIo`], hyper's `Read`/`Write` over any futures-io stream.
//!
//! Role: wraps the transport of every hyper connection on weft: an
//! accepted `TcpStream` on the server side, the connector's `TcpStream` on
//! the client side, or a TLS stream over either.
//!
//! Design: hyper hands `Read` a cursor over memory that may be
//! uninitialised, and futures-io reads only into an initialised
//! `&mut [u8]`. The adapter keeps a scratch buffer per connection,
//! zeroed once when it is allocated (at the first read, so a connection
//! that never reads allocates nothing): the stream reads into it and the
//! bytes read are copied into hyper's cursor. A read that fills the whole
//! scratch doubles it, up to `MAX_READ` (64 KiB), so large bodies still move in
//! large reads. With weft's sockets the read is the readiness protocol of
//! `weft-io`: a read that would block registers the task's waker on the
//! socket's read waker list and returns `Pending`; the reactor wakes the
//! task when epoll reports the socket readable, and hyper polls `Read`
//! again. Rejected: zeroing the cursor's unfilled memory on every call
//! (measured: hyper's spare capacity is often hundreds of KiB, and hyper
//! polls `Read` once more after each request only to get `Pending`, so the
//! zeroing was most of a request's instructions under callgrind); a
//! zeroed stack buffer per call (8 KiB of `memset` per poll, the `Pending`
//! ones included); and reading into the uninitialised memory through a raw
//! `read(2)`, which would bypass the futures-io trait every other stream
//! speaks. The copy costs one `memcpy` of the bytes actually read, which
//! for request/response traffic is a few hundred bytes. `Write` maps one
//! to one, with vectored writes passed through (weft's sockets implement
//! them with `writev`), which lets hyper send a response's head and body
//! in one system call.
//!
//! Invariants:
//! - INV-1: the scratch buffer is never shorter than the largest read
//!   asked of the stream, and only its first `n` bytes, just written by
//!   the stream, are copied to hyper.
//!
//! Concurrency: a `WeftIo` is owned by the connection's task.

use std::fmt;
use std::io;
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
pub struct WeftIo<T> {
    inner: T,
    /// Where the stream reads before the bytes go to hyper (INV-1); empty
    /// until the first read.
    scratch: Vec<u8>,
}

/// The scratch buffer's size at the first read: hyper's own first read
/// buffer.
const FIRST_READ: usize = 8 * 1024;

/// The largest read asked of the stream: the scratch buffer stops
/// doubling here.
const MAX_READ: usize = 64 * 1024;

impl<T> WeftIo<T> {
    /// Wraps `io`.
    pub fn new(io: T) -> WeftIo<T> {
        WeftIo {
            inner: io,
            scratch: Vec::new(),
        }
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

impl<T: fmt::Debug> fmt::Debug for WeftIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeftIo")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for WeftIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.scratch.is_empty() {
            this.scratch = vec![0; FIRST_READ];
        }
        let wanted = buf.remaining().min(this.scratch.len());
        let read = match Pin::new(&mut this.inner).poll_read(cx, &mut this.scratch[..wanted]) {
            Poll::Ready(Ok(read)) => read,
            other => return other.map_ok(drop),
        };
        assert!(
            read <= wanted,
            "the stream under WeftIo reported {read} bytes read into a {wanted}-byte buffer"
        );
        buf.put_slice(&this.scratch[..read]);
        // A read that filled the whole scratch may have left more behind:
        // read more at once next time (INV-1 holds: the buffer only grows).
        if read == this.scratch.len() && read < MAX_READ {
            this.scratch.resize((2 * read).min(MAX_READ), 0);
        }
        Poll::Ready(Ok(()))
    }
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::task::Wake;

    use hyper::rt::{Read, ReadBuf};

    use super::*;

    struct NoWake;
    impl Wake for NoWake {
        fn wake(self: Arc<Self>) {}
    }

    /// A stream that answers each read with the next scripted step:
    /// `Some(bytes)` (at most what fits), or `None` for `Pending`.
    struct Script {
        steps: VecDeque<Option<Vec<u8>>>,
        asked: Vec<usize>,
    }

    impl AsyncRead for Script {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            self.asked.push(buf.len());
            match self.steps.pop_front().expect("a step for every read") {
                None => Poll::Pending,
                Some(bytes) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    Poll::Ready(Ok(n))
                }
            }
        }
    }

    /// Polls one hyper read into `room` bytes; returns what was filled,
    /// or `None` for `Pending`.
    fn read(io: &mut WeftIo<Script>, room: usize) -> Option<Vec<u8>> {
        let waker = std::task::Waker::from(Arc::new(NoWake));
        let mut cx = Context::from_waker(&waker);
        let mut storage = vec![0u8; room];
        let mut buf = ReadBuf::new(&mut storage);
        match Pin::new(io).poll_read(&mut cx, buf.unfilled()) {
            Poll::Ready(result) => {
                result.unwrap();
                Some(buf.filled().to_vec())
            }
            Poll::Pending => None,
        }
    }

    fn script(steps: Vec<Option<Vec<u8>>>) -> WeftIo<Script> {
        WeftIo::new(Script {
            steps: steps.into(),
            asked: Vec::new(),
        })
    }

    /// The bytes the stream read reach hyper exactly; a cursor smaller
    /// than the scratch bounds the read; `Pending` and end-of-file pass
    /// through; nothing is allocated before the first read.
    #[test]
    fn reads_pass_through_bounded_by_the_cursor() {
        let mut io = script(vec![
            None,
            Some(b"GET / HTTP/1.1\r\n".to_vec()),
            Some(b"0123456789".to_vec()),
            Some(Vec::new()),
        ]);
        assert!(io.scratch.is_empty());
        assert_eq!(read(&mut io, 4096), None);
        assert_eq!(read(&mut io, 4096).unwrap(), b"GET / HTTP/1.1\r\n");
        assert_eq!(read(&mut io, 4).unwrap(), b"0123");
        assert_eq!(read(&mut io, 4096).unwrap(), b"");
        assert_eq!(io.get_ref().asked, [4096, 4096, 4, 4096]);
    }

    /// A read that fills the scratch doubles it, up to `MAX_READ`; a
    /// shorter read leaves it as it is.
    #[test]
    fn a_full_read_doubles_the_scratch_up_to_the_cap() {
        let full = |n: usize| Some(vec![7u8; n]);
        let mut io = script(vec![
            full(FIRST_READ),
            full(2 * FIRST_READ),
            full(100),
            full(4 * FIRST_READ),
            full(MAX_READ),
            full(MAX_READ),
        ]);
        for _ in 0..6 {
            read(&mut io, 1 << 20).unwrap();
        }
        assert_eq!(
            io.get_ref().asked,
            [
                FIRST_READ,
                2 * FIRST_READ,
                4 * FIRST_READ,
                4 * FIRST_READ,
                MAX_READ,
                MAX_READ
            ]
        );
    }
}
