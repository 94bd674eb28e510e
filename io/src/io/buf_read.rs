//! Summary: [`AsyncBufReadExt`]: `read_until`, `read_line` and `lines` (a
//! `Stream` of lines) for every `AsyncBufRead`.
//!
//! Role: used with [`BufReader`](super::BufReader) around a socket or file,
//! e.g. to read a line-based protocol.
//!
//! Design: one helper, `poll_read_until`, moves bytes from the reader's
//! buffer into the caller's until the delimiter; `read_line` and `Lines`
//! validate UTF-8 once the line is complete (a character split across two
//! reads is never misjudged). Not cancel-safe: a dropped `read_line` keeps
//! the bytes it consumed in its own buffer, not the caller's.
//!
//! Invariants:
//! - INV-1: bytes are consumed from the reader only after they were copied
//!   into the line buffer.
//!
//! Concurrency: none; one task polls.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_io::AsyncBufRead;

/// `.await`-able line reading for every [`AsyncBufRead`].
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
/// use weft_io::io::{AsyncBufReadExt, BufReader};
///
/// let mut lines = BufReader::new(&b"first\r\nsecond\n"[..]).lines();
/// let mut seen = Vec::new();
/// while let Some(line) = poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
///     seen.push(line?);
/// }
/// assert_eq!(seen, ["first", "second"]);
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads until `delimiter` (included) or end-of-file, appending to
    /// `buf`; returns how many bytes were appended (0 at end-of-file).
    fn read_until<'a>(&'a mut self, delimiter: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter,
            start_len: buf.len(),
            buf,
        }
    }

    /// Reads one line, `\n` included, appending it to `buf`; returns its
    /// length in bytes (0 at end-of-file).
    ///
    /// # Errors
    ///
    /// `InvalidData` if the line is not UTF-8 (`buf` is then unchanged), or
    /// the reader's error.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            buf,
            bytes: Vec::new(),
        }
    }

    /// A stream of the lines of this reader, without their `\n` or `\r\n`.
    /// Ends at end-of-file; yields an `InvalidData` error for a line that is
    /// not UTF-8.
    fn lines(self) -> Lines<Self>
    where
        Self: Unpin + Sized,
    {
        Lines {
            reader: self,
            bytes: Vec::new(),
        }
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Copies bytes from `reader` into `buf` up to and including `delimiter`
/// or end-of-file. Bytes copied before a `Pending` stay in `buf`.
fn poll_read_until<R: AsyncBufRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    delimiter: u8,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    loop {
        let (done, used) = {
            let available = match Pin::new(&mut *reader).poll_fill_buf(cx) {
                Poll::Ready(Ok(available)) => available,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match available.iter().position(|&b| b == delimiter) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        // INV-1
        Pin::new(&mut *reader).consume(used);
        if done {
            return Poll::Ready(Ok(()));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    delimiter: u8,
    buf: &'a mut Vec<u8>,
    start_len: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_read_until(this.reader, cx, this.delimiter, this.buf)
            .map_ok(|()| this.buf.len() - this.start_len)
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut String,
    bytes: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match poll_read_until(this.reader, cx, b'\n', &mut this.bytes) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        let bytes = std::mem::take(&mut this.bytes);
        match String::from_utf8(bytes) {
            Ok(line) => {
                this.buf.push_str(&line);
                Poll::Ready(Ok(line.len()))
            }
            Err(e) => Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
        }
    }
}

/// The stream of [`AsyncBufReadExt::lines`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Lines<R> {
    reader: R,
    bytes: Vec<u8>,
}

impl<R> Lines<R> {
    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<String>>> {
        let this = self.get_mut();
        match poll_read_until(&mut this.reader, cx, b'\n', &mut this.bytes) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
            Poll::Pending => return Poll::Pending,
        }
        let mut bytes = std::mem::take(&mut this.bytes);
        if bytes.is_empty() {
            return Poll::Ready(None);
        }
        if bytes.ends_with(b"\n") {
            bytes.pop();
            if bytes.ends_with(b"\r") {
                bytes.pop();
            }
        }
        Poll::Ready(Some(
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        ))
    }
}
