//! Summary: [`ctrl_c`], a future that completes when the process receives
//! `SIGINT`, so servers can shut down gracefully.
//!
//! Role: user code (`weft::signal::ctrl_c().await`), typically raced
//! against an accept loop.
//!
//! Design: `reactor/signal_pipe.rs` turns the signal into a byte on a
//! self-pipe (see there for why, and for the choice of
//! `signal-hook-registry`). Each `ctrl_c` call registers its own duplicate
//! of the pipe's read end with the current reactor and completes once the
//! delivery count exceeds the count it saw when it started: every caller
//! waiting at the time of a Ctrl-C is woken, and a Ctrl-C that happened
//! before the call does not count. The trap: after the first call, `SIGINT`
//! no longer terminates the process for the rest of its life (like tokio
//! and asyncio's `add_signal_handler`); the program must exit by itself.
//!
//! Invariants:
//! - INV-1: the baseline count is read before the pipe is registered, and
//!   the count is checked again after registering, so a signal arriving in
//!   between is not missed (it either raises the count seen by the check,
//!   or writes its byte after the registration, producing an edge).
//!
//! Concurrency: any number of tasks may wait at once, on any threads.

use std::future::poll_fn;
use std::io::{self, Read};

use mio::Interest;

use crate::reactor::signal_pipe::SignalPipe;
use crate::reactor::Source;

/// Bytes drained from the pipe per read; the content is irrelevant.
const DRAIN_CHUNK_BYTES: usize = 64;

/// Completes when the process receives `SIGINT` (Ctrl-C) after the returned
/// future is first polled (an async fn starts running then). Installs the
/// handler on first use: from then on, SIGINT no longer terminates the
/// process.
///
/// # Errors
///
/// The OS error if the self-pipe or its registration fails.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// Stop serving on Ctrl-C (waits for a real Ctrl-C, so not run here):
///
/// ```no_run
/// # weft_io::doc_support::block_on(async {
/// println!("press Ctrl-C to stop");
/// weft_io::signal::ctrl_c().await?;
/// println!("shutting down");
/// # Ok::<(), std::io::Error>(()) }).unwrap().unwrap();
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    wait_for(libc::SIGINT).await
}

/// Completes when the process receives `signal` after the first poll.
async fn wait_for(signal: libc::c_int) -> io::Result<()> {
    let pipe = SignalPipe::get(signal)?;
    // INV-1: baseline first, registration second.
    let baseline = pipe.deliveries();
    let reader = mio::net::UnixStream::from_std(pipe.subscribe()?);
    let source = Source::new(reader, Interest::READABLE)?;
    if pipe.deliveries() > baseline {
        return Ok(());
    }
    poll_fn(|cx| {
        source.poll_read(cx, |mut reader| {
            let mut chunk = [0u8; DRAIN_CHUNK_BYTES];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if pipe.deliveries() > baseline {
                Ok(())
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            }
        })
    })
    .await
}
