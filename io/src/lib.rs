//! weft-io: the reactor on mio, network types and async I/O helpers.

mod blocking;
pub mod io;
mod loom;
pub mod net;
mod reactor;

pub use reactor::{BlockingHook, Driver, EnterGuard, Handle, Unparker};
