//! weft-runtime: tasks, the work-stealing scheduler, the blocking pool and the
//! entry points (`Runtime`, `Builder`, `Handle`, `spawn`, `block_on`).
//!
//! Being built under issue 2; see `docs/architecture.md` for the seams.

pub mod compose;
pub mod fs;
pub mod stream;
