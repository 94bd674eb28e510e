//! Summary: the poll clock's time-stamp counter on targets that have none
//! the runtime trusts: [`Tsc`] has no values, so `poll_clock/mod.rs`
//! always uses `Instant` here.
//!
//! Role: selected instead of `tsc.rs` on every target but x86_64, where
//! the module is declared.
//!
//! Design: an uninhabited type rather than a `Tsc` that reports "absent"
//! at run time: the compiler then removes the counter's branch of the
//! clock entirely. Rejected: a cycle counter per architecture (aarch64's
//! `CNTVCT_EL0` is an option for later; each needs its own trust checks).
//!
//! Invariants: none.
//!
//! Concurrency: nothing to share.

/// A time-stamp counter this target does not have.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tsc {}

impl Tsc {
    /// Never a counter here.
    pub(super) fn detect() -> Option<Tsc> {
        None
    }

    /// Unreachable: there is no `Tsc` to call it on.
    #[inline(always)]
    pub(super) fn read(&self) -> u64 {
        match *self {}
    }
}
