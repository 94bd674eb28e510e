//! Summary: [`split`]: turns any `AsyncRead + AsyncWrite` into a read half
//! and a write half that can be used from two tasks.
//!
//! Role: for streams without a native split (for `TcpStream`, prefer the
//! lock-free `into_split`).
//!
//! Design: both halves share the stream behind an `Arc<Mutex<..>>`; each
//! poll locks it for the duration of one `poll_read`/`poll_write`, which
//! never blocks (the inner poll returns `Pending` instead). Rejected:
//! futures-util's `BiLock`, which avoids the mutex but needs `unsafe`.
//!
//! Invariants:
//! - INV-1: the lock is held only inside a single inner poll call.
//!
//! Concurrency: the two halves may be polled from two threads at once; the
//! mutex serialises their inner polls.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use parking_lot::Mutex;

/// Splits `stream` into halves that share it; see the module doc.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::io::{split, AsyncReadExt, AsyncWriteExt};
/// use weft_io::net::UnixStream;
///
/// let (left, mut right) = UnixStream::pair()?;
/// let (mut read_half, mut write_half) = split(left);
/// write_half.write_all(b"out").await?;
/// right.write_all(b"in!").await?;
/// let mut buf = [0u8; 3];
/// read_half.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"in!");
/// right.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"out");
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let shared = Arc::new(Mutex::new(stream));
    (
        ReadHalf {
            shared: shared.clone(),
        },
        WriteHalf { shared },
    )
}

/// The reading half of [`split`].
pub struct ReadHalf<T> {
    shared: Arc<Mutex<T>>,
}

/// The writing half of [`split`].
pub struct WriteHalf<T> {
    shared: Arc<Mutex<T>>,
}

/// The error of [`ReadHalf::unsplit`]: the halves came from different
/// `split` calls; they are handed back.
pub struct ReuniteError<T>(pub ReadHalf<T>, pub WriteHalf<T>);

impl<T> fmt::Debug for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<T> fmt::Display for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to unsplit halves that are not from the same split")
    }
}

impl<T> std::error::Error for ReuniteError<T> {}

impl<T> ReadHalf<T> {
    /// Joins the halves back into the stream.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they are from different
    /// `split` calls.
    pub fn unsplit(self, write: WriteHalf<T>) -> Result<T, ReuniteError<T>> {
        if !Arc::ptr_eq(&self.shared, &write.shared) {
            return Err(ReuniteError(self, write));
        }
        drop(write);
        match Arc::try_unwrap(self.shared) {
            Ok(mutex) => Ok(mutex.into_inner()),
            Err(_) => unreachable!("both halves were given back, so no other owner exists"),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // INV-1
        Pin::new(&mut *self.shared.lock()).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.shared.lock()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.shared.lock()).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.shared.lock()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.shared.lock()).poll_close(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}
