//! Summary: the network types: TCP, UDP and Unix-domain sockets.
//!
//! Role: users create these inside a runtime; each registers with the
//! runtime's reactor through the thread-local I/O handle.
//!
//! Design: one file per protocol family (`tcp.rs`, `udp.rs`, `unix.rs`),
//! each a thin layer over mio's sockets plus the reactor's readiness
//! protocol; `addr.rs` holds the address argument, name resolution and the
//! try-each-address loop; `stream.rs` holds the one implementation of a
//! stream socket's I/O and the owned halves, which TCP and Unix streams
//! share; the datagram and accept calls all go through `read_ready` and
//! `write_ready` below. Streams implement futures-io's
//! `AsyncRead`/`AsyncWrite` rather than a weft-specific trait, so any
//! futures-io adapter works on them; with the `tokio-io` feature they also
//! implement tokio's traits (`tokio_io.rs`). Every socket type's `AsRawFd`
//! and `AsFd` are those of its mio socket, written by `forward_fd!` below.
//!
//! Invariants: none of their own; see `reactor`.
//!
//! Concurrency: every type is `Send + Sync`; see each file.

mod addr;
mod split;
mod stream;
mod tcp;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
mod unix;

use std::future::poll_fn;
use std::io;

use crate::reactor::Source;

pub use addr::ToSocketAddrs;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use tcp::{TcpListener, TcpStream, ACCEPT_BACKOFF, LISTEN_BACKLOG};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Waits until the read-like system call `op` (`accept`, `recv`,
/// `recvfrom`) does not block, under the readiness protocol.
async fn read_ready<T, R>(
    source: &Source<T>,
    mut op: impl FnMut(&T) -> io::Result<R>,
) -> io::Result<R>
where
    T: mio::event::Source,
{
    poll_fn(|cx| source.poll_read(cx, &mut op)).await
}

/// Waits until the write-like system call `op` (`send`, `sendto`) does not
/// block, under the readiness protocol.
async fn write_ready<T, R>(
    source: &Source<T>,
    mut op: impl FnMut(&T) -> io::Result<R>,
) -> io::Result<R>
where
    T: mio::event::Source,
{
    poll_fn(|cx| source.poll_write(cx, &mut op)).await
}

/// Implements `AsRawFd` and `AsFd` for a socket type as those of its mio
/// socket, which `self.<field>.<accessor>()` returns:
///
/// ```text
/// forward_fd!(TcpListener, source.get_ref());
/// forward_fd!(TcpStream, stream.socket());
/// ```
///
/// Why a macro: the traits are std's, so the orphan rule forbids one
/// blanket impl over every socket type, and each type needs two impls of
/// its own that differ only in the type's name and how it reaches its
/// socket.
macro_rules! forward_fd {
    ($ty:ty, $field:ident.$socket:ident()) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.$field.$socket())
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.$field.$socket())
            }
        }
    };
}

pub(crate) use forward_fd;
