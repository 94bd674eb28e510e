//! Summary: the per-source readiness word and the wakers waiting on it, and
//! the clear-readiness-then-retry protocol that ties them together.
//!
//! Role: the driver (`reactor::Driver::poll`) calls
//! [`Registration::set_readiness`] for each mio event; the I/O types call
//! [`Registration::poll_io`] (through `reactor::Source`) around every
//! non-blocking system call.
//!
//! Design: readiness is *edge-triggered* (mio registers with `EPOLLET`): the
//! kernel reports a transition to ready once, not the level. So the reactor
//! remembers it in a word, and the I/O operation is the source of truth: a
//! `WouldBlock` proves the remembered readiness stale, and the operation
//! clears it before waiting. The danger is clearing an edge that arrived
//! *after* the failed attempt: epoll will not report it again, and the task
//! would sleep on data that is already there. The word therefore carries a
//! *tick*, bumped by every edge; the clear is a compare-and-swap that only
//! succeeds if the tick is still the one the operation saw before its
//! attempt (tokio's scheme). When it fails, an edge arrived meanwhile, the
//! readiness stays set, and the operation retries at once.
//!
//! Rejected alternatives: level-triggered polling (one `epoll_wait` result
//! per ready socket per poll, even for sockets nobody is reading), and an
//! unconditional clear followed by a blind retry of the system call, which
//! is also correct but spends a second failing system call on every wait
//! (measured: about a quarter of the system calls of a ping-pong).
//!
//! The protocol, as mirrored steps (the mutex on the waker list is the
//! fence for the waker; the tick is the fence for the clear):
//!
//! ```text
//! operation (poll_io, one direction)          driver (set_readiness)
//!  O1. snapshot readiness; if the direction    D1. fetch-or the event's bits
//!      is not ready: register the waker            into the word and bump
//!      (lock), re-snapshot; still not ready        the tick
//!      -> Pending                              D2. lock the waker list, take
//!  O2. try the system call; not WouldBlock         the wakers of the ready
//!      -> Ready(result)                            directions, unlock
//!  O3. WouldBlock: clear the direction's       D3. wake them, no lock held
//!      readiness IF the tick still equals
//!      the O1 snapshot's; go back to O1
//!  O4. (stream sockets) the call succeeded
//!      but read fewer bytes than asked, or
//!      wrote fewer than offered: the kernel
//!      buffer is now empty (full), so clear
//!      the direction's ready bit, not its
//!      closed bit, IF the tick still equals
//!      the O1 snapshot's
//! ```
//!
//! O4 is tokio's short-read optimisation: without it, the next read finds
//! out that the buffer is empty by a failing `read(2)` (O2, O3); with it, it
//! goes straight to waiting. An echo server saves one system call per round
//! trip. It is sound for the same reason as O3 (any data that arrived after
//! the short read came with an edge, which moved the tick and so refuses
//! the clear), and the closed bit is kept because end-of-stream or an error
//! is not an edge epoll reports twice.
//!
//! Why this loses no edge: an edge before O3 changes the tick, so O3 keeps
//! the readiness and O1 sees it and retries; an edge after O3 either is seen
//! by O1's snapshots, or comes after O1's waker registration, and then D2
//! finds that waker (INV-2).
//!
//! Invariants:
//! - INV-1: readiness bits are only ever *added* by the driver (D1, which
//!   also bumps the tick) and only *cleared* by an operation that observed
//!   `WouldBlock` (O3) or a short read or write (O4, ready bit only) for
//!   that direction with no edge since its snapshot (same tick). `SHUTDOWN`
//!   is never cleared.
//! - INV-2: a task that returns `Pending` from `poll_io` has its waker in the
//!   direction's list, registered *before* its last readiness snapshot.
//!   Because D1 precedes D2 and both sides take the list's mutex, either D2
//!   sees that waker or the snapshot (after the operation's own lock) sees
//!   the bit: no wake-up is lost.
//! - INV-3: wakers are taken out of the list before being woken, and woken
//!   with the lock released, so a waker that re-polls inline cannot deadlock.
//! - INV-4: a waker that panics in `wake` does not stop the others from
//!   being woken, and the panic does not escape `Driver::poll` or the
//!   driver's drop: wakers are user code, and one buggy waker must not take
//!   down the worker that parks in the driver (or, on the current-thread
//!   flavour, `block_on` itself). Each wake runs under `catch_unwind`.
//!
//! State machine (per direction; the word starts at 0, "not ready"):
//!
//! ```text
//! not ready --transition_to_ready (D1: an edge)--> ready
//!     ^                                              |
//!     +--transition_to_not_ready (O3: WouldBlock)----+
//! any --transition_to_ready(SHUTDOWN) (driver dropped)--> shut down (final)
//! ```
//!
//! `transition_to_not_ready` fails (leaving "ready") when the tick moved.
//!
//! Tested by `tests::edge_between_would_block_and_clear_is_not_lost` (the O3
//! race, deterministically) and by the loom models in
//! `reactor/tests/loom_readiness.rs` (every interleaving of O1–O3 against
//! D1–D3; making the clear unconditional makes the model fail).
//!
//! Concurrency: `readiness` is touched by the driver thread and by any task
//! thread; the waker lists only under their mutex. A direction normally has
//! one waiting task; the list exists so that two tasks sharing a socket (two
//! `accept` calls on one listener, two `recv` on one `UdpSocket`) both get
//! woken instead of one silently replacing the other. A future dropped while
//! waiting leaves its waker in the list until the next edge, which then
//! wakes that task once, spuriously: harmless, and cheaper than a removal
//! protocol.
//!
//! References: `epoll(7)`, "edge-triggered"; tokio `io/scheduled_io.rs`.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Mutex, Ordering};

/// Readable: the kernel reported data (or a pending connection) to read.
/// Set by D1; cleared by a read-direction `WouldBlock` (O3).
pub(crate) const READABLE: usize = 1 << 0;
/// Writable: the kernel reported room in the send buffer (or a finished
/// connect). Set by D1; cleared by a write-direction `WouldBlock` (O3).
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its writing half: reads will return 0. Counts as
/// readable; cleared with `READABLE`.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// Our writing half is closed or the connection failed: writes will fail.
/// Counts as writable; cleared with `WRITABLE`.
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The driver that owns this source was dropped: every operation fails from
/// now on. Set once by the driver's drop; never cleared (INV-1).
pub(crate) const SHUTDOWN: usize = 1 << 4;

/// The readiness bits proper; the bits above them hold the tick.
const FLAGS_MASK: usize = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | SHUTDOWN;
/// Where the tick starts: above every flag, with room to add flags.
const TICK_SHIFT: u32 = 8;
/// One tick. The tick counts edges modulo 2^(usize::BITS - 8); a clear is
/// wrongly allowed only if exactly that many edges land between one
/// operation's snapshot and its clear, which cannot happen in practice
/// (2^24 edges on 32-bit targets, 2^56 on 64-bit ones).
const TICK_ONE: usize = 1 << TICK_SHIFT;

/// One direction of a source: read-like (`read`, `accept`, `recv`) or
/// write-like (`write`, `connect`, `send`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Operations that wait for `READABLE`.
    Read,
    /// Operations that wait for `WRITABLE`.
    Write,
}

impl Direction {
    /// The readiness bits that make this direction ready (and that a
    /// `WouldBlock` in this direction clears).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }

    /// The bit a short read or write forgets (O4). The closed bit stays:
    /// a side that was shut down never blocks again, so it stays ready.
    fn ready_bit(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    fn index(self) -> usize {
        match self {
            Direction::Read => 0,
            Direction::Write => 1,
        }
    }
}

/// A copy of the readiness word at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    /// The edge counter part of the word.
    fn tick(self) -> usize {
        self.0 >> TICK_SHIFT
    }

    /// Whether `direction` may make progress without blocking.
    pub(crate) fn is_ready(self, direction: Direction) -> bool {
        self.0 & direction.mask() != 0
    }

    /// Whether the driver has shut down.
    pub(crate) fn is_shutdown(self) -> bool {
        self.0 & SHUTDOWN != 0
    }
}

/// The readiness word of one source (see the module doc, INV-1).
#[derive(Debug)]
pub(crate) struct Readiness(AtomicUsize);

impl Readiness {
    /// Starts empty: mio reports the initial state of a freshly registered
    /// socket as its first event, so nothing is assumed.
    fn new() -> Readiness {
        Readiness(AtomicUsize::new(0))
    }

    /// Acquire: pairs with the AcqRel of the transitions, so what the
    /// kernel had done before the driver saw the event is visible to the
    /// reader.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// D1: add `bits` and bump the tick (INV-1).
    fn transition_to_ready(&self, bits: usize) {
        debug_assert_eq!(bits & !FLAGS_MASK, 0, "not readiness bits: {bits:#x}");
        self.update(|current| Some((current | bits).wrapping_add(TICK_ONE)));
    }

    /// O3: forget `direction`'s readiness after a `WouldBlock`, unless an
    /// edge arrived since `observed` (INV-1). Returns whether it cleared.
    fn transition_to_not_ready(&self, direction: Direction, observed: Snapshot) -> bool {
        self.update(|current| {
            (Snapshot(current).tick() == observed.tick()).then_some(current & !direction.mask())
        })
    }

    /// O4: forget `direction`'s ready bit (not its closed bit) after an
    /// operation that emptied or filled the kernel buffer, unless an edge
    /// arrived since `observed` (INV-1). Returns whether it cleared.
    fn transition_to_drained(&self, direction: Direction, observed: Snapshot) -> bool {
        self.update(|current| {
            (Snapshot(current).tick() == observed.tick())
                .then_some(current & !direction.ready_bit())
        })
    }

    /// The one compare-and-swap loop: applies `next` until it wins or
    /// declines (None). AcqRel: the driver's Release publishes the edge, the
    /// operation's Acquire sees it (and vice versa for the clear).
    fn update(&self, mut next: impl FnMut(usize) -> Option<usize>) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, &mut next)
            .is_ok()
    }
}

/// The tasks waiting for one direction. Almost always one task, kept
/// inline so registering and waking it never allocates; further tasks
/// sharing the socket go to `others`.
#[derive(Debug, Default)]
struct Waiters {
    first: Option<Waker>,
    others: Vec<Waker>,
}

impl Waiters {
    /// Adds `waker` unless a waker of the same task is already present.
    fn register(&mut self, waker: &Waker) {
        match &mut self.first {
            None => self.first = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if !self.others.iter().any(|w| w.will_wake(waker)) {
                    self.others.push(waker.clone());
                }
            }
        }
    }

    /// Wakes every waiter; returns how many (INV-4).
    fn wake_all(self) -> usize {
        let count = usize::from(self.first.is_some()) + self.others.len();
        self.first
            .into_iter()
            .chain(self.others)
            .for_each(wake_contained);
        count
    }
}

/// Wakes `waker`, containing a panic from its `wake` (INV-4). The panic has
/// already been reported by the panic hook when it was raised; the payload
/// is dropped (itself under `catch_unwind`, in case its destructor panics).
pub(crate) fn wake_contained(waker: Waker) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)));
    }
}

/// The reactor's state for one registered source: its readiness word and
/// the wakers waiting for each direction.
#[derive(Debug)]
pub(crate) struct Registration {
    readiness: Readiness,
    /// `[read waiters, write waiters]`, only touched under the mutex
    /// (INV-2, INV-3).
    wakers: Mutex<[Waiters; 2]>,
}

impl Registration {
    /// A registration with no readiness and no waiters.
    pub(crate) fn new() -> Registration {
        Registration {
            readiness: Readiness::new(),
            wakers: Mutex::new([Waiters::default(), Waiters::default()]),
        }
    }

    /// D1–D3: record `bits` and wake every waiter of a direction they make
    /// ready. Returns how many wakers were woken.
    pub(crate) fn set_readiness(&self, bits: usize) -> usize {
        self.readiness.transition_to_ready(bits);
        let snapshot = Snapshot(bits);
        let mut woken = [Waiters::default(), Waiters::default()];
        {
            let mut wakers = self.wakers.lock();
            for direction in [Direction::Read, Direction::Write] {
                if snapshot.is_ready(direction) || snapshot.is_shutdown() {
                    woken[direction.index()] = std::mem::take(&mut wakers[direction.index()]);
                }
            }
        }
        // INV-3: the lock is released before any waker runs.
        woken.into_iter().map(Waiters::wake_all).sum()
    }

    /// Adds `waker` to `direction`'s waiters (D2 reads them under the same
    /// lock, INV-2).
    fn register(&self, direction: Direction, waker: &Waker) {
        self.wakers.lock()[direction.index()].register(waker);
    }

    /// O1: `Ready` with the snapshot that shows `direction` ready, or
    /// `Pending` with the waker registered (INV-2).
    fn poll_snapshot(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<Snapshot>> {
        let check = |snapshot: Snapshot| {
            if snapshot.is_shutdown() {
                Some(Err(shutdown_error()))
            } else if snapshot.is_ready(direction) {
                Some(Ok(snapshot))
            } else {
                None
            }
        };
        if let Some(result) = check(self.readiness.snapshot()) {
            return Poll::Ready(result);
        }
        self.register(direction, cx.waker());
        match check(self.readiness.snapshot()) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// Runs the non-blocking operation `op` under the protocol O1–O3 of the
    /// module doc. `op` returning `WouldBlock` never reaches the caller.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_draining(cx, direction, op, |_| false)
    }

    /// [`Registration::poll_io`] for operations that can tell when they
    /// emptied or filled the kernel buffer: when `drained(&value)` says so
    /// (a stream read that returned fewer bytes than asked, a write that
    /// took fewer than offered), the direction's ready bit is cleared (O4),
    /// which saves the `WouldBlock` system call the next operation would
    /// otherwise make to find out.
    pub(crate) fn poll_io_draining<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        // Every socket operation passes here, so this is where it spends the
        // cooperative budget: asked for first (a yield has done no system
        // call), kept only when the operation completes.
        let coop = std::task::ready!(weft_coop::poll_proceed(cx));
        let poll = self.poll_io_unbudgeted(cx, direction, op, drained);
        if poll.is_ready() {
            coop.made_progress();
        }
        poll
    }

    /// [`Registration::poll_io_draining`] without the budget.
    fn poll_io_unbudgeted<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            // O1
            let snapshot = match self.poll_snapshot(cx, direction) {
                Poll::Ready(Ok(snapshot)) => snapshot,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            // O2
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(value) => {
                    if drained(&value) {
                        // O4: a failed clear means a new edge; the next
                        // operation sees it and tries the call.
                        self.readiness.transition_to_drained(direction, snapshot);
                    }
                    return Poll::Ready(Ok(value));
                }
                result => return Poll::Ready(result),
            }
            // O3: a failed clear means a new edge: O1 sees it and retries.
            self.readiness.transition_to_not_ready(direction, snapshot);
        }
    }
}

/// The error every operation returns once the driver is gone.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the weft I/O driver has shut down; the socket can no longer be used")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    /// Counts wake-ups.
    #[derive(Default)]
    struct Counter(StdAtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, StdOrdering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter::default());
        (counter.clone(), Waker::from(counter))
    }

    /// The race the tick exists for: the edge arrives after the operation
    /// saw `WouldBlock` but before the clear. The clear is refused, so the
    /// operation retries and finds the data instead of sleeping through it.
    #[test]
    fn edge_between_would_block_and_clear_is_not_lost() {
        let registration = Registration::new();
        registration.set_readiness(READABLE); // stale: from an earlier edge
        let (_, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let has_data = AtomicBool::new(false);
        let mut calls = 0;
        let result = registration.poll_io(&mut cx, Direction::Read, || {
            calls += 1;
            if has_data.load(StdOrdering::SeqCst) {
                return Ok(42);
            }
            // Data and its edge land right after this WouldBlock.
            has_data.store(true, StdOrdering::SeqCst);
            registration.set_readiness(READABLE);
            Err(io::ErrorKind::WouldBlock.into())
        });
        assert!(matches!(result, Poll::Ready(Ok(42))), "{result:?}");
        assert_eq!(calls, 2, "one attempt and one retry");
    }

    /// O4: a short read forgets readiness, so the next read waits without
    /// a failing system call; a read that filled the buffer does not.
    #[test]
    fn short_read_forgets_readiness_and_full_read_keeps_it() {
        let registration = Registration::new();
        let (_, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        registration.set_readiness(READABLE);
        let full = registration.poll_io_draining(&mut cx, Direction::Read, || Ok(8), |&n| n < 8);
        assert!(matches!(full, Poll::Ready(Ok(8))));
        assert!(registration.readiness.snapshot().is_ready(Direction::Read));
        let short = registration.poll_io_draining(&mut cx, Direction::Read, || Ok(3), |&n| n < 8);
        assert!(matches!(short, Poll::Ready(Ok(3))));
        let mut calls = 0;
        let next = registration.poll_io(&mut cx, Direction::Read, || {
            calls += 1;
            Ok(0)
        });
        assert!(next.is_pending());
        assert_eq!(calls, 0, "no system call after a short read");
    }

    /// O4 keeps the closed bit: after end of stream was reported, a short
    /// read leaves the socket readable, so the next read returns `Ok(0)`
    /// instead of waiting for an edge that will never come.
    #[test]
    fn short_read_keeps_the_read_closed_bit() {
        let registration = Registration::new();
        let (_, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        registration.set_readiness(READABLE | READ_CLOSED);
        let short = registration.poll_io_draining(&mut cx, Direction::Read, || Ok(3), |&n| n < 8);
        assert!(matches!(short, Poll::Ready(Ok(3))));
        let eof = registration.poll_io(&mut cx, Direction::Read, || Ok(0));
        assert!(matches!(eof, Poll::Ready(Ok(0))));
    }

    /// O4 is refused when an edge landed after the snapshot: data that
    /// arrived during the short read is not forgotten.
    #[test]
    fn short_read_clear_is_refused_after_a_newer_edge() {
        let registration = Registration::new();
        let (_, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        registration.set_readiness(READABLE);
        let short = registration.poll_io_draining(
            &mut cx,
            Direction::Read,
            || {
                registration.set_readiness(READABLE); // more data, new edge
                Ok(3)
            },
            |&n| n < 8,
        );
        assert!(matches!(short, Poll::Ready(Ok(3))));
        assert!(registration.readiness.snapshot().is_ready(Direction::Read));
    }

    /// A clear succeeds with the current tick and is refused once an edge
    /// has bumped it, whatever bits that edge carried.
    #[test]
    fn clear_is_refused_after_a_newer_edge() {
        let readiness = Readiness::new();
        readiness.transition_to_ready(READABLE);
        let seen = readiness.snapshot();
        readiness.transition_to_ready(WRITABLE);
        assert!(!readiness.transition_to_not_ready(Direction::Read, seen));
        assert!(readiness.snapshot().is_ready(Direction::Read));
        let seen = readiness.snapshot();
        assert!(readiness.transition_to_not_ready(Direction::Read, seen));
        assert!(!readiness.snapshot().is_ready(Direction::Read));
        assert!(readiness.snapshot().is_ready(Direction::Write));
    }

    /// A blocked operation costs one failed system call, not two.
    #[test]
    fn would_block_costs_one_system_call() {
        let registration = Registration::new();
        registration.set_readiness(READABLE);
        let (_, waker) = counting_waker();
        let mut calls = 0;
        let result =
            registration.poll_io(&mut Context::from_waker(&waker), Direction::Read, || {
                calls += 1;
                io::Result::<()>::Err(io::ErrorKind::WouldBlock.into())
            });
        assert!(result.is_pending());
        assert_eq!(calls, 1);
    }

    /// A `Pending` operation leaves its waker registered; the next edge
    /// wakes it exactly once and the retry succeeds.
    #[test]
    fn pending_operation_is_woken_by_the_next_edge() {
        let registration = Registration::new();
        let (counter, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let would_block = || -> io::Result<()> { Err(io::ErrorKind::WouldBlock.into()) };
        assert!(registration
            .poll_io(&mut cx, Direction::Read, would_block)
            .is_pending());
        assert_eq!(
            registration.set_readiness(WRITABLE),
            0,
            "writable wakes no reader"
        );
        assert_eq!(registration.set_readiness(READABLE), 1);
        assert_eq!(counter.0.load(StdOrdering::SeqCst), 1);
        let ok = || -> io::Result<u8> { Ok(7) };
        assert!(matches!(
            registration.poll_io(&mut cx, Direction::Read, ok),
            Poll::Ready(Ok(7))
        ));
    }

    /// A `WouldBlock` clears only its own direction's readiness.
    #[test]
    fn would_block_clears_only_its_direction() {
        let registration = Registration::new();
        registration.set_readiness(READABLE | WRITABLE);
        let (_, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let would_block = || -> io::Result<()> { Err(io::ErrorKind::WouldBlock.into()) };
        assert!(registration
            .poll_io(&mut cx, Direction::Read, would_block)
            .is_pending());
        let snapshot = registration.readiness.snapshot();
        assert!(!snapshot.is_ready(Direction::Read));
        assert!(snapshot.is_ready(Direction::Write));
    }

    /// Two tasks waiting on one direction are both woken; the same task
    /// registering twice is stored once.
    #[test]
    fn every_waiting_task_is_woken_once() {
        let registration = Registration::new();
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        for waker in [&first_waker, &first_waker, &second_waker] {
            let poll = registration.poll_snapshot(&mut Context::from_waker(waker), Direction::Read);
            assert!(poll.is_pending());
        }
        assert_eq!(registration.set_readiness(READ_CLOSED), 2);
        assert_eq!(first.0.load(StdOrdering::SeqCst), 1);
        assert_eq!(second.0.load(StdOrdering::SeqCst), 1);
    }

    /// Panics on wake.
    struct Panicking;

    impl Wake for Panicking {
        fn wake(self: Arc<Self>) {
            panic!("test waker panics on wake");
        }
    }

    /// A waker that panics does not escape `set_readiness`, and the other
    /// waiters are still woken (INV-4).
    #[test]
    fn panicking_waker_is_contained_and_others_still_wake() {
        let registration = Registration::new();
        let panicking = Waker::from(Arc::new(Panicking));
        let (counter, waker) = counting_waker();
        for waker in [&panicking, &waker] {
            let poll = registration.poll_snapshot(&mut Context::from_waker(waker), Direction::Read);
            assert!(poll.is_pending());
        }
        assert_eq!(registration.set_readiness(READABLE), 2);
        assert_eq!(counter.0.load(StdOrdering::SeqCst), 1);
    }

    /// After shutdown every operation fails without being attempted, and
    /// waiters of both directions are woken.
    #[test]
    fn shutdown_wakes_everyone_and_fails_operations() {
        let registration = Registration::new();
        let (counter, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(registration
            .poll_snapshot(&mut cx, Direction::Read)
            .is_pending());
        assert!(registration
            .poll_snapshot(&mut cx, Direction::Write)
            .is_pending());
        assert_eq!(registration.set_readiness(SHUTDOWN), 2);
        assert_eq!(counter.0.load(StdOrdering::SeqCst), 2);
        let result = registration.poll_io(&mut cx, Direction::Write, || -> io::Result<()> {
            panic!("no operation may run after shutdown")
        });
        assert!(matches!(result, Poll::Ready(Err(_))));
    }
}
