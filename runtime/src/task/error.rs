//! Summary: `JoinError`, why a task produced no output: it was cancelled
//! (aborted, or dropped at runtime shutdown) or its future panicked.
//!
//! Role: built by `harness.rs`, returned through `JoinHandle`.
//!
//! Design: the panic payload is kept (so `into_panic` can resume it) behind
//! a `Mutex`, which makes `JoinError` `Sync` although `Box<dyn Any + Send>`
//! is not; the lock is never contended (only `into_panic` takes it). The
//! mutex is boxed so that `JoinError` is two words: it sits inside every
//! task's heap block (the `output` of `Stage` in `raw.rs`), and unboxed it
//! made a no-op task's block 16 bytes larger, for the sake of the rare
//! panic path that now pays one more allocation.
//!
//! Invariants: none beyond the variant matching what happened.
//!
//! Concurrency: plain owned data.

use super::id::Id;
use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// Why a task did not produce its output.
///
/// ```
/// weft_runtime::run(async {
///     let err = weft_runtime::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert!(err.to_string().contains("boom"));
/// });
/// ```
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<Mutex<Box<dyn Any + Send + 'static>>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Box::new(Mutex::new(payload))),
        }
    }

    /// True if the task was aborted or dropped at runtime shutdown.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task's future panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic payload, e.g. to `std::panic::resume_unwind` it.
    ///
    /// # Panics
    ///
    /// Panics if the task was cancelled rather than panicked; check
    /// [`is_panic`](JoinError::is_panic) or use [`try_into_panic`](JoinError::try_into_panic).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        let id = self.id;
        self.try_into_panic()
            .unwrap_or_else(|_| panic!("JoinError::into_panic called on task {id}, which was cancelled, not panicked; check is_panic() first"))
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload
                .into_inner()
                .unwrap_or_else(|poison| poison.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The panic message, if the payload is a string.
    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(payload) = &self.repr else {
            return None;
        };
        let payload = payload.lock().unwrap_or_else(|poison| poison.into_inner());
        panic_message(&**payload).map(str::to_owned)
    }
}

/// The text of a panic payload, if it is a `&str` or a `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        Some(text)
    } else {
        payload.downcast_ref::<String>().map(String::as_str)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "task {} was cancelled", self.id),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "task {} panicked with message {message:?}", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled, _) => write!(f, "JoinError::Cancelled({})", self.id),
            (Repr::Panic(_), Some(message)) => {
                write!(f, "JoinError::Panic({}, {message:?})", self.id)
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({}, ..)", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::JoinError;

    /// Two words: an id and one (nullable) pointer.
    #[test]
    fn join_error_is_two_words() {
        assert_eq!(std::mem::size_of::<JoinError>(), 16);
    }
}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
