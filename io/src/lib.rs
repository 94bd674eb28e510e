//! weft-io: the reactor on mio, network types and async I/O helpers.
//! Being built under issue 4; see `docs/architecture.md` for the driver seam.
