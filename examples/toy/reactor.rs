//! A reactor thread on mio and its leaf future, [`Readable`] (guide,
//! chapter 1b).
//!
//! One thread blocks in `mio::Poll::poll` and, for every event, finds the
//! source's [`Readiness`] by its token and wakes the stored waker. mio
//! registers sockets edge-triggered: an event says "became readable" once,
//! and never again until the socket has been drained and refilled. That is
//! what makes the lost wakeup real here, and the rules are:
//!
//! - R1 (remember the edge): the reactor sets `ready` and takes the waker
//!   in one critical section; `Readable::poll` consumes `ready` or stores
//!   its waker in one critical section. An edge that arrives while no task
//!   waits (between a read's `WouldBlock` and the wait, or before anyone
//!   asked) is kept in `ready` instead of being lost: epoll will not repeat
//!   it.
//! - R2 (the system call is the truth): `ready` is a hint. [`Async::read`]
//!   tries the read first and waits only on `WouldBlock`; a stale `ready`
//!   costs one extra `WouldBlock`, never a wrong result. Chapter 4 shows
//!   how weft's reactor avoids even that retry (the tick).
//! - Waker refresh (`will_wake`) as in `timer.rs`.
//!
//! Only the readable direction is handled: writes in this toy are a few
//! bytes into an empty socket buffer, which never block. weft's reactor
//! (chapter 4) handles the writable direction the same way.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle};

use mio::event::Source;
use mio::{Events, Interest, Poll as MioPoll, Registry, Token};

/// The token of the reactor's own `mio::Waker`, used to stop it.
const STOP: Token = Token(usize::MAX);

/// The reactor thread. Dropping it stops the thread.
pub struct Reactor {
    shared: Arc<Shared>,
    stop: mio::Waker,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    registry: Registry,
    sources: Mutex<HashMap<Token, Arc<Mutex<Readiness>>>>,
    next_token: AtomicUsize,
    stopping: AtomicBool,
    /// Events dispatched so far (tests wait on it to order an edge before a wait).
    dispatched: AtomicUsize,
}

/// One source's remembered edge and waiting task (R1).
pub struct Readiness {
    ready: bool,
    waker: Option<Waker>,
}

impl Reactor {
    /// Starts the reactor thread.
    pub fn new() -> io::Result<Reactor> {
        let mut poll = MioPoll::new()?;
        let stop = mio::Waker::new(poll.registry(), STOP)?;
        let shared = Arc::new(Shared {
            registry: poll.registry().try_clone()?,
            sources: Mutex::new(HashMap::new()),
            next_token: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            dispatched: AtomicUsize::new(0),
        });
        let thread = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("toy-reactor".into())
                .spawn(move || run(&mut poll, &shared))?
        };
        Ok(Reactor {
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// How many events (other than its own stop signal) the reactor has
    /// dispatched.
    pub fn dispatched(&self) -> usize {
        self.shared.dispatched.load(Ordering::SeqCst)
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reactor thread: block until events, then for each one set `ready`
/// and take the waker in one critical section (R1), and wake outside it.
fn run(poll: &mut MioPoll, shared: &Shared) {
    let mut events = Events::with_capacity(64);
    while !shared.stopping.load(Ordering::SeqCst) {
        if let Err(error) = poll.poll(&mut events, None) {
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            panic!("the toy reactor's poll failed: {error}");
        }
        for event in events.iter().filter(|event| event.token() != STOP) {
            let readiness = shared.sources.lock().unwrap().get(&event.token()).cloned();
            if let Some(readiness) = readiness {
                let waker = {
                    let mut readiness = readiness.lock().unwrap();
                    readiness.ready = true;
                    readiness.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            shared.dispatched.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A non-blocking mio socket registered with the reactor for its whole life.
pub struct Async<T: Source> {
    io: T,
    token: Token,
    readiness: Arc<Mutex<Readiness>>,
    reactor: Arc<Shared>,
}

impl<T: Source> Async<T> {
    /// Registers `io` (already non-blocking, as mio's sockets are).
    pub fn new(reactor: &Reactor, mut io: T) -> io::Result<Async<T>> {
        let shared = reactor.shared.clone();
        let token = Token(shared.next_token.fetch_add(1, Ordering::Relaxed));
        let readiness = Arc::new(Mutex::new(Readiness {
            ready: false,
            waker: None,
        }));
        shared
            .sources
            .lock()
            .unwrap()
            .insert(token, readiness.clone());
        shared
            .registry
            .register(&mut io, token, Interest::READABLE)?;
        Ok(Async {
            io,
            token,
            readiness,
            reactor: shared,
        })
    }

    /// Completes once the reactor has reported the source readable since
    /// the last completed wait (R1).
    pub fn readable(&self) -> Readable<'_> {
        Readable {
            readiness: &self.readiness,
        }
    }
}

impl<T: Source + Read> Async<T> {
    /// Reads into `buf`, waiting for the reactor while the socket has
    /// nothing (R2: the system call first, the wait only on `WouldBlock`).
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.io.read(buf) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.readable().await,
                result => return result,
            }
        }
    }
}

impl<T: Source + Write> Async<T> {
    /// Writes all of `buf` without waiting: the toy's messages are small
    /// enough never to fill a socket buffer (a full buffer is an error).
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.io.write_all(buf)
    }
}

impl<T: Source> Drop for Async<T> {
    fn drop(&mut self) {
        // Deregister first, so no later event can name this token.
        let _ = self.reactor.registry.deregister(&mut self.io);
        self.reactor.sources.lock().unwrap().remove(&self.token);
    }
}

/// The leaf future of [`Async::readable`].
pub struct Readable<'a> {
    readiness: &'a Mutex<Readiness>,
}

impl Future for Readable<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // R1: consume the remembered edge, or store the waker, in one
        // critical section.
        let mut readiness = self.readiness.lock().unwrap();
        if readiness.ready {
            readiness.ready = false;
            return Poll::Ready(());
        }
        match &readiness.waker {
            Some(stored) if stored.will_wake(cx.waker()) => {}
            _ => readiness.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
