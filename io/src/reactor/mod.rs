//! Summary: the reactor: one `mio::Poll` per runtime, a slab of registered
//! sources, and the [`Driver`] that turns OS readiness events into task
//! wake-ups.
//!
//! Role: the runtime owns the [`Driver`] and calls [`Driver::poll`] from the
//! one parked worker that holds the drivers (see `docs/architecture.md`,
//! "the driver seam"); other threads wake it through an [`Unparker`]. The
//! I/O types register through a [`Handle`] found in the thread-local
//! context (`handle.rs`) and wrap their mio socket in a `Source`
//! (`source.rs`), whose readiness protocol lives in `readiness.rs`.
//!
//! Design:
//! - Registrations live in a `slab` behind one `parking_lot` mutex. The mio
//!   [`Token`] packs the slab index (low [`INDEX_BITS`] bits) with a
//!   generation (the high bits), so an event that was already in flight when
//!   its socket was closed, and whose slot was then reused, is recognised as
//!   stale and dropped (INV-1). Rejected: tokio's pointer-as-token (needs
//!   `unsafe` and reference-count tricks to be sound) and a plain index
//!   (wakes the wrong socket after reuse).
//! - `poll` copies the `Arc<Registration>` of every ready source out of the
//!   slab under the lock, releases it, and only then sets readiness and
//!   wakes tasks (INV-3): a woken task may register or drop a socket without
//!   deadlocking against the driver.
//! - Deregistration (on drop of the I/O object, any thread) first removes
//!   the socket from epoll, then frees the slot. An event the driver already
//!   collected holds its own `Arc`, so it touches live memory and at worst
//!   wakes a task spuriously; an event collected later finds the slot empty
//!   or a new generation (INV-1). No lost events: a source's events are only
//!   dropped after its owner dropped it.
//! - Dropping the [`Driver`] marks every registration `SHUTDOWN` and wakes
//!   all waiters, so pending I/O returns an error instead of hanging.
//!
//! Invariants:
//! - INV-1: an event is delivered to a registration only if the slot at its
//!   token's index holds the same generation as the token. Generations
//!   advance on every registration and skip the all-ones value, so no token
//!   equals [`UNPARK_TOKEN`].
//! - INV-2: every live `Source` owns exactly one slot; the slot is freed
//!   only by that `Source`'s drop, after `deregister`.
//! - INV-3: no lock is held while a waker runs.
//! - INV-4: a poll with a zero timeout while no source is registered makes
//!   no system call. It could only collect the unpark token, which matters
//!   to a thread blocked in `epoll_wait` and to no other; the token stays
//!   queued in epoll and at worst ends the next blocking poll early, which
//!   the runtime treats as any spurious wake-up. A source registered while
//!   the count is read keeps its events queued in epoll for the next poll:
//!   delayed by one turn, never lost. This is what keeps a yield cheap in a
//!   program with no sockets: every round of yields gives the drivers a
//!   non-blocking turn, and without this each turn was an `epoll_wait`.
//!
//! Concurrency: `Driver` is `&mut` for `poll` (one thread polls at a time);
//! `Inner.sources` is locked briefly by `poll` (to collect), by
//! registration and deregistration (any thread), and by the driver's drop.
//! mio's `Registry` is safe to use from any thread while another polls.
//!
//! References: `epoll(7)`; mio's `Poll` documentation on edge triggering.

mod handle;
pub(crate) mod readiness;
pub(crate) mod signal_pipe;
mod source;
pub(crate) mod sys;

#[cfg(all(test, loom))]
mod tests;

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Interest, Token};
use slab::Slab;

pub use handle::{EnterGuard, Handle};
use readiness::{Registration, READABLE, READ_CLOSED, SHUTDOWN, WRITABLE, WRITE_CLOSED};
pub(crate) use source::Source;

/// The hook the runtime gives the driver to run a closure off the worker
/// threads (its blocking pool).
pub type BlockingHook = Arc<dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync>;

/// How many low bits of a token hold the slab index; the rest hold the
/// generation. Half the word: 2^32 live sources and 2^32 - 1 generations on
/// 64-bit targets, 2^16 of each on 32-bit ones.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations count modulo this value, which is the all-ones generation:
/// skipping it keeps every source token different from [`UNPARK_TOKEN`]
/// (INV-1).
const GENERATION_LIMIT: usize = usize::MAX >> INDEX_BITS;
/// The token of the `mio::Waker` behind [`Unparker`].
const UNPARK_TOKEN: Token = Token(usize::MAX);
/// Events fetched per `epoll_wait`; more simply wait for the next poll.
const EVENTS_CAPACITY: usize = 1024;

/// Packs a slab index and a generation into a mio token (INV-1).
fn pack_token(index: usize, generation: usize) -> Token {
    debug_assert!(index <= INDEX_MASK && generation < GENERATION_LIMIT);
    Token((generation << INDEX_BITS) | index)
}

/// Splits a token into `(index, generation)`.
fn unpack_token(token: Token) -> (usize, usize) {
    (token.0 & INDEX_MASK, token.0 >> INDEX_BITS)
}

/// The readiness bits an event reports.
fn readiness_of(event: &mio::event::Event) -> usize {
    let mut bits = 0;
    if event.is_readable() {
        bits |= READABLE;
    }
    if event.is_writable() {
        bits |= WRITABLE;
    }
    if event.is_read_closed() {
        bits |= READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= WRITE_CLOSED;
    }
    if event.is_error() {
        // An error makes both directions "ready": the next operation returns
        // the error (`take_error`) instead of waiting forever.
        bits |= READ_CLOSED | WRITE_CLOSED;
    }
    bits
}

/// One slab slot: a registration and the generation its token carries.
struct Slot {
    generation: usize,
    registration: Arc<Registration>,
}

/// The slab and the generation counter, under `Inner::sources`.
struct Sources {
    slab: Slab<Slot>,
    next_generation: usize,
    /// How many sources were ever registered (see
    /// [`Driver::registrations`]).
    registrations: u64,
    is_shutdown: bool,
}

impl Sources {
    /// The registration `token` names, or None if the token is stale: its
    /// slot is empty or holds a later generation (INV-1).
    fn lookup(&self, token: Token) -> Option<&Arc<Registration>> {
        let (index, generation) = unpack_token(token);
        self.slab
            .get(index)
            .filter(|slot| slot.generation == generation)
            .map(|slot| &slot.registration)
    }
}

/// State shared by the [`Driver`] and every [`Handle`].
pub(crate) struct Inner {
    registry: mio::Registry,
    sources: parking_lot::Mutex<Sources>,
    /// The slab's length, copied out under the lock on every change, so
    /// that a non-blocking poll can see without the lock that no source is
    /// registered (INV-4).
    live_sources: AtomicUsize,
    blocking: BlockingHook,
    unpark: Arc<mio::Waker>,
}

impl Inner {
    /// Registers `io` for `interest`; returns its token and registration.
    fn register(
        &self,
        io: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<(Token, Arc<Registration>)> {
        let registration = Arc::new(Registration::new());
        let token = {
            let mut sources = self.sources.lock();
            if sources.is_shutdown {
                return Err(readiness::shutdown_error());
            }
            let generation = sources.next_generation;
            let entry = sources.slab.vacant_entry();
            if entry.key() > INDEX_MASK {
                return Err(io::Error::other(format!(
                    "too many registered sources: the reactor holds at most {INDEX_MASK}"
                )));
            }
            let token = pack_token(entry.key(), generation);
            entry.insert(Slot {
                generation,
                registration: registration.clone(),
            });
            sources.next_generation = (generation + 1) % GENERATION_LIMIT;
            sources.registrations += 1;
            self.live_sources
                .store(sources.slab.len(), Ordering::Relaxed);
            token
        };
        if let Err(e) = self.registry.register(io, token, interest) {
            self.free_slot(token);
            return Err(e);
        }
        Ok((token, registration))
    }

    /// Removes `io` from epoll, then frees its slot (INV-2). Safe to call
    /// while another thread is inside `Driver::poll`.
    fn deregister(&self, token: Token, io: &mut impl mio::event::Source) {
        // Failure means the fd is already gone from epoll (e.g. the driver
        // shut down); the slot must be freed either way.
        let _ = self.registry.deregister(io);
        self.free_slot(token);
    }

    fn free_slot(&self, token: Token) {
        let (index, generation) = unpack_token(token);
        let mut sources = self.sources.lock();
        if sources.slab.get(index).map(|slot| slot.generation) == Some(generation) {
            sources.slab.remove(index);
            self.live_sources
                .store(sources.slab.len(), Ordering::Relaxed);
        }
    }

    /// How many sources are registered (for `Debug` output and
    /// [`Driver::source_count`]).
    pub(crate) fn source_count(&self) -> usize {
        self.sources.lock().slab.len()
    }

    /// The blocking hook given to [`Driver::new`].
    pub(crate) fn blocking(&self) -> &BlockingHook {
        &self.blocking
    }
}

/// The I/O driver: owns the `mio::Poll`; the runtime calls [`poll`] when it
/// parks.
///
/// [`poll`]: Driver::poll
pub struct Driver {
    poll: mio::Poll,
    events: Events,
    /// Reused buffer of (registration, readiness bits) collected per poll.
    ready: Vec<(Arc<Registration>, usize)>,
    inner: Arc<Inner>,
}

impl Driver {
    /// A new driver with its own `mio::Poll`. `blocking` runs a closure off
    /// the worker threads (the runtime's blocking pool): `net` uses it to
    /// resolve host names, `fs` for every file operation.
    ///
    /// # Errors
    ///
    /// The OS error if the epoll instance or its waker cannot be created
    /// (e.g. too many open files).
    pub fn new(blocking: BlockingHook) -> io::Result<Driver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let unpark = Arc::new(mio::Waker::new(poll.registry(), UNPARK_TOKEN)?);
        let inner = Arc::new(Inner {
            registry,
            sources: parking_lot::Mutex::new(Sources {
                slab: Slab::new(),
                next_generation: 0,
                registrations: 0,
                is_shutdown: false,
            }),
            live_sources: AtomicUsize::new(0),
            blocking,
            unpark,
        });
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            ready: Vec::new(),
            inner,
        })
    }

    /// How many sources (sockets, pipes, signal streams) are registered now.
    /// A thread that polls with no source and no timeout waits for an
    /// unpark alone (the runtime's explore mode calls that a deadlock).
    pub fn source_count(&self) -> usize {
        self.inner.source_count()
    }

    /// How many sources were ever registered with this driver: nonzero
    /// means real I/O took part in the run (explore mode reports it, since
    /// the OS decides when its events arrive).
    pub fn registrations(&self) -> u64 {
        self.inner.sources.lock().registrations
    }

    /// Something any thread can use to wake a thread blocked in [`poll`].
    ///
    /// [`poll`]: Driver::poll
    pub fn unparker(&self) -> Unparker {
        Unparker {
            waker: self.inner.unpark.clone(),
        }
    }

    /// Blocks until an I/O event, an [`Unparker::unpark`], or `timeout`
    /// (`None` = no limit), then wakes the tasks waiting on every ready
    /// source. Returns true if any event other than the unpark was
    /// dispatched. A signal interrupting the wait counts as a wake-up with
    /// no events.
    ///
    /// # Errors
    ///
    /// The OS error of `epoll_wait`, other than `EINTR`.
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        if timeout == Some(Duration::ZERO) && self.inner.live_sources.load(Ordering::Relaxed) == 0 {
            // INV-4: nothing registered, so nothing this poll could report
            // but the unpark token, and no thread is blocked here to need it.
            return Ok(false);
        }
        let timeout = match self.wait_precisely(timeout) {
            Precise::TimedOut => return Ok(false),
            Precise::Collect => Some(Duration::ZERO),
            Precise::Wait(timeout) => timeout,
            Precise::Coarse { whole, deadline } => {
                if !self.wait_events(Some(whole))? {
                    return Ok(false);
                }
                if !self.events.is_empty() {
                    return Ok(self.dispatch());
                }
                // The whole milliseconds passed with nothing ready: the rest,
                // less than a millisecond, precisely.
                let rest = deadline.saturating_duration_since(std::time::Instant::now());
                if rest.is_zero() {
                    return Ok(false);
                }
                match self.wait_precisely(Some(rest)) {
                    Precise::TimedOut => return Ok(false),
                    Precise::Collect => Some(Duration::ZERO),
                    // Only if the wait ended early; mio's rounding up is fine then.
                    Precise::Wait(_) | Precise::Coarse { .. } => Some(rest),
                }
            }
        };
        if !self.wait_events(timeout)? {
            return Ok(false);
        }
        Ok(self.dispatch())
    }

    /// One `epoll_wait` into `events`; false if a signal interrupted it.
    fn wait_events(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Wakes the tasks of every source in `events`; true if there was any
    /// (the unpark token aside).
    fn dispatch(&mut self) -> bool {
        {
            let sources = self.inner.sources.lock();
            for event in self.events.iter() {
                if event.token() == UNPARK_TOKEN {
                    continue;
                }
                if let Some(registration) = sources.lookup(event.token()) {
                    self.ready.push((registration.clone(), readiness_of(event)));
                }
            }
        }
        let dispatched = !self.ready.is_empty();
        // INV-3: wake with the slab lock released.
        for (registration, bits) in self.ready.drain(..) {
            registration.set_readiness(bits);
        }
        dispatched
    }
}

/// What [`Driver::poll`] does after `wait_precisely`.
enum Precise {
    /// The precise wait ended at its timeout with nothing ready: done, with
    /// no `epoll_wait` at all (the common case of a timer park).
    TimedOut,
    /// Events may be ready: collect them with a zero timeout.
    Collect,
    /// No precise wait was needed: mio waits for this long itself.
    Wait(Option<Duration>),
    /// A long timeout with a fraction of a millisecond: `epoll_wait` for
    /// the whole milliseconds, and only if that ends with nothing ready,
    /// the rest until `deadline` precisely.
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Coarse {
        whole: Duration,
        deadline: std::time::Instant,
    },
}

/// Timeouts from this long up are waited as whole milliseconds first
/// ([`Precise::Coarse`]).
#[cfg(any(target_os = "linux", target_os = "android"))]
const COARSE_FROM: Duration = Duration::from_millis(10);

impl Driver {
    /// `epoll_wait` counts whole milliseconds and mio rounds a timeout up,
    /// so a timeout with a fraction of a millisecond (a timer due 0.3 ms
    /// from now) would block up to 1 ms too long. For such a timeout this
    /// waits for the epoll descriptor to become readable with a nanosecond
    /// timeout (`sys::wait_readable`, one `ppoll`), and mio's `epoll_wait`
    /// then only collects the events, if there are any. A whole-millisecond
    /// or absent timeout goes to mio unchanged, so parks with no timer due
    /// cost what they did.
    ///
    /// A timeout of [`COARSE_FROM`] or more is waited the other way round:
    /// `epoll_wait` for its whole milliseconds, then, only if nothing came,
    /// the fraction with `ppoll`. Such parks mostly end with an event
    /// before their timeout (a server's 30 s header timer is pending while
    /// requests keep arriving), and the precise wait first cost them a
    /// second system call each (`ppoll`, then `epoll_wait` to collect);
    /// the ones a timer ends pay the second call instead, at most one per
    /// `COARSE_FROM`. Rejected: `epoll_pwait2` (nanosecond timeout, one
    /// call), which mio does not expose and Linux has only since 5.11.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn wait_precisely(&self, timeout: Option<Duration>) -> Precise {
        match timeout {
            Some(time) if time >= COARSE_FROM && time.subsec_nanos() % 1_000_000 != 0 => {
                let whole =
                    Duration::from_millis(u64::try_from(time.as_millis()).unwrap_or(u64::MAX));
                Precise::Coarse {
                    whole,
                    deadline: std::time::Instant::now() + time,
                }
            }
            Some(time) if time.subsec_nanos() % 1_000_000 != 0 => {
                match sys::wait_readable(&self.poll, time) {
                    Ok(false) => Precise::TimedOut,
                    // Readable; or an error (EINTR included), which mio's
                    // collecting poll reports if it is real.
                    Ok(true) | Err(_) => Precise::Collect,
                }
            }
            other => Precise::Wait(other),
        }
    }

    /// Elsewhere mio's millisecond rounding stands.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn wait_precisely(&self, timeout: Option<Duration>) -> Precise {
        Precise::Wait(timeout)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let registrations: Vec<Arc<Registration>> = {
            let mut sources = self.inner.sources.lock();
            sources.is_shutdown = true;
            sources
                .slab
                .iter()
                .map(|(_, slot)| slot.registration.clone())
                .collect()
        };
        for registration in registrations {
            registration.set_readiness(SHUTDOWN);
        }
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("sources", &self.inner.source_count())
            .finish_non_exhaustive()
    }
}

/// Wakes the thread blocked in [`Driver::poll`]; cheap to clone, usable
/// from any thread.
#[derive(Clone)]
pub struct Unparker {
    waker: Arc<mio::Waker>,
}

impl Unparker {
    /// Makes the current or next [`Driver::poll`] return promptly.
    pub fn unpark(&self) {
        // The only failure is the eventfd counter being saturated, which
        // means a wake-up is already pending: nothing is lost by ignoring it.
        let _ = self.waker.wake();
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unparker").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod token_tests {
    use super::*;

    /// A token whose slot was freed, or freed and reused by a later
    /// generation, finds nothing; the current token finds its slot.
    #[test]
    fn stale_tokens_find_nothing() {
        let mut sources = Sources {
            slab: Slab::new(),
            next_generation: 0,
            registrations: 0,
            is_shutdown: false,
        };
        let first = Arc::new(Registration::new());
        let index = sources.slab.insert(Slot {
            generation: 7,
            registration: first.clone(),
        });
        let current = pack_token(index, 7);
        assert!(Arc::ptr_eq(sources.lookup(current).unwrap(), &first));
        sources.slab.remove(index);
        assert!(sources.lookup(current).is_none(), "freed slot");
        let reused = sources.slab.insert(Slot {
            generation: 8,
            registration: Arc::new(Registration::new()),
        });
        assert_eq!(reused, index, "the slab reuses the freed slot");
        assert!(
            sources.lookup(current).is_none(),
            "slot reused by generation 8"
        );
        assert!(sources.lookup(pack_token(index, 8)).is_some());
        assert!(
            sources.lookup(pack_token(index + 1, 7)).is_none(),
            "never used"
        );
    }

    /// Packing then unpacking returns the inputs, and no token collides
    /// with the unpark token.
    #[test]
    fn token_round_trips_and_never_equals_unpark_token() {
        let cases = [
            (0, 0),
            (1, 0),
            (0, 1),
            (INDEX_MASK, GENERATION_LIMIT - 1),
            (12345, 678),
        ];
        for (index, generation) in cases {
            let token = pack_token(index, generation);
            assert_eq!(
                unpack_token(token),
                (index, generation),
                "index {index} generation {generation}"
            );
            assert_ne!(token, UNPARK_TOKEN, "index {index} generation {generation}");
        }
    }
}
