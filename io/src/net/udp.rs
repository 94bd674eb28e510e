//! Summary: [`UdpSocket`], datagrams over UDP.
//!
//! Role: user code and `examples/udp_ping.rs`.
//!
//! Design: a thin layer over `mio::net::UdpSocket`. Addresses are resolved
//! off the worker threads and tried in turn (`addr.rs`); every datagram
//! call goes through `net`'s `read_ready`/`write_ready`, as
//! `UnixDatagram`'s do; `send_to` uses the first address a
//! name resolves to, as std does. A datagram is sent or received whole or
//! not at all, so every method is cancel-safe: a dropped `recv` future
//! consumed nothing.
//!
//! Invariants: none beyond the reactor's.
//!
//! Concurrency: all methods take `&self`; several tasks may send and
//! receive on one socket (each waiting task is woken, see
//! `reactor/readiness.rs`).

use std::fmt;
use std::future::ready;
use std::io;
use std::net::SocketAddr;

use mio::Interest;

use super::addr::{resolve, try_each_addr, ToSocketAddrs};
use super::{forward_fd, read_ready, write_ready};
use crate::reactor::Source;

/// A UDP socket.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::net::UdpSocket;
///
/// let server = UdpSocket::bind("127.0.0.1:0").await?;
/// let client = UdpSocket::bind("127.0.0.1:0").await?;
/// client.connect(server.local_addr()?).await?;
/// client.send(b"ping").await?;
///
/// let mut buf = [0u8; 16];
/// let (len, from) = server.recv_from(&mut buf).await?;
/// server.send_to(&buf[..len], from).await?;
/// assert_eq!(client.recv(&mut buf).await?, 4);
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub struct UdpSocket {
    source: Source<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to the first address of `addr` that accepts it (port
    /// 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried (e.g. `AddrInUse`), or the
    /// resolver's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        try_each_addr(&addr, |addr| {
            ready(mio::net::UdpSocket::bind(addr).and_then(UdpSocket::from_mio))
        })
        .await
    }

    /// Wraps a bound std socket (switching it to non-blocking mode).
    ///
    /// # Errors
    ///
    /// The OS error of `fcntl` or of the reactor registration.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            source: Source::new(socket, Interest::READABLE | Interest::WRITABLE)?,
        })
    }

    /// Sets the default peer: `send` goes there and `recv` only accepts
    /// datagrams from it. Tries each address of `addr` in turn.
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried, or the resolver's.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        try_each_addr(&addr, |addr| ready(self.source.get_ref().connect(addr))).await
    }

    /// Sends `buf` as one datagram to `target`; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS error of `sendto` (e.g. `MessageTooLong` kinds surface as the
    /// OS reports them), or the resolver's.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        write_ready(&self.source, |s| s.send_to(buf, target)).await
    }

    /// Receives one datagram into `buf` (the excess of a longer one is
    /// discarded); returns its length and sender.
    ///
    /// # Errors
    ///
    /// The OS error of `recvfrom`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        read_ready(&self.source, |s| s.recv_from(buf)).await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `send` (`NotConnected` without `connect`;
    /// `ConnectionRefused` if an earlier datagram found no listener).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        write_ready(&self.source, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of `recv` (e.g. `ConnectionRefused` if an earlier
    /// datagram found no listener).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        read_ready(&self.source, |s| s.recv(buf)).await
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.source.get_ref().set_broadcast(on)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

forward_fd!(UdpSocket, source.get_ref());
