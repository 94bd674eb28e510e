//! Summary: TCP: [`TcpListener`] and [`TcpStream`] (its owned halves are
//! `stream.rs`'s, shared with Unix streams).
//!
//! Role: user code (and the examples) create these; each wraps a mio socket
//! in a reactor `Source` and maps every operation onto the readiness
//! protocol (`reactor/readiness.rs`).
//!
//! Design:
//! - `connect` and `bind` resolve the address off the worker threads and
//!   try each address in turn (`addr.rs`'s `try_each_addr`), returning the
//!   first success or the last error. A connect completes when the socket
//!   becomes writable (`Stream::finish_connect` in `stream.rs`).
//! - The stream's I/O, its split into owned halves and their reunion are
//!   `stream.rs`'s `Stream`, shared with `UnixStream`; this file adds what
//!   is TCP's own: addresses and `TCP_NODELAY`.
//! - `accept` on too many open files (`EMFILE`, `ENFILE`) or exhausted
//!   kernel memory (`ENOBUFS`, `ENOMEM`) does not return the error nor spin:
//!   the pending connection stays in the backlog, and `accept` sleeps
//!   [`ACCEPT_BACKOFF`] on the blocking hook (weft-io has no timer) before
//!   retrying, so the listener survives descriptor exhaustion and resumes
//!   once descriptors are freed. `ECONNABORTED` (the client gave up before
//!   `accept`) concerns one connection only and is retried at once.
//!
//! Invariants: none beyond the reactor's.
//!
//! Concurrency: every method takes `&self` except the `AsyncRead` and
//! `AsyncWrite` polls; `&TcpListener` may accept from several tasks at once.

use std::fmt;
use std::future::ready;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use mio::Interest;

use super::addr::{try_each_addr, ToSocketAddrs};
use super::stream::{forward_to_stream, SplitStream, Stream};
use super::{forward_fd, read_ready};
use crate::blocking::run_blocking;
use crate::reactor::{sys, Source};

/// How long `accept` waits before retrying after running out of file
/// descriptors or kernel memory: long enough that a full listener costs no
/// measurable CPU, short enough that service resumes promptly.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The accept queue length `bind` asks for (tokio's choice too): std's 128
/// overflows under a burst of connects; the kernel caps it at
/// `net.core.somaxconn`.
pub const LISTEN_BACKLOG: i32 = 1024;

/// A TCP socket listening for connections.
///
/// # Examples
///
/// ```
/// # weft_io::doc_support::block_on(async {
/// use weft_io::io::{AsyncReadExt, AsyncWriteExt};
/// use weft_io::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (mut server, peer) = listener.accept().await?;
/// assert_eq!(peer, client.local_addr()?);
///
/// client.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub struct TcpListener {
    source: Source<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to the first address of `addr` that accepts it.
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried (e.g. `AddrInUse`), or the
    /// resolver's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        try_each_addr(&addr, |addr| {
            ready(
                mio::net::TcpListener::bind(addr)
                    .and_then(|l| sys::set_listen_backlog(&l, LISTEN_BACKLOG).map(|()| l))
                    .and_then(TcpListener::from_mio),
            )
        })
        .await
    }

    /// Wraps a bound std listener (switching it to non-blocking mode).
    ///
    /// # Errors
    ///
    /// The OS error of `fcntl` or of the reactor registration.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    #[track_caller]
    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            source: Source::new(listener, Interest::READABLE)?,
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Running out of descriptors backs off and retries (see the module
    /// doc), so this only fails for errors that concern the listener.
    ///
    /// # Errors
    ///
    /// The OS error of `accept(2)`, other than the retried ones.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            match read_ready(&self.source, |l| l.accept()).await {
                Ok((stream, peer)) => return Ok((TcpStream::from_mio(stream)?, peer)),
                Err(e) if is_resource_exhaustion(&e) => {
                    run_blocking(self.source.handle(), || std::thread::sleep(ACCEPT_BACKOFF))
                        .await?;
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}

/// Whether `accept` failed for lack of descriptors or kernel memory.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

forward_fd!(TcpListener, source.get_ref());

/// A TCP connection; implements `AsyncRead` and `AsyncWrite`.
pub struct TcpStream {
    stream: Stream<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each of its addresses in turn.
    ///
    /// # Errors
    ///
    /// The OS error of the last address tried (e.g. `ConnectionRefused`),
    /// or the resolver's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        try_each_addr(&addr, |addr| async move {
            let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
            stream.stream.finish_connect().await?;
            Ok(stream)
        })
        .await
    }

    /// Wraps a connected std stream (switching it to non-blocking mode).
    ///
    /// # Errors
    ///
    /// The OS error of `fcntl` or of the reactor registration.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    #[track_caller]
    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            stream: Stream::new(stream)?,
        })
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername` (e.g. `NotConnected`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.socket().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.socket().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when true).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stream.socket().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.stream.socket().nodelay()
    }

    /// Shuts down the read half, the write half or both: after
    /// `Shutdown::Write` the peer reads end-of-file (a half-close).
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown(2)` (e.g. `NotConnected`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stream.socket().shutdown(how)
    }
}

impl TcpStream {
    /// The stream's I/O, for the trait impls `forward_to_stream!` writes.
    pub(crate) fn stream(&self) -> &Stream<mio::net::TcpStream> {
        &self.stream
    }
}

impl SplitStream for TcpStream {
    type Socket = mio::net::TcpStream;

    fn from_stream(stream: Stream<mio::net::TcpStream>) -> TcpStream {
        TcpStream { stream }
    }

    fn into_stream(self) -> Stream<mio::net::TcpStream> {
        self.stream
    }
}

forward_to_stream!(impl futures_io::AsyncRead for TcpStream);
forward_to_stream!(impl futures_io::AsyncWrite for TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

forward_fd!(TcpStream, stream.socket());
