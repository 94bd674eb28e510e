//! Summary: `Source<T>`, a mio socket registered with the reactor for its
//! whole life.
//!
//! Role: every I/O type in `net` and `signal` wraps its mio object in a
//! `Source` and performs each system call through [`Source::poll_read`] or
//! [`Source::poll_write`], which apply the readiness protocol of
//! `readiness.rs`.
//!
//! Design: registration happens in the constructor and deregistration in
//! `Drop`, so a socket is registered exactly as long as it exists (reactor
//! INV-2). Both directions are registered at once; a read half and a write
//! half (`into_split`) share one `Source` through an `Arc` and wait on
//! different waker lists.
//!
//! Invariants:
//! - INV-1: `token` names the slot this `Source` owns; it is freed only in
//!   `Drop`, after the socket left epoll.
//!
//! Concurrency: `&Source` is used from any number of tasks; the socket's
//! `&T` system calls are thread-safe; `Drop` runs on whichever thread drops
//! the last owner, possibly while the driver polls.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use mio::{Interest, Token};

use super::readiness::{Direction, Registration};
use super::Handle;

/// A mio object registered with the reactor of the handle it was created
/// with.
pub(crate) struct Source<T: mio::event::Source> {
    io: T,
    token: Token,
    registration: Arc<Registration>,
    handle: Handle,
}

impl<T: mio::event::Source> Source<T> {
    /// Registers `io` for `interest` with the current thread's reactor.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_ctl`, or an error if the driver shut down.
    ///
    /// # Panics
    ///
    /// Outside a runtime (see `Handle::current`).
    #[track_caller]
    pub(crate) fn new(io: T, interest: Interest) -> io::Result<Source<T>> {
        Source::with_handle(io, interest, Handle::current())
    }

    /// Registers `io` for `interest` with `handle`'s reactor.
    pub(crate) fn with_handle(
        mut io: T,
        interest: Interest,
        handle: Handle,
    ) -> io::Result<Source<T>> {
        let (token, registration) = handle.inner.register(&mut io, interest)?;
        Ok(Source {
            io,
            token,
            registration,
            handle,
        })
    }

    /// The wrapped socket.
    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    /// The handle this source is registered with.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs a read-like non-blocking `op` until it does not block.
    pub(crate) fn poll_read<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration
            .poll_io(cx, Direction::Read, || op(&self.io))
    }

    /// [`Source::poll_read`] for a byte-stream read into a buffer of `len`
    /// bytes: a read of fewer bytes (but not 0, end of stream) emptied the
    /// socket's receive buffer, so readiness is forgotten at once (O4 in
    /// `readiness.rs`). Only for stream sockets: a datagram shorter than the
    /// buffer says nothing about the next one.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_stream(cx, Direction::Read, len, op)
    }

    /// [`Source::poll_write`] for a byte-stream write of `len` bytes: a
    /// write that took fewer (but some) filled the socket's send buffer
    /// (O4 in `readiness.rs`).
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_stream(cx, Direction::Write, len, op)
    }

    /// The body of both stream variants above: a byte-stream `op` in
    /// `direction` that moved some bytes but fewer than `len` emptied the
    /// receive buffer or filled the send buffer, so the direction's
    /// readiness is forgotten (O4).
    fn poll_stream(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.registration
            .poll_io_draining(cx, direction, || op(&self.io), |&n| n > 0 && n < len)
    }

    /// Runs a write-like non-blocking `op` until it does not block.
    pub(crate) fn poll_write<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration
            .poll_io(cx, Direction::Write, || op(&self.io))
    }
}

impl<T: mio::event::Source> Drop for Source<T> {
    fn drop(&mut self) {
        // INV-1
        self.handle.inner.deregister(self.token, &mut self.io);
    }
}

impl<T: mio::event::Source + fmt::Debug> fmt::Debug for Source<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("io", &self.io)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}
