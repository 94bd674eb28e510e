//! Summary: the few socket calls mio and std do not offer, on raw file
//! descriptors.
//!
//! Role: `net::tcp` calls [`set_listen_backlog`] after binding.
//!
//! Design: this is the only place in weft-io where `unsafe` touches raw
//! file descriptors (STYLE §4.2 allows it in `io::reactor`); each function
//! borrows the socket through `AsFd`, so the descriptor is open for the
//! whole call.
//!
//! Invariants:
//! - INV-1: every descriptor passed to libc comes from a `BorrowedFd`
//!   whose lifetime covers the call, so it is open and owned by the caller.
//!
//! Concurrency: the calls are thread-safe system calls.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Re-issues `listen(2)` on an already listening socket with `backlog`,
/// which Linux and the BSDs treat as "change the queue length". std (and so
/// mio) listen with 128, which a burst of a thousand connects overflows:
/// the kernel then drops handshakes and clients see resets or one-second
/// retransmit stalls.
///
/// # Errors
///
/// The OS error of `listen(2)`.
pub(crate) fn set_listen_backlog(socket: &impl AsFd, backlog: i32) -> io::Result<()> {
    let fd = socket.as_fd();
    // SAFETY: INV-1: `fd` is borrowed from `socket` for this call, so it is
    // an open socket; `listen` only reads its arguments.
    let rc = unsafe { libc::listen(fd.as_raw_fd(), backlog) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
