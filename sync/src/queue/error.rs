//! Summary: the errors of the queue family, shaped after asyncio's
//! `QueueFull`, `QueueEmpty` and `QueueShutDown`.
//!
//! Design: every error that happens while putting hands the item back, so a
//! failed put never loses a value.

use std::fmt;

/// The queue was shut down; carries the item a `put` could not insert
/// (asyncio.QueueShutDown). `get` returns the item-less `QueueShutDown<()>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that was not inserted.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue was shut down")
    }
}

impl<T: fmt::Debug> std::error::Error for QueueShutDown<T> {}

/// Why [`put_nowait`](super::GenericQueue::put_nowait) failed; both variants
/// give the item back.
#[doc(alias = "QueueFull")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue is at its maxsize, or earlier `put`s are still waiting (asyncio.QueueFull).
    Full(T),
    /// The queue was shut down (asyncio.QueueShutDown).
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not inserted.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("the queue is full"),
            PutError::ShutDown(_) => f.write_str("the queue was shut down"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for PutError<T> {}

/// Why [`get_nowait`](super::GenericQueue::get_nowait) failed.
#[doc(alias = "QueueEmpty")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// No item is ready (asyncio.QueueEmpty).
    Empty,
    /// The queue was shut down and has no items left (asyncio.QueueShutDown).
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("the queue is empty"),
            GetError::ShutDown => f.write_str("the queue was shut down and is drained"),
        }
    }
}

impl std::error::Error for GetError {}
