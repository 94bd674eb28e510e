//! Summary: [`AsyncReadExt`]: `read`, `read_exact`, `read_to_end` and
//! `read_to_string` as futures.
//!
//! Role: used by application code on any `AsyncRead + Unpin`.
//!
//! Design: each method is a named future borrowing the reader and the
//! buffer. Cancel safety: `read` is cancel-safe (nothing is consumed unless
//! it completes); `read_exact`, `read_to_end` and `read_to_string` are not
//! (bytes already copied stay in the caller's buffer, which for
//! `read_exact` is lost with the future's progress count).
//!
//! Invariants:
//! - INV-1: `ReadExact::filled` never exceeds the buffer's length.
//!
//! Concurrency: none; one task polls.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::DEFAULT_BUF_SIZE;

/// `.await`-able reading methods for every [`AsyncRead`].
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::io::AsyncReadExt;
///
/// let mut reader: &[u8] = b"header+rest of the stream";
/// let mut header = [0u8; 7];
/// reader.read_exact(&mut header).await?;
/// let mut rest = String::new();
/// reader.read_to_string(&mut rest).await?;
/// assert_eq!((&header, rest.as_str()), (b"header+", "rest of the stream"));
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; returns how many (0 at end-of-file or
    /// for an empty `buf`).
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Fills `buf` completely.
    ///
    /// # Errors
    ///
    /// `UnexpectedEof` if the stream ends first, or the reader's error.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads until end-of-file, appending to `buf`; returns how many bytes
    /// were appended.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start_len = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start_len,
        }
    }

    /// Reads until end-of-file, appending UTF-8 text to `buf`; returns how
    /// many bytes were appended.
    ///
    /// # Errors
    ///
    /// `InvalidData` if the bytes are not UTF-8 (`buf` is then unchanged),
    /// or the reader's error.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            buf,
            bytes: Vec::new(),
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Future of [`AsyncReadExt::read`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    /// INV-1
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.filled < this.buf.len() {
            let n = match Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[this.filled..]) {
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            if n == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "stream ended after {} of {} bytes",
                        this.filled,
                        this.buf.len()
                    ),
                )));
            }
            this.filled += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// Reads from `reader` until end-of-file, appending to `buf`.
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let len = buf.len();
        buf.resize(len + DEFAULT_BUF_SIZE, 0);
        let result = Pin::new(&mut *reader).poll_read(cx, &mut buf[len..]);
        let n = match &result {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(len + n);
        match result {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start_len: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_read_to_end(this.reader, cx, this.buf).map_ok(|()| this.buf.len() - this.start_len)
    }
}

/// Future of [`AsyncReadExt::read_to_string`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    bytes: Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match poll_read_to_end(this.reader, cx, &mut this.bytes) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match std::str::from_utf8(&this.bytes) {
            Ok(text) => {
                this.buf.push_str(text);
                Poll::Ready(Ok(this.bytes.len()))
            }
            Err(e) => Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
        }
    }
}
