//! Summary: the few socket calls mio and std do not offer, on raw file
//! descriptors.
//!
//! Role: `net::tcp` calls [`set_listen_backlog`] after binding; the
//! reactor's `Driver::poll` calls [`wait_readable`] to wait on the epoll
//! descriptor with a timeout finer than a millisecond.
//!
//! Design: this is the only place in weft-io where `unsafe` touches raw
//! file descriptors (STYLE §4.2 allows it in `io::reactor`); each function
//! borrows the socket through `AsFd`, so the descriptor is open for the
//! whole call.
//!
//! Invariants:
//! - INV-1: every descriptor passed to libc comes from a `BorrowedFd`, or
//!   from a borrowed object that owns it (mio's `Poll`, which offers only
//!   `AsRawFd`), whose lifetime covers the call, so it is open and owned by
//!   the caller.
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

/// Waits until `fd` is readable or `timeout` has passed, to the
/// nanosecond (as the kernel's timers allow), with `ppoll(2)`; returns
/// whether it became readable. Reads nothing.
///
/// The reactor calls it on mio's epoll descriptor, which is readable while
/// events are ready: `epoll_wait` itself takes whole milliseconds, and mio
/// rounds a timeout up to the next one, so a park meant to end 0.3 ms from
/// now would end 1 ms from now. The events stay queued for the `epoll_wait`
/// that follows.
///
/// # Errors
///
/// The OS error of `ppoll(2)` (`EINTR` included: the caller decides).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn wait_readable(
    owner: &impl AsRawFd,
    timeout: std::time::Duration,
) -> io::Result<bool> {
    let mut poll_fd = libc::pollfd {
        fd: owner.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // `c_long` is 32 bits on 32-bit targets, where the conversion can fail
    // in principle (never for a value below 10^9).
    #[allow(clippy::unnecessary_fallible_conversions)]
    let timeout = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::try_from(timeout.subsec_nanos()).expect("below 10^9"),
    };
    // SAFETY: INV-1: `owner` is borrowed for this call and owns the
    // descriptor, so it stays open; `poll_fd` and `timeout`
    // are live locals the call reads (and writes `revents` of) only while it
    // runs; a null signal mask leaves the thread's mask unchanged.
    let rc = unsafe { libc::ppoll(&mut poll_fd, 1, &timeout, std::ptr::null()) };
    match rc {
        0 => Ok(false),
        n if n > 0 => Ok(true),
        _ => Err(io::Error::last_os_error()),
    }
}
