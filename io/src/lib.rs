//! weft-io: weft's reactor on mio, its network types, async I/O helpers,
//! files and signals.
//!
//! # A tour
//!
//! A runtime owns one [`Driver`] (a `mio::Poll`), enters its [`Handle`] on
//! every thread it runs, and calls [`Driver::poll`] whenever it has nothing
//! else to do. Sockets created on those threads register with that driver;
//! an operation that would block parks its task until the driver sees the
//! socket become ready and wakes it. weft-io knows nothing of the scheduler:
//! this is the whole seam (`docs/architecture.md`, "the driver seam"), and
//! the example below drives it by hand.
//!
//! ```
//! use std::future::Future;
//! use std::sync::Arc;
//! use std::task::{Context, Poll, Wake, Waker};
//! use std::time::Duration;
//!
//! struct Noop;
//! impl Wake for Noop {
//!     fn wake(self: Arc<Self>) {}
//! }
//!
//! // The runtime's blocking pool, here: one thread per job.
//! let mut driver = weft_io::Driver::new(Arc::new(|job: Box<dyn FnOnce() + Send>| {
//!     std::thread::spawn(job);
//! }))?;
//! let _entered = driver.handle().enter();
//!
//! let socket = weft_io::net::UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
//! let me = socket.local_addr()?;
//! let mut task = std::pin::pin!(async {
//!     socket.send_to(b"hello", me).await?;
//!     let mut buf = [0u8; 16];
//!     let (len, from) = socket.recv_from(&mut buf).await?;
//!     Ok::<_, std::io::Error>((buf[..len].to_vec(), from))
//! });
//! let waker = Waker::from(Arc::new(Noop));
//! let (received, from) = loop {
//!     if let Poll::Ready(result) = task.as_mut().poll(&mut Context::from_waker(&waker)) {
//!         break result?;
//!     }
//!     driver.poll(Some(Duration::from_millis(10)))?; // park until the socket is ready
//! };
//! assert_eq!((&received[..], from), (&b"hello"[..], me));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Reading order
//!
//! 1. `reactor/readiness.rs`: the readiness word, its edge tick, and the
//!    clear-readiness-then-retry protocol that makes edge-triggered epoll
//!    lose no wake-up. The heart of the crate.
//! 2. `reactor/mod.rs`: the [`Driver`], the slab of registrations and the
//!    generation-tagged tokens; `reactor/source.rs`: a registered socket.
//! 3. `reactor/handle.rs`: how sockets find their runtime.
//! 4. `net/tcp.rs`, then `udp.rs` and `unix.rs`: the socket types.
//! 5. `io/`: the `AsyncRead`/`AsyncWrite` helpers; `fs.rs` and
//!    `blocking.rs`: files on the blocking pool; `signal.rs` and
//!    `reactor/signal_pipe.rs`: Ctrl-C through a self-pipe.
//!
//! # Platforms
//!
//! Unix only (epoll on Linux, kqueue on the BSDs and macOS, through mio):
//! `net` includes Unix-domain sockets and `signal` uses Unix signals.

#[cfg(not(unix))]
compile_error!("weft-io supports Unix platforms only (epoll or kqueue through mio, Unix signals)");

mod blocking;
#[doc(hidden)]
pub mod doc_support;
pub mod fs;
pub mod io;
mod loom;
pub mod net;
mod reactor;
pub mod signal;

pub use reactor::{BlockingHook, Driver, EnterGuard, Handle, Unparker};
