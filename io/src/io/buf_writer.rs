//! Summary: [`BufWriter`], which collects small writes into a buffer and
//! hands them to the inner writer in large ones.
//!
//! Role: wraps sockets and files written in small pieces.
//!
//! Design: std's `BufWriter` behaviour: a write that fits is copied into
//! the buffer; one that does not first flushes the buffer; one at least as
//! large as the buffer goes straight through. Dropping a `BufWriter` cannot
//! await, so unflushed bytes are lost on drop: call `flush` or `close`.
//!
//! Invariants:
//! - INV-1: `buf[written..]` are bytes accepted from the caller and not yet
//!   written to the inner writer; `written <= buf.len() <= capacity`.
//!
//! Concurrency: none; one task polls.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::DEFAULT_BUF_SIZE;

/// Adds write buffering to a writer; see the module doc.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::io::{AsyncWriteExt, BufWriter};
///
/// let mut writer = BufWriter::new(Vec::new());
/// for word in ["many ", "small ", "writes"] {
///     writer.write_all(word.as_bytes()).await?; // copied into the buffer
/// }
/// assert!(writer.get_ref().is_empty(), "nothing written through yet");
/// writer.flush().await?;
/// assert_eq!(writer.get_ref(), b"many small writes");
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub struct BufWriter<W> {
    inner: W,
    /// INV-1
    buf: Vec<u8>,
    /// INV-1
    written: usize,
    capacity: usize,
}

impl<W> BufWriter<W> {
    /// A writer with a [`DEFAULT_BUF_SIZE`] buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// A writer with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
            capacity,
        }
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably (writing to it directly jumps ahead of
    /// the buffered bytes).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The bytes accepted but not yet written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The inner writer; buffered bytes are lost (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: AsyncWrite + Unpin> BufWriter<W> {
    /// Writes the buffered bytes to the inner writer (without flushing it).
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = match Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the inner writer accepted 0 bytes of the buffered data",
                )));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for BufWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() + data.len() > this.capacity {
            match this.poll_drain(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if data.len() >= this.capacity {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.inner).poll_close(cx),
            other => other,
        }
    }
}

/// Reads pass straight through, so a buffered socket can still be read.
impl<W: AsyncRead + Unpin> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

/// Buffered reads pass straight through (e.g. `BufWriter<BufReader<S>>`).
impl<W: AsyncBufRead + Unpin> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.get_mut().inner).consume(amt)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("inner", &self.inner)
            .field("buffered", &(self.buf.len() - self.written))
            .field("capacity", &self.capacity)
            .finish()
    }
}
