//! Summary: the self-pipe that turns a Unix signal into reactor readiness.
//!
//! Role: `crate::signal` asks [`SignalPipe::get`] for a signal's pipe and
//! registers a duplicate of its read end with the current reactor.
//!
//! Design: a signal handler may only call async-signal-safe functions, so
//! it cannot wake a task (wakers lock and allocate). The classic answer is
//! a self-pipe: the handler bumps a counter and writes one byte to a
//! non-blocking socket; the reactor sees the read end become readable and
//! wakes the waiting tasks, which compare the counter with the value they
//! started from. Handler registration uses the `signal-hook-registry`
//! crate (the backend of signal-hook and of tokio's signals; small, no
//! dependencies beyond libc) rather than raw `sigaction`: it chains with
//! handlers other libraries installed, and lets several actions share one
//! signal. Signal dispositions are process-wide, so the pipes are too: one
//! per signal number, created on first use and never freed (a runtime-owned
//! pipe would miss signals between runtimes, and a handler cannot be
//! removed safely while another thread might be running it).
//!
//! Invariants:
//! - INV-1: a `SignalPipe` is leaked (`&'static`), so the handler closure
//!   that refers to it can never observe freed memory.
//! - INV-2: the handler only performs an atomic increment and a
//!   non-blocking `write(2)`, both async-signal-safe, and cannot panic.
//! - INV-3: `deliveries` is incremented *before* the byte is written, so a
//!   task woken by the byte always sees the new count.
//!
//! Concurrency: the handler runs on whichever thread the kernel picks;
//! readers are tasks on any thread, each with its own duplicated read end.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// The pipe, counter and registration of one signal number (INV-1).
#[derive(Debug)]
pub(crate) struct SignalPipe {
    signal: libc::c_int,
    read: UnixStream,
    write: UnixStream,
    deliveries: AtomicU64,
}

/// Every signal's pipe, created on first use (process-wide, see the module
/// doc).
static PIPES: Mutex<Vec<&'static SignalPipe>> = Mutex::new(Vec::new());

impl SignalPipe {
    /// The pipe of `signal`, installing the handler on first use.
    ///
    /// # Errors
    ///
    /// The OS error of `socketpair`, or the registry's error for a signal
    /// that cannot be handled (`SIGKILL`, `SIGSTOP`, out of range).
    pub(crate) fn get(signal: libc::c_int) -> io::Result<&'static SignalPipe> {
        let mut pipes = PIPES.lock();
        if let Some(pipe) = pipes.iter().find(|p| p.signal == signal) {
            return Ok(pipe);
        }
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        // INV-1
        let pipe: &'static SignalPipe = Box::leak(Box::new(SignalPipe {
            signal,
            read,
            write,
            deliveries: AtomicU64::new(0),
        }));
        let action = move || {
            // INV-3; Release pairs with the Acquire in `deliveries`.
            pipe.deliveries.fetch_add(1, Ordering::Release);
            // A full pipe already holds an unread wake-up: dropping this
            // byte loses nothing.
            let _ = (&pipe.write).write(&[1]);
        };
        // SAFETY: INV-2: `action` only does an atomic add and a non-blocking
        // write(2) on a socket that lives forever (INV-1); neither allocates,
        // locks nor panics, so it is async-signal-safe as `register` demands.
        unsafe { signal_hook_registry::register(signal, action) }?;
        pipes.push(pipe);
        Ok(pipe)
    }

    /// How many times the signal arrived since the pipe was created.
    pub(crate) fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::Acquire)
    }

    /// A new descriptor for the read end, for one waiting task to register
    /// with its reactor. All duplicates share one open file, so every
    /// registered duplicate gets the edge when a byte is written.
    pub(crate) fn subscribe(&self) -> io::Result<UnixStream> {
        self.read.try_clone()
    }
}
