//! The hierarchical timer wheel: O(1) insert and cancel of deadlines counted
//! in ticks (1 tick = 125 us in the driver), and in-order expiry.
//!
//! # Summary
//!
//! Six levels (`level.rs`) of 64 slots. Level 0 has one slot per tick, level 1 one slot
//! per 64 ticks, ... level 5 one slot per `64^5` ticks, so the wheel reaches
//! `64^6` ticks (about 99 days at 125 us). An entry goes to the lowest level
//! whose span around `elapsed` contains its deadline (`level::level_for`).
//! When a slot of level `n > 0` comes due, its entries *cascade*: each is
//! re-inserted relative to the slot's start tick and so lands on a level below
//! `n`. Entries of a level-0 slot (and entries whose deadline equals the slot
//! start) are due; they move to the `expired` list, from which
//! [`Wheel::poll`] hands them out one at a time.
//!
//! Deadlines further than the top level can reach go to the `overflow` list
//! and are re-inserted when the wheel enters their `64^6`-tick span; they are
//! never dropped and never fire early. Deadlines at or before `elapsed` go
//! straight to `expired` and fire on the next poll.
//!
//! # Role
//!
//! A plain data structure, generic over the payload `T`. The time driver
//! (`crate::shared`) stores one waker per entry and drives it with
//! `poll(now_tick)`. Everything here is deterministic and tested against a
//! `BTreeMap` model (see the tests at the bottom).
//!
//! # Design
//!
//! Entries live in an arena (`arena.rs`) (a slab with generation-checked
//! [`Key`]s) and every slot is an intrusive doubly linked list threaded
//! through the arena by index. That gives O(1) insert, cancel and reschedule
//! without `unsafe` and without an allocation per timer beyond the arena's
//! amortised growth; see `arena.rs` for the alternatives (intrusive pinned
//! nodes, a `Vec` per slot) and why they were rejected. Finding the next due
//! slot is a `trailing_zeros` on each level's 64-bit occupancy map.
//!
//! # Invariants
//!
//! - INV-1: every entry on level `n` lies in the same `64^(n+1)` span as
//!   `elapsed` and in a slot after `elapsed`'s (level.rs INV-2); hence all of
//!   level `n`'s entries are due before all of level `n+1`'s.
//! - INV-2: every entry on `overflow` lies in a later `64^6` span than
//!   `elapsed`.
//! - INV-3: every entry on `expired` has `tick <= elapsed`.
//! - INV-4: `elapsed` never decreases.
//!
//! # Concurrency
//!
//! None: the driver keeps each wheel under the lock of its shard.
//!
//! # References
//!
//! G. Varghese and T. Lauck, "Hashed and Hierarchical Timing Wheels", 1987
//! (scheme 7); tokio's `runtime/time/wheel`.

mod arena;
mod level;

pub use arena::Key;
use arena::{Arena, List, ListId};
use level::{level_for, slot_for, Level, NUM_LEVELS, WHEEL_SPAN_TICKS};

/// The next thing [`Wheel::poll`] has to do, and the tick at which to do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiration {
    /// `expired` is not empty: due now.
    Expired,
    /// A slot of a level comes due at `tick` (its start).
    Slot {
        level: usize,
        slot: usize,
        tick: u64,
    },
    /// The wheel must enter the overflow span starting at `tick`.
    Overflow { tick: u64 },
}

/// A hierarchical timer wheel holding values of type `T` keyed by deadline tick.
///
/// # Examples
///
/// ```
/// use weft_timer::wheel::Wheel;
///
/// let mut wheel = Wheel::new();
/// wheel.insert(5_000, "five seconds");
/// let cancelled = wheel.insert(20, "cancelled");
/// wheel.insert(70, "seventy ms");
/// assert_eq!(wheel.remove(cancelled), Some("cancelled"));
///
/// assert_eq!(wheel.poll(69), None); // nothing due yet
/// assert_eq!(wheel.poll(100), Some("seventy ms"));
/// assert_eq!(wheel.poll(100), None);
/// assert_eq!(wheel.next_expiration(), Some(4_096)); // a lower bound: a level-2 slot
/// assert_eq!(wheel.poll(5_000), Some("five seconds"));
/// assert!(wheel.is_empty());
/// ```
pub struct Wheel<T> {
    arena: Arena<T>,
    levels: [Level; NUM_LEVELS],
    /// Due entries, in the order they came due (INV-3).
    expired: List,
    /// Entries beyond the top level's reach (INV-2).
    overflow: List,
    /// The tick up to which the wheel has been polled (INV-4).
    elapsed: u64,
}

impl<T> std::fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Wheel<T> {
    /// An empty wheel at tick 0.
    pub fn new() -> Self {
        Wheel {
            arena: Arena::new(),
            levels: std::array::from_fn(Level::new),
            expired: List::EMPTY,
            overflow: List::EMPTY,
            elapsed: 0,
        }
    }

    /// The tick up to which the wheel has been polled.
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of entries that have neither fired nor been removed.
    pub fn len(&self) -> usize {
        self.arena.len()
    }

    /// True when the wheel holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `value`, due at `tick`, in O(1). A tick at or before
    /// [`elapsed`](Wheel::elapsed) is due on the next [`poll`](Wheel::poll).
    pub fn insert(&mut self, tick: u64, value: T) -> Key {
        let (key, index) = self.arena.alloc(tick, value);
        self.link(index);
        key
    }

    /// Removes the entry `key` names in O(1); `None` if it already fired or
    /// was removed.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let index = self.arena.resolve(key)?;
        self.unlink(index);
        Some(self.arena.free(index))
    }

    /// Adds `value` as a held entry: live, with a key, but on no list, so it
    /// is never due and no slot or [`next_expiration`](Wheel::next_expiration)
    /// sees it, until [`reschedule`](Wheel::reschedule) gives it a deadline.
    /// For a deadline too far away to ever come (a `Sleep` of
    /// `Duration::MAX`), whose value must still be kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_timer::wheel::Wheel;
    ///
    /// let mut wheel = Wheel::new();
    /// let key = wheel.hold("later");
    /// assert_eq!(wheel.next_expiration(), None);
    /// assert_eq!(wheel.poll(u64::MAX), None);
    /// assert!(wheel.reschedule(key, 10));
    /// assert_eq!(wheel.poll(10), Some("later"));
    /// ```
    pub fn hold(&mut self, value: T) -> Key {
        let (key, index) = self.arena.alloc(u64::MAX, value);
        self.arena.set_held(index);
        key
    }

    /// Takes a pending entry off its list and holds it (see
    /// [`hold`](Wheel::hold)), keeping its key and value. Returns false (and
    /// does nothing) if the entry already fired or was removed.
    pub fn hold_existing(&mut self, key: Key) -> bool {
        let Some(index) = self.arena.resolve(key) else {
            return false;
        };
        self.unlink(index);
        self.arena.set_tick(index, u64::MAX);
        self.arena.set_held(index);
        true
    }

    /// The value of a pending entry, `None` if it already fired or was removed.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        let index = self.arena.resolve(key)?;
        Some(self.arena.value_mut(index))
    }

    /// Moves a pending entry to a new deadline in O(1), keeping its key.
    /// Returns false (and does nothing) if the entry already fired or was removed.
    pub fn reschedule(&mut self, key: Key, tick: u64) -> bool {
        let Some(index) = self.arena.resolve(key) else {
            return false;
        };
        self.unlink(index);
        self.arena.set_tick(index, tick);
        self.link(index);
        true
    }

    /// A lower bound on the tick of the earliest pending entry: `poll(t)` for
    /// any `t` below it returns `None`. Exact when that entry is on level 0 or
    /// already due; otherwise the start of the slot that holds it. `None` when
    /// the wheel is empty.
    pub fn next_expiration(&self) -> Option<u64> {
        self.next_expiration_step().map(|step| match step {
            Expiration::Expired => self.elapsed,
            Expiration::Slot { tick, .. } | Expiration::Overflow { tick } => tick,
        })
    }

    /// Takes the next entry due at or before `now`, cascading higher slots as
    /// it goes. Once nothing more is due it moves `elapsed` to `now` and
    /// returns `None`. A `now` below `elapsed` counts as `elapsed`.
    ///
    /// Entries come out in deadline order, except that entries inserted with
    /// a deadline already at or before `elapsed` come out first, in insertion
    /// order.
    pub fn poll(&mut self, now: u64) -> Option<T> {
        let now = now.max(self.elapsed);
        loop {
            if let Some(index) = self.arena.pop_front(&mut self.expired) {
                return Some(self.arena.free(index));
            }
            match self.next_expiration_step() {
                Some(step) if self.step_tick(step) <= now => self.process(step),
                _ => {
                    self.elapsed = now;
                    return None;
                }
            }
        }
    }

    /// Moves the wheel forward to the earliest pending deadline, cascading on
    /// the way but firing nothing, and returns that exact deadline.
    ///
    /// For a paused clock about to jump to that deadline: afterwards
    /// `elapsed` may be ahead of the caller's clock, so it is only correct if
    /// the clock is moved to the returned tick before the next `insert`.
    pub fn advance_to_earliest(&mut self) -> Option<u64> {
        self.advance_to_earliest_within(u64::MAX)
    }

    /// [`advance_to_earliest`](Wheel::advance_to_earliest), but cascading
    /// only slots that start at or before `limit`, so `elapsed` never passes
    /// `limit`: returns the exact earliest deadline if it is at or before
    /// `limit`, else `None` (with [`next_expiration`](Wheel::next_expiration)
    /// now above `limit`).
    ///
    /// For several wheels that must jump to their common earliest deadline
    /// (the driver's shards): none may run ahead of that deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_timer::wheel::Wheel;
    ///
    /// let mut wheel = Wheel::new();
    /// wheel.insert(5_000, ());
    /// assert_eq!(wheel.advance_to_earliest_within(1_000), None);
    /// assert!(wheel.elapsed() <= 1_000);
    /// assert_eq!(wheel.advance_to_earliest_within(5_000), Some(5_000));
    /// ```
    pub fn advance_to_earliest_within(&mut self, limit: u64) -> Option<u64> {
        loop {
            let step = self.next_expiration_step()?;
            if self.step_tick(step) > limit {
                return None;
            }
            match step {
                Expiration::Expired => return Some(self.elapsed),
                Expiration::Slot { level: 0, tick, .. } => return Some(tick),
                step => self.process(step),
            }
        }
    }

    fn step_tick(&self, step: Expiration) -> u64 {
        match step {
            Expiration::Expired => self.elapsed,
            Expiration::Slot { tick, .. } | Expiration::Overflow { tick } => tick,
        }
    }

    fn next_expiration_step(&self) -> Option<Expiration> {
        if !self.expired.is_empty() {
            return Some(Expiration::Expired);
        }
        // INV-1: the first non-empty level holds the earliest entries.
        for (level, slots) in self.levels.iter().enumerate() {
            if let Some((slot, tick)) = slots.next_occupied(self.elapsed) {
                return Some(Expiration::Slot { level, slot, tick });
            }
        }
        if self.overflow.is_empty() {
            return None;
        }
        // Rare (deadlines over 99 days out), so a scan is acceptable.
        let mut earliest = u64::MAX;
        self.arena
            .for_each_tick(&self.overflow, |tick| earliest = earliest.min(tick));
        Some(Expiration::Overflow {
            tick: earliest & !(WHEEL_SPAN_TICKS - 1),
        })
    }

    /// Advances `elapsed` to the step's tick and redistributes its entries:
    /// those due move to `expired`, the rest are re-linked lower down.
    fn process(&mut self, step: Expiration) {
        let mut list = match step {
            Expiration::Expired => return,
            Expiration::Slot { level, slot, tick } => {
                self.set_elapsed(tick);
                self.levels[level].take_slot(slot)
            }
            Expiration::Overflow { tick } => {
                self.set_elapsed(tick);
                std::mem::take(&mut self.overflow)
            }
        };
        while let Some(index) = self.arena.pop_front(&mut list) {
            // `link` sends `tick <= elapsed` to `expired` and the rest to a
            // lower level (INV-1) or back to `overflow` (INV-2).
            self.link(index);
        }
    }

    fn set_elapsed(&mut self, tick: u64) {
        debug_assert!(
            tick >= self.elapsed,
            "wheel time moved back from {} to {tick}",
            self.elapsed
        );
        self.elapsed = tick;
    }

    /// Puts an unlinked live node on the list its tick belongs to.
    fn link(&mut self, index: u32) {
        let tick = self.arena.tick(index);
        if tick <= self.elapsed {
            self.arena
                .push_back(&mut self.expired, ListId::Expired, index);
            return;
        }
        let level = level_for(self.elapsed, tick);
        if level >= NUM_LEVELS {
            self.arena
                .push_back(&mut self.overflow, ListId::Overflow, index);
            return;
        }
        let slot = slot_for(level, tick);
        let id = ListId::Slot {
            level: u8::try_from(level).expect("six levels"),
            slot: u8::try_from(slot).expect("64 slots"),
        };
        self.arena
            .push_back(self.levels[level].slot_mut(slot), id, index);
        self.levels[level].sync_occupied(slot);
    }

    /// Takes a live node off whatever list it is on (a held one is on none).
    fn unlink(&mut self, index: u32) {
        match self.arena.list_of(index) {
            ListId::Held => {}
            ListId::Expired => self.arena.unlink(&mut self.expired, index),
            ListId::Overflow => self.arena.unlink(&mut self.overflow, index),
            ListId::Slot { level, slot } => {
                let (level, slot) = (usize::from(level), usize::from(slot));
                self.arena.unlink(self.levels[level].slot_mut(slot), index);
                self.levels[level].sync_occupied(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests;
