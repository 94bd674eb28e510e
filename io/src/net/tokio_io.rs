//! Summary: feature `tokio-io`: tokio's `AsyncRead`/`AsyncWrite` on
//! `TcpStream`, `UnixStream` and the owned halves of either.
//!
//! Role: lets libraries written against tokio's I/O traits (tokio-rustls,
//! tokio-util's codecs, ...) run on weft's sockets. The tokio crate comes
//! with no feature at all: its traits and `ReadBuf`, no runtime, reactor
//! or thread.
//!
//! Design: every impl forwards to the one implementation in `stream.rs`
//! (`Stream`), as the futures-io impls do, and is written by the same
//! macro, `forward_to_stream!` (`stream.rs`), from the impl headers below;
//! tokio's `AsyncWrite` shares its write and flush methods with
//! futures-io's and adds `is_write_vectored` (true) and `poll_shutdown`
//! (futures-io's `poll_close`). A read fills tokio's `ReadBuf`
//! through `initialize_unfilled`, which zeroes only the part the buffer
//! has not initialised before, so a reused buffer is zeroed once; no
//! `unsafe`. Rejected: reading into the uninitialised part directly, which
//! would need `unsafe` for a gain only the first read of a buffer sees.
//!
//! Invariants: none beyond `stream.rs`'s.
//!
//! Concurrency: as for the futures-io impls.

use super::split::{OwnedReadHalf, OwnedWriteHalf};
use super::stream::{forward_to_stream, SplitStream};
use super::{TcpStream, UnixStream};

forward_to_stream!(impl tokio::io::AsyncRead for TcpStream);
forward_to_stream!(impl tokio::io::AsyncRead for UnixStream);
forward_to_stream!(impl<T: SplitStream> tokio::io::AsyncRead for OwnedReadHalf<T>);

forward_to_stream!(impl tokio::io::AsyncWrite for TcpStream);
forward_to_stream!(impl tokio::io::AsyncWrite for UnixStream);
forward_to_stream!(impl<T: SplitStream> tokio::io::AsyncWrite for OwnedWriteHalf<T>);
