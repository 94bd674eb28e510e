//! Resetting a connection as a crashed or impatient client does, for the
//! server examples' misbehaving clients.
//!
//! With `SO_LINGER` set to zero, closing a TCP socket sends a reset (RST)
//! instead of the orderly FIN: the server's next read or write on that
//! connection fails with `ConnectionReset` (or `BrokenPipe`). A server that
//! survives its clients counts such a connection as failed and keeps
//! serving the others; one that propagates the error with `?` out of its
//! accept loop stops serving everyone.

use std::io;
use std::time::Duration;

use weft::net::TcpStream;

/// Arms `stream` so that dropping it resets the connection.
pub fn reset_on_drop(stream: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))
}
