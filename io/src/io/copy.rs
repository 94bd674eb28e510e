//! Summary: [`copy`]: moves every byte from a reader to a writer.
//!
//! Role: proxies and echo servers (`copy(&mut reader, &mut writer)`).
//!
//! Design: a fixed [`DEFAULT_BUF_SIZE`] buffer refilled from the reader and
//! drained into the writer; the writer is flushed at end-of-file and
//! whenever the reader would block with nothing left to write, so small
//! interactive exchanges through a buffered writer are not held back.
//!
//! Invariants:
//! - INV-1: `buf[pos..cap]` are bytes read but not yet written.
//!
//! Concurrency: none; one task polls.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::DEFAULT_BUF_SIZE;

/// Copies everything `reader` yields into `writer` until end-of-file, then
/// flushes `writer`; returns the number of bytes copied.
///
/// # Errors
///
/// The first error of either side, or `WriteZero` if the writer stops
/// accepting bytes.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// let mut reader: &[u8] = b"every byte";
/// let mut writer: Vec<u8> = Vec::new();
/// let copied = weft_io::io::copy(&mut reader, &mut writer).await?;
/// assert_eq!((copied, &writer[..]), (10, &b"every byte"[..]));
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> Copy<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    Copy {
        reader,
        writer,
        buf: vec![0; DEFAULT_BUF_SIZE].into_boxed_slice(),
        pos: 0,
        cap: 0,
        copied: 0,
        is_eof: false,
        needs_flush: false,
    }
}

/// Future of [`copy`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: Box<[u8]>,
    /// INV-1
    pos: usize,
    /// INV-1
    cap: usize,
    copied: u64,
    is_eof: bool,
    needs_flush: bool,
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            if this.pos == this.cap && !this.is_eof {
                match Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf) {
                    Poll::Ready(Ok(0)) => this.is_eof = true,
                    Poll::Ready(Ok(n)) => {
                        this.pos = 0;
                        this.cap = n;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        if this.needs_flush {
                            match Pin::new(&mut *this.writer).poll_flush(cx) {
                                Poll::Ready(Ok(())) => this.needs_flush = false,
                                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                                Poll::Pending => {}
                            }
                        }
                        return Poll::Pending;
                    }
                }
            }
            while this.pos < this.cap {
                let n = match Pin::new(&mut *this.writer)
                    .poll_write(cx, &this.buf[this.pos..this.cap])
                {
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                };
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the writer accepted 0 bytes during copy",
                    )));
                }
                this.pos += n;
                this.copied += n as u64;
                this.needs_flush = true;
            }
            if this.pos == this.cap && this.is_eof {
                return match Pin::new(&mut *this.writer).poll_flush(cx) {
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(this.copied)),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                    Poll::Pending => Poll::Pending,
                };
            }
        }
    }
}
