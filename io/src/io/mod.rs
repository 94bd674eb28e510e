//! Summary: async I/O traits and helpers: futures-io's `AsyncRead`,
//! `AsyncWrite`, `AsyncBufRead`, the extension traits that give them
//! `.await`-able methods, buffering adapters, `copy` and `split`.
//!
//! Role: the user-facing half of weft's I/O (`weft::io`); every stream in
//! `net` and `fs::File` implements the traits.
//!
//! Design: the traits are futures-io's, so the ecosystem's adapters work on
//! weft's sockets and weft's helpers work on anyone's streams. The helpers
//! are written here, not taken from futures-util, to keep the dependency
//! tree to what a reader can audit in an afternoon. Each `*Ext` method
//! returns a small named future (as futures-util does) rather than an
//! `async fn` in a trait, so the futures are `Send` exactly when their
//! parts are, which generic callers can rely on. The helpers require
//! `Unpin` streams (every weft type is): pinning projections would need
//! `unsafe` or another dependency, and a `!Unpin` stream can be boxed.
//!
//! Which should I use?
//! - `read` returns whatever is available (maybe fewer bytes, 0 at
//!   end-of-file); `read_exact` fills the buffer or fails with
//!   `UnexpectedEof`.
//! - Wrap a stream in `BufReader` to read lines; in `BufWriter` to batch
//!   many small writes (then `flush` or `close`, or the tail is lost:
//!   dropping a `BufWriter` cannot write asynchronously).
//! - `TcpStream::into_split` costs nothing and locks nothing; `split` works
//!   on any stream but takes a lock on every poll.
//!
//! Invariants: see each file.
//!
//! Concurrency: all helpers are plain futures polled by one task.

mod buf_read;
mod buf_reader;
mod buf_writer;
mod copy;
mod read;
mod split;
mod write;

pub use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

pub use buf_read::{AsyncBufReadExt, Lines, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use copy::{copy, Copy};
pub use read::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use split::{split, ReadHalf, ReuniteError, WriteHalf};
pub use write::{AsyncWriteExt, Close, Flush, Write, WriteAll};

/// The size of the buffers `BufReader`, `BufWriter` and `copy` allocate:
/// std's `DEFAULT_BUF_SIZE`, a page pair that amortises system calls.
pub const DEFAULT_BUF_SIZE: usize = 8 * 1024;
