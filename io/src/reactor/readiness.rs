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
//! `WouldBlock` proves the remembered readiness stale. Rejected alternatives:
//! level-triggered polling (one `epoll_wait` result per ready socket per
//! poll, even for sockets nobody is reading) and tokio's tick-stamped
//! readiness (saves the retry below but needs a counter in the word and a
//! compare-and-swap to clear; the retry is one cheap system call on a path
//! that is about to park anyway).
//!
//! The protocol, as mirrored steps (the mutex on the waker list is the fence):
//!
//! ```text
//! operation (poll_io, one direction)         driver (set_readiness)
//!  O1. if readiness lacks the direction:      D1. fetch_or the event's bits
//!      register the waker (lock), then            into the readiness word
//!      re-load readiness; still not ready     D2. lock the waker list, take
//!      -> Pending                                 the wakers of the ready
//!  O2. try the system call; not WouldBlock        directions, unlock
//!      -> Ready(result)                       D3. wake them, no lock held
//!  O3. WouldBlock: clear the direction's
//!      readiness, register the waker (lock)
//!  O4. retry the system call ONCE:
//!      WouldBlock -> Pending, else Ready
//! ```
//!
//! Why O4 is needed: an edge that lands between O2's `WouldBlock` and O3's
//! clear is erased by the clear, and edge-triggered epoll will not report it
//! again. O4 runs after the clear and after the waker is registered, so either
//! it sees the data that edge announced, or the data arrives later, with a new
//! edge whose D2 finds the waker from O3 (INV-2).
//!
//! Invariants:
//! - INV-1: readiness bits are only ever *added* by the driver (D1) and only
//!   *cleared* by an operation that has just observed `WouldBlock` for that
//!   direction (O3). `SHUTDOWN` is never cleared.
//! - INV-2: a task that returns `Pending` from `poll_io` has its waker in the
//!   direction's list, registered *before* its last readiness check or
//!   system call. Because D1 precedes D2 and both sides take the list's
//!   mutex, either D2 sees that waker or the operation's check/call (after its
//!   own lock) sees the data: no wakeup is lost.
//! - INV-3: wakers are taken out of the list before being woken, and woken
//!   with the lock released, so a waker that re-polls inline cannot deadlock.
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
//! Tested by `tests::edge_between_would_block_and_clear_is_not_lost` (the O4
//! race, deterministically) and by the loom models in
//! `reactor/tests/loom_readiness.rs` (every interleaving of O1–O4 against
//! D1–D3; removing O4 makes the model fail).
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

    /// Acquire: pairs with the AcqRel of `set`/`clear`, so what the kernel
    /// had done before the driver saw the event is visible to the reader.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// D1: add `bits` (INV-1).
    fn transition_to_ready(&self, bits: usize) {
        self.0.fetch_or(bits, Ordering::AcqRel);
    }

    /// O3: forget `direction`'s readiness after a `WouldBlock` (INV-1).
    fn transition_to_not_ready(&self, direction: Direction) {
        self.0.fetch_and(!direction.mask(), Ordering::AcqRel);
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

    /// Wakes every waiter; returns how many.
    fn wake_all(self) -> usize {
        let count = usize::from(self.first.is_some()) + self.others.len();
        self.first
            .into_iter()
            .chain(self.others)
            .for_each(Waker::wake);
        count
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

    /// Polls readiness for `direction` without an operation: `Ready(Ok)` if
    /// the direction is ready, else registers the waker (O1).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        let snapshot = self.readiness.snapshot();
        if snapshot.is_shutdown() {
            return Poll::Ready(Err(shutdown_error()));
        }
        if snapshot.is_ready(direction) {
            return Poll::Ready(Ok(()));
        }
        self.register(direction, cx.waker());
        let snapshot = self.readiness.snapshot();
        if snapshot.is_shutdown() {
            return Poll::Ready(Err(shutdown_error()));
        }
        if snapshot.is_ready(direction) {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    /// Runs the non-blocking operation `op` under the protocol O1–O4 of the
    /// module doc. `op` returning `WouldBlock` never reaches the caller.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            // O1
            match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            // O2
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result),
            }
            // O3
            self.readiness.transition_to_not_ready(direction);
            self.register(direction, cx.waker());
            // O4
            loop {
                match op() {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => return Poll::Ready(result),
                }
            }
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

    /// The race O4 exists for: the edge arrives after the operation saw
    /// `WouldBlock` but before the clear, so the clear erases it. The retry
    /// finds the data, so the task does not sleep through it.
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
            let poll = registration.poll_ready(&mut Context::from_waker(waker), Direction::Read);
            assert!(poll.is_pending());
        }
        assert_eq!(registration.set_readiness(READ_CLOSED), 2);
        assert_eq!(first.0.load(StdOrdering::SeqCst), 1);
        assert_eq!(second.0.load(StdOrdering::SeqCst), 1);
    }

    /// After shutdown every operation fails without being attempted, and
    /// waiters of both directions are woken.
    #[test]
    fn shutdown_wakes_everyone_and_fails_operations() {
        let registration = Registration::new();
        let (counter, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(registration
            .poll_ready(&mut cx, Direction::Read)
            .is_pending());
        assert!(registration
            .poll_ready(&mut cx, Direction::Write)
            .is_pending());
        assert_eq!(registration.set_readiness(SHUTDOWN), 2);
        assert_eq!(counter.0.load(StdOrdering::SeqCst), 2);
        let result = registration.poll_io(&mut cx, Direction::Write, || -> io::Result<()> {
            panic!("no operation may run after shutdown")
        });
        assert!(matches!(result, Poll::Ready(Err(_))));
    }
}
