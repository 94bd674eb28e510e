//! The time driver's shared state: the timer wheel split into one shard per
//! worker, the clock, and the park protocol that tells the runtime how long
//! it may sleep and wakes it when a new, earlier deadline arrives.
//!
//! # Summary
//!
//! [`Driver`](crate::Driver) (`driver.rs`) is owned by the runtime and
//! driven by the one worker that parks on it (see the driver seam in
//! `docs/architecture.md`):
//!
//! ```text
//! park:   t = driver.park_timeout()     // records "parked until earliest"
//!         block for at most t (None = until unparked)
//!         driver.process()              // wakes every due timer
//! ```
//!
//! Timer futures reach the same shared state through a `ShardHome`
//! (`handle.rs`: the driver and one shard): a `Sleep` registers on first
//! poll (`register`) in the shard of the thread polling it (which
//! `context.rs` looks up; the sleep takes that thread's home if it was made
//! elsewhere), and keeps that home with its wheel key; its later polls
//! (`poll_entry`), `reset` (`reschedule`) and drop (`cancel`) go to that
//! same shard, from whichever thread they run on.
//!
//! # Design
//!
//! **Why shards.** With one `Wheel<Waker>` behind one mutex, two workers that
//! both create and cancel timers (a `timeout` around every request) take that
//! lock on every register and every cancel, so its cache line moves between
//! the cores on nearly every operation. Callgrind, which runs threads one at
//! a time and so cannot see that, counted weft at 109 M instructions on the
//! `timeout_cancel` benchmark against smol's 171 M, yet weft's two workers
//! were slower in wall time than smol on two threads. So the wheel is split:
//! `shards` holds one `Mutex<Shard { wheel, park state }>` per worker (one in
//! all for a current-thread runtime), each on its own cache lines, and a
//! worker registers and cancels in its own shard. tokio shards its timer
//! wheel per worker for the same reason. [`Shared`] itself is aligned so that
//! its `Arc`'s reference counts do not share a line with the fields every
//! operation reads. A `Sleep` no longer writes that count: it holds its
//! thread's `ShardHome` (`handle.rs`), whose count only that thread writes
//! while its sleeps stay there.
//!
//! Measured on 2 cores (`cargo bench --bench compare -- --runs 15
//! timeout_cancel`, medians of interleaved runs): weft-mt took 198-272 ms
//! (weft-mt/smol-2t 1.03-1.16) with one lock; 112-188 ms with shards alone;
//! 85-119 ms (0.39-0.60) with shards and the aligned `Shared`. The alignment
//! without shards gained nothing (231-414 ms). weft-ct did not change.
//!
//! **Which shard.** A runtime worker thread announces the index of the core
//! it drives with [`Handle::enter_shard`](crate::Handle::enter_shard); a timer first polled there goes to
//! that worker's shard (one per worker, up to [`MAX_SHARDS`]). Threads without that hint (a `block_on` caller, the blocking
//! pool) use shard [`FALLBACK_SHARD`]: they share it with one worker, which
//! is correct and only as contended as the old single lock was. A `Sleep`
//! stolen by another worker keeps its shard (INV-4): its cancel then takes
//! the other worker's lock, which costs one cache-line transfer, not
//! correctness.
//!
//! **What the parker pays.** Registrations touch one shard; the parker's
//! operations touch them all: `park_timeout` locks every shard at once (P1
//! below), `process` and `shut_down` visit each in turn, and a paused clock's
//! `auto_advance` locks all of them to find the earliest deadline across the
//! wheels. The parker runs once per park or every `EVENT_INTERVAL` tasks, far
//! less often than timers are registered, so that trade pays.
//!
//! Each lock is held only for O(1) wheel operations; waking happens after it
//! is released, in batches of [`WAKE_BATCH`] so `process` needs no
//! allocation. Rejected alternatives: per-worker queues of pending inserts
//! that the driver applies in batches (async-io's way): a cancel must then
//! find an insert that may not be applied yet, and the `Sleep` has no key
//! until it is; a lock-free wheel: a much harder proof for the same effect.
//!
//! # Invariants
//!
//! - INV-1: no waker is woken or dropped while a shard is locked (a waker may
//!   run arbitrary executor code, including code that drops another `Sleep`
//!   and so takes a shard lock again).
//! - INV-2 (no lost unpark): whenever a shard's `park` is `Parked { until }`,
//!   an entry registered or rescheduled in that shard due before `until` (or
//!   any entry, if `until` is `None`) makes the registering thread set that
//!   shard's `park` to `Awake` and call `unpark`. `park_timeout` computes
//!   `until` as the earliest deadline over all shards while holding every
//!   shard's lock, and stores it in every shard before releasing any; so
//!   each registration, whichever shard it is in, is either seen by that
//!   computation or sees `until`. A shard reads `Awake` while the parker
//!   blocks only if `unpark` was already called after this park began (by a
//!   registration in that shard, or by `unpark_parker`). Apart from that,
//!   only the parker sets `Awake` (`Driver::process`, after it woke).
//! - INV-3: an entry fires (is taken out of its wheel and its waker woken) at
//!   most once; a `Sleep` that finds its key gone knows it fired.
//! - INV-4: a timer's `ShardHome` names the shard its entry was inserted in, and
//!   every operation on that entry locks that shard (a wheel [`Key`] means
//!   nothing in another shard's wheel).
//! - INV-5: lock order: shards in index order, then the clock's lock. A
//!   registration holds one shard lock at a time.
//! - INV-6: every entry taken out of a wheel is woken, even when an earlier
//!   waker in its batch panics: a waker's panic is contained where it is
//!   woken (and reported by the panic hook), never unwound through the rest
//!   of the batch, whose wakers would otherwise be dropped unwoken and
//!   their tasks never run again.
//!
//! The state machine of each shard's `park` is drawn in `shard.rs`.
//!
//! # Concurrency
//!
//! Each shard (wheel + park state + shutdown flag) is touched by any thread,
//! always under its own lock. `unpark` is called with no lock held.
//!
//! The no-lost-unpark protocol (INV-2), both sides:
//!
//! ```text
//! parker                                     registering thread, shard s
//! P1. lock every shard, in index order;      R1. lock s; insert the entry (due at t)
//!     until = earliest over all shards;      R2. if s.park is Parked{until} and t < until:
//!     every shard: park = Parked{until};         s.park = Awake, note the duty; unlock s
//!     unlock them all                        R3. duty noted: call unpark (the token)
//! P2. block until `until` or a token
//! P3. woke: Driver::process sets every
//!     shard Awake (one at a time), then
//!     fires what is due
//! ```
//!
//! Shard `s`'s lock orders P1 against R1-R2: if R1 comes first, P1's `until`
//! already accounts for `t`; if P1 comes first, it wrote `until` into `s`
//! too, so R2 sees it and R3 unparks. R3 may run before P2 blocks, so the
//! runtime's unpark must leave a token that a later block consumes at once
//! (a `mio::Waker`, `Thread::unpark`, or a flag under a condvar's mutex),
//! never a bare `Condvar::notify`. Registrations in two shards may both
//! unpark for one park; the second token only costs the parker one extra
//! turn of its loop. During P3, a registration in a shard already set
//! `Awake` does not unpark, which is right: the parker is awake and its next
//! P1 sees the entry; one in a shard still `Parked` unparks needlessly, which
//! is harmless.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::clock::Clock;
use crate::loom::{Mutex, MutexGuard};
use crate::shard::{CachePadded, Shard, UnparkDuty};
use crate::wheel::Key;

/// Wakers collected per lock acquisition in `process`: enough to amortise the
/// lock, small enough to live on the stack (32 wakers = 512 bytes).
const WAKE_BATCH: usize = 32;

/// The most shards a driver has. Workers beyond that share shards (worker
/// `i` uses shard `i % MAX_SHARDS`): with 64 shards, two workers meet on a
/// lock at 1/64 of the single-lock rate already, while every extra shard
/// lengthens the parker's all-shard steps (P1 holds every lock at once).
/// It also bounds the recursion depth of `park_shards`.
pub(crate) const MAX_SHARDS: usize = 64;

/// The shard of threads that drive no worker (a `block_on` caller, the
/// blocking pool): the first, which every driver has.
pub(crate) const FALLBACK_SHARD: usize = 0;

/// What a registered `Sleep` finds when it polls its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryPoll {
    /// Still in the wheel; the waker is up to date.
    Pending,
    /// Gone from the wheel: it fired (INV-3).
    Fired,
}

/// The state shared by the [`Driver`](crate::Driver) and every
/// [`Handle`](crate::Handle).
///
/// Aligned to 128 bytes so that, inside its `Arc`, it starts on a cache line
/// after the reference counts: handles and shard homes are cloned and
/// dropped from every worker, and those count updates must not also evict
/// the fields every timer operation reads (`clock`, `shards`); see
/// [`CachePadded`].
#[repr(align(128))]
pub(crate) struct Shared {
    pub(crate) clock: Clock,
    /// One per worker; indexed by a `ShardHome`'s shard (INV-4).
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    unpark: Arc<dyn Fn() + Send + Sync>,
}

/// The panic message for timers whose runtime is gone.
const SHUTDOWN_MESSAGE: &str = "a weft timer was polled after its runtime shut down: \
                                keep timers inside the runtime that created them";

impl Shared {
    /// The number of shards (at least one).
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard].lock()
    }

    /// Every shard's lock, taken in index order (INV-5).
    fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(|shard| shard.lock()).collect()
    }

    /// A driver's state with `shards` shards (at most [`MAX_SHARDS`]).
    pub(crate) fn new(
        start_paused: bool,
        shards: usize,
        unpark: Arc<dyn Fn() + Send + Sync>,
    ) -> Shared {
        Shared {
            clock: Clock::new(start_paused),
            shards: (0..shards.clamp(1, MAX_SHARDS))
                .map(|_| CachePadded(Mutex::new(Shard::new())))
                .collect(),
            unpark,
        }
    }

    /// Adds an entry due at `tick` that wakes `waker`, in shard `shard` (the
    /// calling thread's `ShardHome`, `context::current_home_for`); unparks
    /// the parked thread if this entry is due before it would wake (INV-2,
    /// R1-R3).
    ///
    /// # Panics
    ///
    /// Panics if the driver has shut down, or if `shard` does not exist.
    pub(crate) fn register(&self, shard: usize, tick: u64, waker: Waker) -> Key {
        let (key, duty) = {
            let mut state = self.lock(shard);
            assert!(!state.is_shutdown, "{SHUTDOWN_MESSAGE}");
            let key = state.wheel.insert(tick, waker);
            (key, state.park.transition_on_deadline(tick))
        };
        self.perform(duty);
        key
    }

    /// Adds a held entry for `waker` in shard `shard`: one with no deadline
    /// (too far to ever come), which never fires and which no park or
    /// paused clock waits for, until `reschedule` gives it one.
    ///
    /// # Panics
    ///
    /// Panics if the driver has shut down, or if `shard` does not exist.
    pub(crate) fn hold(&self, shard: usize, waker: Waker) -> Key {
        let mut state = self.lock(shard);
        assert!(!state.is_shutdown, "{SHUTDOWN_MESSAGE}");
        state.wheel.hold(waker)
    }

    /// Makes a registered entry held (see [`Shared::hold`]), keeping its
    /// key and waker; false if it already fired.
    pub(crate) fn hold_entry(&self, shard: usize, key: Key) -> bool {
        self.lock(shard).wheel.hold_existing(key)
    }

    /// Refreshes a registered entry's waker, or reports that it fired.
    ///
    /// # Panics
    ///
    /// Panics if the driver has shut down.
    pub(crate) fn poll_entry(&self, shard: usize, key: Key, waker: &Waker) -> EntryPoll {
        let replaced = {
            let mut state = self.lock(shard);
            assert!(!state.is_shutdown, "{SHUTDOWN_MESSAGE}");
            match state.wheel.get_mut(key) {
                None => return EntryPoll::Fired,
                Some(current) if current.will_wake(waker) => return EntryPoll::Pending,
                Some(current) => std::mem::replace(current, waker.clone()),
            }
        };
        // INV-1: the old waker is dropped after the lock is released.
        drop(replaced);
        EntryPoll::Pending
    }

    /// Moves a registered entry to `tick`, within its shard (INV-4); false
    /// if it already fired.
    pub(crate) fn reschedule(&self, shard: usize, key: Key, tick: u64) -> bool {
        let (moved, duty) = {
            let mut state = self.lock(shard);
            let moved = state.wheel.reschedule(key, tick);
            let duty = if moved {
                // INV-2: a move is a registration at `tick` (R2).
                state.park.transition_on_deadline(tick)
            } else {
                UnparkDuty::Nothing
            };
            (moved, duty)
        };
        self.perform(duty);
        moved
    }

    /// Removes a registered entry and hands back its waker; `None` (and no
    /// change) if it already fired. The caller drops the waker, with the lock
    /// released (INV-1).
    pub(crate) fn cancel(&self, shard: usize, key: Key) -> Option<Waker> {
        self.lock(shard).wheel.remove(key)
    }

    /// True while the entry `key` names in `shard` is still waiting to fire.
    pub(crate) fn is_pending(&self, shard: usize, key: Key) -> bool {
        self.lock(shard).wheel.get_mut(key).is_some()
    }

    /// Carries out an [`UnparkDuty`]; called with no lock held.
    fn perform(&self, duty: UnparkDuty) {
        if duty == UnparkDuty::Unpark {
            (self.unpark)();
        }
    }

    /// Wakes the parked thread so it recomputes its timeout (used when the
    /// clock is paused or resumed).
    pub(crate) fn unpark_parker(&self) {
        let mut duty = UnparkDuty::Nothing;
        for shard in 0..self.shards.len() {
            if self.lock(shard).park.transition_to_awake() == UnparkDuty::Unpark {
                duty = UnparkDuty::Unpark;
            }
        }
        self.perform(duty);
    }

    /// P3: the parker calls this when it wakes, so registrations from now on
    /// need no unpark until its next `park_timeout`.
    pub(crate) fn end_park(&self) {
        for shard in 0..self.shards.len() {
            // The caller is the parker itself, awake: nothing to unpark.
            let _awake_already = self.lock(shard).park.transition_to_awake();
        }
    }

    /// Fires every entry due at the clock's current tick, in every shard;
    /// see [`Driver::process`](crate::Driver::process).
    pub(crate) fn process(&self) -> usize {
        let now = self.clock.tick_at_or_before(self.clock.now());
        (0..self.shards.len())
            .map(|shard| self.process_shard(shard, now))
            .sum()
    }

    /// Fires the entries of one shard due at or before `now`.
    fn process_shard(&self, shard: usize, now: u64) -> usize {
        let mut fired = 0;
        loop {
            let mut batch: [Option<Waker>; WAKE_BATCH] = std::array::from_fn(|_| None);
            let mut taken = 0;
            {
                let mut state = self.lock(shard);
                while taken < WAKE_BATCH {
                    match state.wheel.poll(now) {
                        Some(waker) => {
                            batch[taken] = Some(waker);
                            taken += 1;
                        }
                        None => break,
                    }
                }
            }
            // INV-1: wake with the lock released; INV-6: one waker's panic
            // does not cost the rest of the batch their wake.
            for waker in batch.iter_mut().take(taken) {
                if let Some(waker) = waker.take() {
                    wake_contained(waker);
                }
            }
            fired += taken;
            if taken < WAKE_BATCH {
                return fired;
            }
        }
    }

    /// P1 of INV-2: every shard locked at once, the earliest deadline over
    /// all of them recorded in each.
    pub(crate) fn park_timeout(&self) -> Option<Duration> {
        let earliest = park_shards(&self.shards, None);
        let deadline = self.clock.instant_of(earliest?);
        Some(deadline.saturating_duration_since(self.clock.now()))
    }

    pub(crate) fn auto_advance(&self) -> bool {
        let mut shards = self.lock_all();
        // INV-5: every shard, then the clock (inside `jump_if_paused`), so the
        // wheels' cascades and the clock's jump happen as one step.
        self.clock.jump_if_paused(|| {
            let tick = advance_to_earliest(&mut shards)?;
            Some(self.clock.instant_of(tick))
        })
    }

    pub(crate) fn shut_down(&self) {
        let mut wakers = Vec::new();
        for shard in 0..self.shards.len() {
            let mut state = self.lock(shard);
            state.is_shutdown = true;
            wakers.extend(std::iter::from_fn(|| state.wheel.poll(u64::MAX)));
        }
        // INV-1: wake with the locks released; the woken tasks' timers panic
        // with SHUTDOWN_MESSAGE if they are polled again. INV-6 as in `process`.
        wakers.into_iter().for_each(wake_contained);
    }
}

/// Wakes `waker`, containing a panic from its `wake` (INV-6). The panic hook
/// has already reported the panic when it was raised; the payload is dropped,
/// itself under `catch_unwind` in case its destructor panics too.
fn wake_contained(waker: Waker) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
        let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)));
    }
}

/// P1 of INV-2 on `shards`: locks the first shard, recurses into the rest
/// with the earliest deadline seen so far, and on the way back out, with the
/// global earliest known and every lock still held, records it in each
/// shard. Locks are taken in index order (INV-5) and none is released before
/// all are taken. Recursion keeps the guards on the stack, so parking
/// allocates nothing; its depth is the shard count, at most [`MAX_SHARDS`].
fn park_shards(shards: &[CachePadded<Mutex<Shard>>], earliest_before: Option<u64>) -> Option<u64> {
    let Some((first, rest)) = shards.split_first() else {
        return earliest_before;
    };
    let mut shard = first.lock();
    let earliest_here = shard.wheel.next_expiration();
    let earliest_so_far = match (earliest_before, earliest_here) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let earliest = park_shards(rest, earliest_so_far);
    shard.park.transition_to_parked(earliest);
    earliest
}

/// Moves the wheels forward to the earliest pending deadline over all
/// `shards`, cascading on the way but firing nothing, and returns it.
///
/// A wheel may only be cascaded up to the deadline the clock will jump to,
/// since a wheel whose `elapsed` ran ahead of the clock would fire a later
/// insert early (see [`Wheel::advance_to_earliest`](crate::wheel::Wheel::advance_to_earliest)).
/// So each round takes the shard with the smallest lower bound
/// (`next_expiration`) and cascades it only up to the next-smallest bound of
/// the others (`limit`): every tick it passes is then at or before every
/// shard's earliest deadline. If its exact earliest is within `limit`, that
/// is the global earliest; otherwise its bound rose past `limit` and another
/// shard goes next. Every round either returns or cascades at least one
/// slot, so the loop ends.
fn advance_to_earliest(shards: &mut [MutexGuard<'_, Shard>]) -> Option<u64> {
    loop {
        let (_, first) = shards
            .iter()
            .enumerate()
            .filter_map(|(index, shard)| Some((shard.wheel.next_expiration()?, index)))
            .min()?;
        let limit = shards
            .iter()
            .enumerate()
            .filter(|&(index, _)| index != first)
            .filter_map(|(_, shard)| shard.wheel.next_expiration())
            .min()
            .unwrap_or(u64::MAX);
        if let Some(tick) = shards[first].wheel.advance_to_earliest_within(limit) {
            return Some(tick);
        }
    }
}
