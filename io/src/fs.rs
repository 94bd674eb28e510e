//! Summary: async file system access: [`read`], [`write()`],
//! [`read_to_string`] and [`File`], each running the blocking std call on
//! the runtime's blocking pool (the aiofiles pattern).
//!
//! Role: user code (`weft::fs`). Every operation goes through the
//! `blocking` hook that the runtime hands to the I/O [`Driver`](crate::Driver).
//!
//! Design:
//! - Why not in weft-runtime, next to the blocking pool: it lives
//!   here because weft-io already holds the async I/O traits `File` must
//!   implement and the blocking hook it needs, while weft-runtime cannot be
//!   a dependency of weft-io. The runtime's blocking pool is still what
//!   runs the work, through the hook.
//! - Regular files are always "ready" to epoll, so the reactor cannot help;
//!   a thread pool is the portable answer (io_uring is Linux-only and a
//!   larger design).
//! - `File` keeps one buffer and is either idle (owning it) or busy (the
//!   buffer travels with the blocking operation). A read asks for at most
//!   the caller's buffer size (capped at [`MAX_BUF_BYTES`]), so no data is
//!   read ahead of what the caller receives, except when a read future was
//!   dropped before completing: its bytes stay buffered for the next read,
//!   and a write first seeks back over them (INV-2).
//! - Writes are write-behind: `poll_write` copies the data and returns at
//!   once while the blocking pool writes it; the outcome is reported by the
//!   next operation, and `flush`/`close` wait for it. Dropping a `File`
//!   with a write in flight lets that write finish but loses its error, so
//!   call `close` (or `flush`) before dropping (the trap of every
//!   write-behind file).
//!
//! Invariants:
//! - INV-1: in `State::Idle` the `File` owns the buffer; in `State::Busy`
//!   the blocking operation owns it and gives it back with its result.
//! - INV-2: `buf.data[buf.pos..]` are bytes read from the OS file but not yet
//!   returned to the caller; the OS file position is that many bytes past
//!   the logical position.
//!
//! State machine:
//!
//! ```text
//! Idle --poll_read (nothing buffered)--> Busy(read) --done--> Idle
//! Idle --poll_write--------------------> Busy(write) --done--> Idle
//! ```
//!
//! Concurrency: the std file is shared (`Arc`) with at most one blocking
//! operation at a time (INV-1); the `File` itself is polled by one task.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::blocking::{run_blocking, Blocking};
use crate::reactor::Handle;

/// The largest single read or write handed to the blocking pool: bounds the
/// memory one `File` holds and the time one pool thread is busy.
pub const MAX_BUF_BYTES: usize = 2 * 1024 * 1024;

/// Reads the whole file at `path`.
///
/// # Errors
///
/// The OS error (e.g. `NotFound`).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// let path = std::env::temp_dir().join(format!("weft-doc-{}.txt", std::process::id()));
/// weft_io::fs::write(&path, "some text").await?;
/// assert_eq!(weft_io::fs::read(&path).await?, b"some text");
/// assert_eq!(weft_io::fs::read_to_string(&path).await?, "some text");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub async fn read<P: AsRef<Path>>(path: P) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    run_blocking(&Handle::current(), move || std::fs::read(path)).await?
}

/// Reads the whole file at `path` as UTF-8.
///
/// # Errors
///
/// The OS error, or `InvalidData` if the file is not UTF-8.
///
/// # Panics
///
/// Outside a runtime.
pub async fn read_to_string<P: AsRef<Path>>(path: P) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    run_blocking(&Handle::current(), move || std::fs::read_to_string(path)).await?
}

/// Creates or truncates the file at `path` and writes `contents` to it.
///
/// # Errors
///
/// The OS error (e.g. `NotFound` for a missing directory).
///
/// # Panics
///
/// Outside a runtime.
pub async fn write<P: AsRef<Path>, C: AsRef<[u8]>>(path: P, contents: C) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    run_blocking(&Handle::current(), move || std::fs::write(path, contents)).await?
}

/// The buffer a `File` lends to its blocking operations (INV-1, INV-2).
#[derive(Debug, Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> &[u8] {
        &self.data[self.pos..]
    }

    /// Copies buffered bytes into `out`; returns how many.
    fn copy_to(&mut self, out: &mut [u8]) -> usize {
        let n = self.unread().len().min(out.len());
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }
}

/// What a finished blocking operation reports.
enum Outcome {
    Read(io::Result<usize>),
    Write(io::Result<()>),
}

enum State {
    /// INV-1: the `File` owns the buffer.
    Idle(Buf),
    /// INV-1: the blocking operation owns the buffer.
    Busy(Blocking<(Outcome, Buf)>),
}

/// An open file; implements `AsyncRead` and `AsyncWrite` (see the module
/// doc for write-behind and `close`).
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::fs::File;
/// use weft_io::io::{AsyncReadExt, AsyncWriteExt};
///
/// let path = std::env::temp_dir().join(format!("weft-doc-file-{}.txt", std::process::id()));
/// let mut file = File::create(&path).await?;
/// file.write_all(b"line one\n").await?;
/// file.close().await?; // waits for the write-behind: errors surface here
///
/// let mut text = String::new();
/// File::open(&path).await?.read_to_string(&mut text).await?;
/// assert_eq!(text, "line one\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    state: State,
    /// A write error observed while reading, reported by the next write or
    /// flush.
    last_write_error: Option<io::Error>,
    handle: Handle,
}

impl File {
    /// Opens `path` for reading.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotFound`, `PermissionDenied`).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn open<P: AsRef<Path>>(path: P) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let handle = Handle::current();
        let std = run_blocking(&handle, move || std::fs::File::open(path)).await??;
        Ok(File::with_handle(std, handle))
    }

    /// Creates (or truncates) `path` and opens it for writing.
    ///
    /// # Errors
    ///
    /// The OS error (e.g. `NotFound` for a missing directory).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn create<P: AsRef<Path>>(path: P) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let handle = Handle::current();
        let std = run_blocking(&handle, move || std::fs::File::create(path)).await??;
        Ok(File::with_handle(std, handle))
    }

    /// Wraps an open std file.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(file: std::fs::File) -> File {
        File::with_handle(file, Handle::current())
    }

    fn with_handle(file: std::fs::File, handle: Handle) -> File {
        File {
            std: Arc::new(file),
            state: State::Idle(Buf::default()),
            last_write_error: None,
            handle,
        }
    }

    /// Waits for any write in flight, then `fsync`s data and metadata.
    ///
    /// # Errors
    ///
    /// The error of the write in flight, or of `fsync`.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_flush(cx)).await?;
        let file = self.std.clone();
        run_blocking(&self.handle, move || file.sync_all()).await?
    }

    /// Waits for the blocking operation in flight, if any, and returns to
    /// `Idle`. A read's bytes stay buffered (INV-2); a write's error is
    /// returned.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Outcome>>> {
        let State::Busy(operation) = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let finished = match Pin::new(operation).poll(cx) {
            Poll::Ready(finished) => finished,
            Poll::Pending => return Poll::Pending,
        };
        match finished {
            Ok((outcome, buf)) => {
                self.state = State::Idle(buf);
                Poll::Ready(Ok(Some(outcome)))
            }
            Err(e) => {
                // The pool dropped the operation; the buffer went with it.
                self.state = State::Idle(Buf::default());
                Poll::Ready(Err(e))
            }
        }
    }

    /// The idle buffer (INV-1: only called in `Idle`).
    fn idle_buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(_) => unreachable!("the buffer is only touched while idle"),
        }
    }

    fn start(
        &mut self,
        operation: impl FnOnce(&std::fs::File, &mut Buf) -> Outcome + Send + 'static,
    ) {
        let mut buf = std::mem::take(self.idle_buf());
        let file = self.std.clone();
        self.state = State::Busy(run_blocking(&self.handle, move || {
            let outcome = operation(&file, &mut buf);
            (outcome, buf)
        }));
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match this.poll_idle(cx) {
                Poll::Ready(Ok(Some(Outcome::Read(Ok(_))))) => {
                    // Return this read's bytes, even 0 (end-of-file).
                    return Poll::Ready(Ok(this.idle_buf().copy_to(out)));
                }
                Poll::Ready(Ok(Some(Outcome::Read(Err(e))))) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(Some(Outcome::Write(Err(e))))) => this.last_write_error = Some(e),
                Poll::Ready(Ok(Some(Outcome::Write(Ok(())))) | Ok(None)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            if !this.idle_buf().unread().is_empty() || out.is_empty() {
                return Poll::Ready(Ok(this.idle_buf().copy_to(out)));
            }
            let len = out.len().min(MAX_BUF_BYTES);
            this.start(move |mut file, buf| {
                buf.clear();
                buf.data.resize(len, 0);
                let result = file.read(&mut buf.data);
                buf.data.truncate(*result.as_ref().unwrap_or(&0));
                Outcome::Read(result)
            });
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.poll_idle(cx) {
            Poll::Ready(Ok(Some(Outcome::Write(Err(e))))) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        if let Some(e) = this.last_write_error.take() {
            return Poll::Ready(Err(e));
        }
        let n = data.len().min(MAX_BUF_BYTES);
        // INV-2: the OS position is past bytes the caller never received.
        let read_ahead = this.idle_buf().unread().len() as i64;
        let buf = this.idle_buf();
        buf.clear();
        buf.data.extend_from_slice(&data[..n]);
        this.start(move |mut file, buf| {
            let mut write = || {
                if read_ahead > 0 {
                    file.seek(SeekFrom::Current(-read_ahead))?;
                }
                file.write_all(&buf.data)
            };
            let result = write();
            buf.clear();
            Outcome::Write(result)
        });
        Poll::Ready(Ok(n))
    }

    /// Waits for the write in flight and reports its error, if any.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_idle(cx) {
            Poll::Ready(Ok(Some(Outcome::Write(Err(e))))) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(_)) => match this.last_write_error.take() {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Ready(Ok(())),
            },
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Flushes; the descriptor itself closes when the `File` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("is_busy", &matches!(self.state, State::Busy(_)))
            .finish_non_exhaustive()
    }
}
