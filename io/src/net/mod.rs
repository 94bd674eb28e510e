//! Summary: the network types: TCP, UDP and Unix-domain sockets.
//!
//! Role: users create these inside a runtime; each registers with the
//! runtime's reactor through the thread-local I/O handle.
//!
//! Design: one file per protocol family (`tcp.rs`, `udp.rs`, `unix.rs`),
//! each a thin layer over mio's sockets plus the reactor's readiness
//! protocol; `addr.rs` holds the address argument and name resolution.
//! Streams implement futures-io's `AsyncRead`/`AsyncWrite` rather than a
//! weft-specific trait, so any futures-io adapter works on them.
//!
//! Invariants: none of their own; see `reactor`.
//!
//! Concurrency: every type is `Send + Sync`; see each file.

mod addr;
mod tcp;

pub use addr::ToSocketAddrs;
pub use tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReuniteError, TcpListener, TcpStream, ACCEPT_BACKOFF,
    LISTEN_BACKLOG,
};
