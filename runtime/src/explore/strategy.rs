//! Summary: the two schedule strategies of explore mode, and the
//! [`Chooser`] that applies one: given the keys of the runnable tasks at a
//! step, which one runs next.
//!
//! Role: the explore drive loop (`scheduler/explore.rs`) calls
//! [`Chooser::choose`] once per step with the candidates in a deterministic
//! order; `explore::run` reads [`Chooser::steps`] and [`Chooser::trace`]
//! when the run ends.
//!
//! Design: a candidate is named by a key (its per-run task id; the future
//! given to `block_on` is key 0), never by an address, so a choice depends
//! only on the seed, the strategy and what the program did (EXP-1).
//!
//! - [`Strategy::Random`] picks uniformly among the candidates at every
//!   step: cheap, and good at bugs that need a few unlikely choices
//!   anywhere in the run.
//! - [`Strategy::Pct`] is Probabilistic Concurrency Testing (Burckhardt et
//!   al.): each task gets a random priority when first seen, the runnable
//!   task of highest priority always runs, and at `depth - 1` steps drawn
//!   uniformly from the run's length the running task drops below every
//!   other. A bug that needs `d` ordering constraints ("A before B, then C
//!   before D") is then found with probability at least `1 / (n k^(d-1))`
//!   per run, for `n` tasks and `k` steps; uniform random can be
//!   exponentially worse, because it keeps switching and almost never lets
//!   one task run a long stretch alone.
//!
//! Rejected: a priority queue for PCT (the pool is scanned once per step,
//! which is cheap at the sizes explored and needs no re-heap when a
//! priority drops); drawing PCT's change points lazily with a per-step
//! probability (their distribution then depends on the guess of the run's
//! length at every step, and the paper's bound needs them uniform over the
//! run). The run length `k` is measured instead (`explore::run`).
//!
//! Invariants:
//! - EXP-1: a choice depends only on the seed, the strategy, the horizon
//!   and the sequence of candidate lists given so far; no clock, address or
//!   thread identity enters it.
//! - EXP-2: the trace hash folds in the key of every choice, in order; two
//!   runs with the same seed and the same hash and step count polled the
//!   same tasks in the same order (up to hash collisions).
//! - EXP-3: under PCT, initial priorities have the top bit set and lowered
//!   ones are below `depth`, so a lowered task is behind every task not yet
//!   lowered; 0 means "no priority drawn yet".
//!
//! Concurrency: a `Chooser` is owned by the thread driving the run.
//!
//! References: Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized
//! Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010.

use crate::rng::FastRand;
use std::fmt;

/// How explore mode chooses the next task to run.
///
/// ```
/// use weft_runtime::explore::Strategy;
/// assert_eq!(Strategy::default(), Strategy::Random);
/// assert_eq!(Strategy::Pct { depth: 3 }.to_string(), "pct (depth 3)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Every step picks uniformly among the runnable tasks (the default).
    #[default]
    Random,
    /// Probabilistic Concurrency Testing: random task priorities and
    /// `depth - 1` random points where the running task's priority drops.
    /// Finds a bug of depth `depth` (that many ordering constraints) with
    /// probability at least `1 / (n k^(depth-1))` per seed, for `n` tasks
    /// and `k` steps. `depth` must be at least 1.
    Pct {
        /// The bug depth aimed for; 1, 2 or 3 catches most real bugs.
        depth: u32,
    },
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Random => f.write_str("random"),
            Strategy::Pct { depth } => write!(f, "pct (depth {depth})"),
        }
    }
}

/// Multiplier of the trace hash's mixing step (FxHash's, 2^64 / pi).
const TRACE_MULTIPLIER: u64 = 0x517C_C1B7_2722_0A95;

/// Makes the choices of one explored run (see the module doc).
pub(crate) struct Chooser {
    rng: FastRand,
    pct: Option<Pct>,
    steps: u64,
    trace: u64,
}

/// PCT's state: a priority per key and the steps where one drops.
struct Pct {
    depth: u32,
    /// Indexed by key (EXP-3: 0 = not drawn yet). Keys are per-run task
    /// ids, so the vector stays as long as the run's task count.
    priorities: Vec<u64>,
    /// Ascending; `changed` of them have been applied.
    change_points: Vec<u64>,
    changed: usize,
}

impl Chooser {
    /// A chooser for `seed`. `horizon` is the expected number of steps of
    /// the run; PCT draws its change points below it.
    ///
    /// # Panics
    ///
    /// Panics if `strategy` is `Pct { depth: 0 }`.
    pub(crate) fn new(seed: u64, strategy: Strategy, horizon: u64) -> Chooser {
        let mut rng = FastRand::from_seed(seed);
        let pct = match strategy {
            Strategy::Random => None,
            Strategy::Pct { depth } => {
                assert!(
                    depth >= 1,
                    "Strategy::Pct needs a depth of at least 1, got 0 (depth 1 is priorities alone, no change point)"
                );
                let horizon = horizon.max(1);
                let mut change_points: Vec<u64> =
                    (1..depth).map(|_| rng.next_u64() % horizon).collect();
                change_points.sort_unstable();
                Some(Pct {
                    depth,
                    priorities: Vec::new(),
                    change_points,
                    changed: 0,
                })
            }
        };
        Chooser {
            rng,
            pct,
            steps: 0,
            trace: 0,
        }
    }

    /// Picks one of `candidates` (keys, in a deterministic order) and
    /// returns its index; records the choice in the trace (EXP-2).
    pub(crate) fn choose(&mut self, candidates: &[u64]) -> usize {
        debug_assert!(!candidates.is_empty(), "choose needs a candidate");
        let index = match &mut self.pct {
            None => self.rng.below(candidates.len()),
            Some(pct) => pct.choose(&mut self.rng, self.steps, candidates),
        };
        self.steps += 1;
        self.trace = (self.trace.rotate_left(5) ^ candidates[index]).wrapping_mul(TRACE_MULTIPLIER);
        index
    }

    /// How many choices were made.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// The hash of the keys chosen so far, in order (EXP-2).
    pub(crate) fn trace(&self) -> u64 {
        self.trace
    }
}

impl Pct {
    fn choose(&mut self, rng: &mut FastRand, step: u64, candidates: &[u64]) -> usize {
        for &key in candidates {
            let key = usize::try_from(key).expect("explore task ids are small");
            if key >= self.priorities.len() {
                self.priorities.resize(key + 1, 0);
            }
            if self.priorities[key] == 0 {
                // EXP-3: top bit set, so above every lowered priority.
                self.priorities[key] = rng.next_u64() | (1 << 63);
            }
        }
        let mut best = self.highest(candidates);
        while self.change_points.get(self.changed) == Some(&step) {
            // The paper's i-th change point sets priority d - i: later
            // change points push lower still (EXP-3).
            let lowered = u64::from(self.depth) - 1 - self.changed as u64;
            self.priorities[candidates[best] as usize] = lowered;
            self.changed += 1;
            best = self.highest(candidates);
        }
        best
    }

    /// The index of the candidate of highest priority; a tie (two equal
    /// 63-bit draws) goes to the smaller key, so it is deterministic too.
    fn highest(&self, candidates: &[u64]) -> usize {
        let mut best = 0;
        for (index, &key) in candidates.iter().enumerate().skip(1) {
            let (priority, best_priority) = (
                self.priorities[key as usize],
                self.priorities[candidates[best] as usize],
            );
            if priority > best_priority || (priority == best_priority && key < candidates[best]) {
                best = index;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(seed: u64, strategy: Strategy, candidates: &[u64], steps: usize) -> Vec<usize> {
        let mut chooser = Chooser::new(seed, strategy, steps as u64);
        (0..steps).map(|_| chooser.choose(candidates)).collect()
    }

    #[test]
    fn same_seed_same_choices_and_trace() {
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let candidates = [0, 1, 2, 3, 4];
            assert_eq!(
                choices(9, strategy, &candidates, 50),
                choices(9, strategy, &candidates, 50),
                "{strategy}"
            );
            let mut a = Chooser::new(9, strategy, 50);
            let mut b = Chooser::new(9, strategy, 50);
            for _ in 0..50 {
                a.choose(&candidates);
                b.choose(&candidates);
            }
            assert_eq!((a.steps(), a.trace()), (b.steps(), b.trace()), "{strategy}");
        }
    }

    #[test]
    fn random_reaches_every_candidate_and_seeds_differ() {
        let picked = choices(1, Strategy::Random, &[5, 6, 7], 300);
        for index in 0..3 {
            assert!(
                picked.contains(&index),
                "index {index} never chosen: {picked:?}"
            );
        }
        assert_ne!(picked, choices(2, Strategy::Random, &[5, 6, 7], 300));
    }

    #[test]
    fn pct_depth_one_keeps_running_the_same_task() {
        for seed in 0..20 {
            let picked = choices(seed, Strategy::Pct { depth: 1 }, &[0, 1, 2, 3], 40);
            assert!(
                picked.iter().all(|&i| i == picked[0]),
                "seed {seed}: {picked:?}"
            );
        }
    }

    #[test]
    fn pct_change_point_moves_the_running_task_behind_the_rest() {
        // Depth 2: one change point below the horizon; before it one task
        // runs every step, from it on another one does.
        for seed in 0..20 {
            let mut chooser = Chooser::new(seed, Strategy::Pct { depth: 2 }, 10);
            let picked: Vec<usize> = (0..10).map(|_| chooser.choose(&[1, 2, 3])).collect();
            let change = chooser.pct.as_ref().map(|pct| pct.change_points[0]);
            let change = change.expect("pct state") as usize;
            let (before, after) = picked.split_at(change);
            assert!(
                before.iter().all(|&i| i == picked[0]),
                "seed {seed}: {picked:?}"
            );
            assert!(
                after.iter().all(|&i| i == after[0]),
                "seed {seed}: {picked:?}"
            );
            if change > 0 {
                assert_ne!(
                    before[0], after[0],
                    "seed {seed}: {picked:?} (change at {change})"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "depth of at least 1")]
    fn pct_depth_zero_is_refused() {
        Chooser::new(0, Strategy::Pct { depth: 0 }, 10);
    }
}
