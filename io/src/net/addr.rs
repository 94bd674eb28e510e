//! Summary: [`ToSocketAddrs`], the address argument of every `net`
//! constructor, and name resolution on the blocking hook.
//!
//! Role: `tcp` and `udp` bind and connect through `try_each_addr`, and
//! resolve a `send_to` target with `resolve`.
//!
//! Design: `std::net::ToSocketAddrs` resolves host names with a blocking
//! `getaddrinfo` on the calling thread, which would stall a worker. This
//! trait accepts the same argument types as std's, turns literal addresses
//! into `SocketAddr`s at once, and copies a host name into an owned string
//! that is resolved on the driver's blocking hook (the runtime's blocking
//! pool) — so `&str` arguments need not be `'static`. It is sealed: the set
//! of argument types is std's, not open for extension.
//!
//! Invariants: none.
//!
//! Concurrency: resolution runs on a blocking-pool thread; the caller awaits
//! its result.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::blocking::run_blocking;
use crate::reactor::Handle;

pub(crate) mod sealed {
    use std::net::SocketAddr;

    /// What an address argument needs before a socket can use it.
    #[derive(Debug)]
    pub enum Lookup {
        /// Literal addresses: no resolution needed.
        Resolved(Vec<SocketAddr>),
        /// A `"host:port"` string that needs `getaddrinfo`.
        HostPort(String),
        /// A host name and a port that need `getaddrinfo`.
        Host(String, u16),
    }

    /// Keeps [`super::ToSocketAddrs`] closed to the std argument types.
    pub trait Sealed {
        /// The lookup this argument needs.
        fn to_lookup(&self) -> Lookup;
    }
}

use sealed::{Lookup, Sealed};

/// An argument that names one or more socket addresses: the types
/// `std::net::ToSocketAddrs` accepts (`SocketAddr`, `"host:port"`,
/// `(host, port)`, `(IpAddr, u16)`, `&[SocketAddr]`, ...). Host names are
/// resolved off the worker threads.
pub trait ToSocketAddrs: Sealed {}

impl<T: Sealed + ?Sized> ToSocketAddrs for T {}

impl Sealed for SocketAddr {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![*self])
    }
}

impl Sealed for SocketAddrV4 {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![SocketAddr::V4(*self)])
    }
}

impl Sealed for SocketAddrV6 {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![SocketAddr::V6(*self)])
    }
}

impl Sealed for (IpAddr, u16) {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![SocketAddr::from(*self)])
    }
}

impl Sealed for (Ipv4Addr, u16) {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![SocketAddr::from(*self)])
    }
}

impl Sealed for (Ipv6Addr, u16) {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(vec![SocketAddr::from(*self)])
    }
}

impl Sealed for [SocketAddr] {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(self.to_vec())
    }
}

impl Sealed for Vec<SocketAddr> {
    fn to_lookup(&self) -> Lookup {
        Lookup::Resolved(self.clone())
    }
}

impl Sealed for str {
    fn to_lookup(&self) -> Lookup {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Lookup::Resolved(vec![addr]),
            Err(_) => Lookup::HostPort(self.to_owned()),
        }
    }
}

impl Sealed for String {
    fn to_lookup(&self) -> Lookup {
        self.as_str().to_lookup()
    }
}

impl Sealed for (&str, u16) {
    fn to_lookup(&self) -> Lookup {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Lookup::Resolved(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Lookup::Host(self.0.to_owned(), self.1),
        }
    }
}

impl Sealed for (String, u16) {
    fn to_lookup(&self) -> Lookup {
        (self.0.as_str(), self.1).to_lookup()
    }
}

impl<T: Sealed + ?Sized> Sealed for &T {
    fn to_lookup(&self) -> Lookup {
        (**self).to_lookup()
    }
}

/// Resolves `addr` to its socket addresses, running `getaddrinfo` on the
/// blocking hook when a host name is involved.
///
/// # Errors
///
/// The resolver's error, or `InvalidInput` if the name resolves to no
/// address.
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    let addrs = match addr.to_lookup() {
        Lookup::Resolved(addrs) => addrs,
        Lookup::HostPort(name) => {
            let handle = Handle::current();
            run_blocking(&handle, move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name).map(Vec::from_iter)
            })
            .await??
        }
        Lookup::Host(host, port) => {
            let handle = Handle::current();
            run_blocking(&handle, move || {
                std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Vec::from_iter)
            })
            .await??
        }
    };
    if addrs.is_empty() {
        return Err(no_addresses());
    }
    Ok(addrs)
}

/// Resolves `addr` and runs `attempt` on each of its addresses in turn:
/// the first success, or the error of the last address tried. The one
/// loop behind every `bind` and `connect` that takes a
/// [`ToSocketAddrs`].
///
/// # Errors
///
/// The resolver's error, or the last attempt's.
pub(crate) async fn try_each_addr<A, T, F, Fut>(addr: &A, mut attempt: F) -> io::Result<T>
where
    A: ToSocketAddrs + ?Sized,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(addr).await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(no_addresses))
}

/// The error for an address argument that named no address.
fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address argument resolved to no socket address",
    )
}
