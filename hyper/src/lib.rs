//! Summary: hyper 1.x on weft: [`WeftExecutor`], [`WeftTimer`], [`WeftIo`]
//! and [`HttpConnector`], re-exported by the `weft` package as
//! `weft::hyper` under its `hyper` feature.
//!
//! Role: hyper knows no runtime; it asks for one through its `rt` traits
//! (an executor for background connection tasks, a timer for timeouts and
//! the pool's idle reaping, and `Read`/`Write` on the transport). This
//! crate answers each with weft's own machinery, so a hyper server, or
//! hyper-util's pooled client (`hyper_util::client::legacy::Client`), runs
//! on weft with no tokio runtime, reactor or thread in the process.
//!
//! Design:
//! - A crate of its own, not a module of `weft`: the examples and tests use
//!   it as a dev-dependency, so they run with no feature flag, while a
//!   user's default build of `weft` compiles none of hyper.
//! - [`WeftIo`] adapts any futures-io stream (weft's sockets implement
//!   futures-io) rather than only weft's `TcpStream`, so TLS or Unix-socket
//!   streams plug into hyper the same way. Rejected: a weft-specific I/O
//!   trait, which no other adapter would speak.
//! - [`HttpConnector`] connects with `weft::net::TcpStream::connect`, which
//!   resolves host names on the runtime's blocking pool (a `getaddrinfo`
//!   never stalls a worker), and bounds the whole connect with weft's
//!   `timeout`. Rejected: hyper-util's own `HttpConnector`, which needs
//!   tokio's reactor.
//!
//! Invariants: none of its own; see each type.
//!
//! Concurrency: every type is `Send + Sync` and cheap to clone; the
//! executor spawns onto whichever weft runtime is current when hyper calls
//! it.

mod connector;
mod executor;
mod io;
mod timer;

pub use connector::HttpConnector;
pub use executor::WeftExecutor;
pub use io::WeftIo;
pub use timer::WeftTimer;
