//! One level of the hierarchical wheel: 64 slots and an occupancy bitmap.
//!
//! # Summary
//!
//! Level `n` divides time into slots of `64^n` ticks; its 64 slots together
//! span `64^(n+1)` ticks, aligned to a multiple of that span. An entry sits at
//! the lowest level whose span, aligned around the wheel's `elapsed` tick,
//! still contains its deadline; the slot is the level's 6-bit digit of the
//! deadline. So the level is a pure function of `elapsed ^ deadline`: the
//! position of the highest differing bit, divided by six.
//!
//! # Role
//!
//! [`Wheel`](super::Wheel) owns six levels and moves entries between them;
//! the level only owns the list heads and answers "which slot is next".
//!
//! # Invariants
//!
//! - INV-1: bit `s` of `occupied` is set iff `slots[s]` is non-empty.
//! - INV-2: every entry on this level lies in the same `64^(n+1)`-aligned span
//!   as the wheel's `elapsed` and in a slot strictly after `elapsed`'s slot, so
//!   scanning forward from `elapsed`'s slot never wraps.
//!
//! # Concurrency
//!
//! None: a plain value inside the wheel.

use super::arena::List;

/// log2 of the number of slots per level.
pub(crate) const SLOT_BITS: u32 = 6;
/// Slots per level: 64, so a level's occupancy fits one `u64` bitmap.
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// Mask of a slot digit.
const SLOT_MASK: u64 = (SLOTS as u64) - 1;
/// Number of levels: six levels of 64 slots at 125 us reach `64^6` ticks ≈ 99 days.
pub(crate) const NUM_LEVELS: usize = 6;
/// Ticks covered by the whole wheel: `64^NUM_LEVELS`. Deadlines in a later
/// span of this size than `elapsed` go to the overflow list.
pub(crate) const WHEEL_SPAN_TICKS: u64 = 1 << (SLOT_BITS as usize * NUM_LEVELS);

/// Ticks per slot at `level`: `64^level`.
pub(crate) fn slot_span(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

/// Ticks spanned by all 64 slots of `level`: `64^(level+1)`.
pub(crate) fn level_span(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * (level + 1))
}

/// The level an entry due at `tick` belongs on while the wheel is at
/// `elapsed`; `>= NUM_LEVELS` means "beyond reach" (overflow).
///
/// Requires `tick > elapsed`.
pub(crate) fn level_for(elapsed: u64, tick: u64) -> usize {
    debug_assert!(
        tick > elapsed,
        "level_for({elapsed}, {tick}): deadline is not in the future"
    );
    // OR-ing the slot mask makes the lowest answer level 0.
    let differing = (elapsed ^ tick) | SLOT_MASK;
    let highest_bit = 63 - differing.leading_zeros();
    (highest_bit / SLOT_BITS) as usize
}

/// The slot at `level` that holds deadlines at `tick`.
pub(crate) fn slot_for(level: usize, tick: u64) -> usize {
    ((tick >> (SLOT_BITS as usize * level)) & SLOT_MASK) as usize
}

/// One level: list heads and occupancy.
pub(crate) struct Level {
    level: usize,
    /// Bit `s` set iff `slots[s]` is non-empty (INV-1).
    occupied: u64,
    slots: [List; SLOTS],
}

impl Level {
    pub(crate) fn new(level: usize) -> Self {
        Level {
            level,
            occupied: 0,
            slots: [List::EMPTY; SLOTS],
        }
    }

    /// The list of `slot`; callers keep INV-1 through [`Level::sync_occupied`].
    pub(crate) fn slot_mut(&mut self, slot: usize) -> &mut List {
        &mut self.slots[slot]
    }

    /// Re-derives `slot`'s occupancy bit from its list (INV-1).
    pub(crate) fn sync_occupied(&mut self, slot: usize) {
        if self.slots[slot].is_empty() {
            self.occupied &= !(1 << slot);
        } else {
            self.occupied |= 1 << slot;
        }
    }

    /// Detaches the whole list of `slot`, leaving it empty.
    pub(crate) fn take_slot(&mut self, slot: usize) -> List {
        self.occupied &= !(1 << slot);
        std::mem::take(&mut self.slots[slot])
    }

    /// The first occupied slot at or after `elapsed`'s slot and the tick at
    /// which it starts, or `None` if the level is empty.
    pub(crate) fn next_occupied(&self, elapsed: u64) -> Option<(usize, u64)> {
        if self.occupied == 0 {
            return None;
        }
        let current = slot_for(self.level, elapsed);
        // INV-2: nothing is behind `current`, so no wrap-around search.
        let ahead = self.occupied & (u64::MAX << current);
        debug_assert_ne!(
            ahead, 0,
            "level {} has entries behind elapsed {elapsed}",
            self.level
        );
        let slot = ahead.trailing_zeros() as usize;
        let span_start = elapsed & !(level_span(self.level) - 1);
        Some((slot, span_start + slot as u64 * slot_span(self.level)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Table: (elapsed, tick, expected level).
    #[test]
    fn level_for_picks_the_lowest_level_whose_span_holds_the_deadline() {
        let cases: &[(u64, u64, usize)] = &[
            (0, 1, 0),
            (0, 63, 0),
            (0, 64, 1),
            (63, 64, 1),
            (64, 127, 0),
            (0, 4095, 1),
            (0, 4096, 2),
            (4095, 4096, 2),
            (0, (1 << 30) - 1, 4),
            (0, 1 << 30, 5),
            (0, WHEEL_SPAN_TICKS - 1, 5),
            (0, WHEEL_SPAN_TICKS, 6),
            (WHEEL_SPAN_TICKS - 1, WHEEL_SPAN_TICKS, 6),
            (0, u64::MAX, 10),
        ];
        for &(elapsed, tick, want) in cases {
            assert_eq!(
                level_for(elapsed, tick),
                want,
                "level_for({elapsed}, {tick})"
            );
        }
    }

    /// Table: (level, tick, expected slot).
    #[test]
    fn slot_for_takes_the_levels_six_bit_digit() {
        let cases: &[(usize, u64, usize)] = &[
            (0, 0, 0),
            (0, 63, 63),
            (0, 64, 0),
            (1, 64, 1),
            (1, 4095, 63),
            (2, 4096, 1),
            (5, WHEEL_SPAN_TICKS - 1, 63),
        ];
        for &(level, tick, want) in cases {
            assert_eq!(slot_for(level, tick), want, "slot_for({level}, {tick})");
        }
    }

    #[test]
    fn spans_grow_by_sixty_four_per_level() {
        for level in 0..NUM_LEVELS {
            assert_eq!(slot_span(level) * 64, level_span(level), "level {level}");
        }
        assert_eq!(level_span(NUM_LEVELS - 1), WHEEL_SPAN_TICKS);
        // 64^6 ms is about 2.18 years.
        assert_eq!(WHEEL_SPAN_TICKS / 1000 / 86_400, 795);
    }

    #[test]
    fn next_occupied_reports_the_first_slot_after_elapsed_with_its_start_tick() {
        let mut level = Level::new(1);
        assert_eq!(level.next_occupied(0), None);
        level.occupied = (1 << 5) | (1 << 9);
        // elapsed = 70 is in slot 1 of the span [0, 4096).
        assert_eq!(level.next_occupied(70), Some((5, 5 * 64)));
        // A later span: elapsed 4096 + 70.
        assert_eq!(level.next_occupied(4096 + 70), Some((5, 4096 + 5 * 64)));
        level.occupied = 1 << 9;
        assert_eq!(level.next_occupied(5 * 64 + 3), Some((9, 9 * 64)));
    }
}
