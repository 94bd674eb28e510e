//! Unit tests of the wheel, and a property test against a `BTreeMap` model.

use super::level::WHEEL_SPAN_TICKS;
use super::*;
use std::collections::BTreeMap;

/// Polls everything due at `now`, returning the values in firing order.
fn drain(wheel: &mut Wheel<u64>, now: u64) -> Vec<u64> {
    std::iter::from_fn(|| wheel.poll(now)).collect()
}

/// Table: one entry at `tick`; polling at `tick - 1` fires nothing, at `tick`
/// fires it, whichever level (or overflow) it starts on.
#[test]
fn an_entry_fires_exactly_at_its_tick_from_every_level() {
    let ticks = [
        1,
        5,
        63,
        64,
        65,
        4095,
        4096,
        4097,
        1 << 24,
        (1 << 30) + 17,
        WHEEL_SPAN_TICKS - 1,
        WHEEL_SPAN_TICKS,
        WHEEL_SPAN_TICKS + 5,
        3 * WHEEL_SPAN_TICKS + 12345,
    ];
    for tick in ticks {
        let mut wheel = Wheel::new();
        wheel.insert(tick, tick);
        assert_eq!(
            drain(&mut wheel, tick - 1),
            Vec::<u64>::new(),
            "tick {tick} fired early"
        );
        assert!(
            wheel.next_expiration().is_some_and(|at| at <= tick),
            "tick {tick}"
        );
        assert_eq!(
            drain(&mut wheel, tick),
            vec![tick],
            "tick {tick} did not fire on time"
        );
        assert!(wheel.is_empty(), "tick {tick}");
        assert_eq!(wheel.elapsed(), tick);
    }
}

#[test]
fn deadlines_in_the_past_fire_on_the_next_poll() {
    let mut wheel = Wheel::new();
    assert_eq!(drain(&mut wheel, 100), Vec::<u64>::new());
    wheel.insert(3, 3);
    wheel.insert(100, 100);
    wheel.insert(0, 0);
    assert_eq!(wheel.next_expiration(), Some(100));
    // A poll at a tick before `elapsed` still fires them.
    assert_eq!(drain(&mut wheel, 50), vec![3, 100, 0]);
}

#[test]
fn entries_fire_in_deadline_order_across_levels() {
    let mut wheel = Wheel::new();
    let ticks = [9000u64, 5, 70, 4096, 64, 1, 300_000, 65];
    for tick in ticks {
        wheel.insert(tick, tick);
    }
    let mut sorted = ticks.to_vec();
    sorted.sort_unstable();
    assert_eq!(drain(&mut wheel, 1_000_000), sorted);
}

#[test]
fn entries_with_the_same_tick_fire_in_insertion_order() {
    let mut wheel = Wheel::new();
    for value in 0..10 {
        wheel.insert(5000, value);
    }
    assert_eq!(drain(&mut wheel, 5000), (0..10).collect::<Vec<_>>());
}

#[test]
fn removed_entries_never_fire_and_their_keys_go_stale() {
    let mut wheel = Wheel::new();
    let keep = wheel.insert(10, 1);
    let gone = wheel.insert(10, 2);
    assert_eq!(wheel.remove(gone), Some(2));
    assert_eq!(wheel.remove(gone), None);
    assert_eq!(drain(&mut wheel, 10), vec![1]);
    // A fired key is stale too, even after its node is reused.
    let reused = wheel.insert(20, 3);
    assert_eq!(wheel.remove(keep), None);
    assert_eq!(wheel.get_mut(keep), None);
    assert!(!wheel.reschedule(keep, 30));
    assert_eq!(wheel.get_mut(reused), Some(&mut 3));
}

#[test]
fn reschedule_moves_an_entry_earlier_or_later_keeping_its_key() {
    let mut wheel = Wheel::new();
    let key = wheel.insert(100_000, 7);
    assert!(wheel.reschedule(key, 50));
    assert_eq!(wheel.next_expiration(), Some(50));
    assert!(wheel.reschedule(key, 70));
    assert_eq!(drain(&mut wheel, 69), Vec::<u64>::new());
    assert_eq!(drain(&mut wheel, 70), vec![7]);
}

#[test]
fn advance_to_earliest_finds_the_exact_deadline_through_cascades() {
    let mut wheel = Wheel::new();
    wheel.insert(5000, 1);
    wheel.insert(2 * WHEEL_SPAN_TICKS + 77, 2);
    assert_eq!(
        wheel.next_expiration(),
        Some(4096),
        "a lower bound: the level-2 slot start"
    );
    assert_eq!(wheel.advance_to_earliest(), Some(5000));
    assert_eq!(drain(&mut wheel, 5000), vec![1]);
    assert_eq!(wheel.advance_to_earliest(), Some(2 * WHEEL_SPAN_TICKS + 77));
    assert_eq!(drain(&mut wheel, 2 * WHEEL_SPAN_TICKS + 77), vec![2]);
    assert_eq!(wheel.advance_to_earliest(), None);
}

/// Table: (deadline, limit, expected answer). Whatever the answer, the
/// wheel never moves past `limit`, and the entry still fires at its tick.
#[test]
fn advance_to_earliest_within_never_moves_past_its_limit() {
    let table: [(u64, u64, Option<u64>); 7] = [
        (40, 39, None),
        (40, 40, Some(40)),
        (5000, 1000, None),
        (5000, 4096, None),
        (5000, 4999, None),
        (5000, 5000, Some(5000)),
        (
            2 * WHEEL_SPAN_TICKS + 77,
            u64::MAX,
            Some(2 * WHEEL_SPAN_TICKS + 77),
        ),
    ];
    for (tick, limit, expected) in table {
        let mut wheel = Wheel::new();
        wheel.insert(tick, tick);
        assert_eq!(
            wheel.advance_to_earliest_within(limit),
            expected,
            "deadline {tick}, limit {limit}"
        );
        assert!(
            wheel.elapsed() <= limit,
            "deadline {tick}, limit {limit}: elapsed {} ran past the limit",
            wheel.elapsed()
        );
        if expected.is_none() {
            assert!(
                wheel.next_expiration() > Some(limit),
                "deadline {tick}, limit {limit}"
            );
        }
        assert_eq!(
            drain(&mut wheel, tick - 1),
            Vec::<u64>::new(),
            "deadline {tick}"
        );
        assert_eq!(drain(&mut wheel, tick), vec![tick], "deadline {tick}");
    }
}

#[test]
fn the_farthest_tick_is_held_not_dropped() {
    let mut wheel = Wheel::new();
    wheel.insert(u64::MAX, 1);
    assert_eq!(drain(&mut wheel, u64::MAX - 1), Vec::<u64>::new());
    assert_eq!(wheel.len(), 1);
    assert_eq!(drain(&mut wheel, u64::MAX), vec![1]);
}

/// A small xorshift64* generator: deterministic, no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// A distance drawn from scales that exercise every level and overflow.
    fn distance(&mut self) -> u64 {
        const SCALES: [u64; 7] = [4, 64, 4096, 1 << 18, 1 << 30, 1 << 36, 1 << 40];
        let scale = SCALES[self.below(SCALES.len() as u64) as usize];
        self.below(scale)
    }
}

/// Runs one random sequence of insert / remove / reschedule / poll against a
/// `BTreeMap` model; every poll must fire the same entries, in tick order.
fn run_model(seed: u64, steps: usize) {
    let mut rng = XorShift(seed);
    let mut wheel: Wheel<u64> = Wheel::new();
    let mut model: BTreeMap<u64, u64> = BTreeMap::new(); // id -> tick
    let mut keys: BTreeMap<u64, Key> = BTreeMap::new();
    let mut now = 0u64;
    let mut next_id = 0u64;
    for step in 0..steps {
        match rng.below(10) {
            0..=3 => {
                // Deadlines slightly in the past happen too.
                let tick = (now + rng.distance()).saturating_sub(rng.below(3));
                keys.insert(next_id, wheel.insert(tick, next_id));
                model.insert(next_id, tick);
                next_id += 1;
            }
            4 | 5 if !model.is_empty() => {
                let id = *model
                    .keys()
                    .nth(rng.below(model.len() as u64) as usize)
                    .unwrap();
                if rng.below(2) == 0 {
                    assert_eq!(wheel.remove(keys[&id]), Some(id), "seed {seed} step {step}");
                    model.remove(&id);
                } else {
                    let tick = now + rng.distance();
                    assert!(wheel.reschedule(keys[&id], tick), "seed {seed} step {step}");
                    model.insert(id, tick);
                }
            }
            _ => {
                now += rng.distance() / 8;
                let start = wheel.elapsed();
                let fired = drain(&mut wheel, now);
                let mut want: Vec<u64> = model
                    .iter()
                    .filter(|(_, &t)| t <= now)
                    .map(|(&id, _)| id)
                    .collect();
                let mut got = fired.clone();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(
                    got, want,
                    "seed {seed} step {step}: poll({now}) fired the wrong set"
                );
                let order: Vec<u64> = fired.iter().map(|id| model[id].max(start)).collect();
                assert!(
                    order.windows(2).all(|w| w[0] <= w[1]),
                    "seed {seed} step {step}: out of order {order:?}"
                );
                for id in fired {
                    model.remove(&id);
                    keys.remove(&id);
                }
                let earliest = model.values().min().copied();
                let bound = wheel.next_expiration();
                assert_eq!(
                    bound.is_some(),
                    earliest.is_some(),
                    "seed {seed} step {step}"
                );
                if let (Some(bound), Some(earliest)) = (bound, earliest) {
                    assert!(
                        bound <= earliest && bound > now,
                        "seed {seed} step {step}: bound {bound}, earliest {earliest}, now {now}"
                    );
                }
            }
        }
        assert_eq!(wheel.len(), model.len(), "seed {seed} step {step}");
    }
}

#[test]
fn random_operations_fire_the_same_entries_at_the_same_ticks_as_a_btreemap() {
    const SEEDS: u64 = 64;
    const STEPS: usize = 2_000;
    for seed in 1..=SEEDS {
        run_model(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), STEPS);
    }
}

/// A held entry is live (its key resolves, its value is reachable and
/// removable) but on no list: nothing is due, and no expiration is seen,
/// until a reschedule gives it a deadline.
#[test]
fn held_entries_are_live_but_never_due_until_rescheduled() {
    let mut wheel = Wheel::new();
    let due = wheel.insert(64, "due");
    let held = wheel.hold("held");
    assert!(wheel.hold_existing(due));
    assert_eq!(wheel.len(), 2);
    assert_eq!(wheel.next_expiration(), None);
    assert_eq!(wheel.poll(u64::MAX / 2), None);
    assert_eq!(wheel.get_mut(held).copied(), Some("held"));
    assert_eq!(wheel.remove(held), Some("held"));
    assert!(wheel.reschedule(due, wheel.elapsed() + 3));
    assert_eq!(wheel.poll(wheel.elapsed() + 3), Some("due"));
    assert!(!wheel.hold_existing(due), "a fired entry cannot be held");
    assert!(wheel.is_empty());
}

/// The marker keys a `Sleep` keeps for "no entry" never resolve.
#[test]
fn marker_keys_never_resolve() {
    let mut wheel = Wheel::new();
    for _ in 0..3 {
        let key = wheel.insert(1, ());
        wheel.remove(key);
    }
    for marker in Key::MARKERS {
        assert_eq!(wheel.get_mut(marker), None);
        assert!(!wheel.reschedule(marker, 5));
        assert_eq!(wheel.remove(marker), None);
    }
}
