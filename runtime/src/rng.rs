//! Summary: a small, seedable pseudo-random generator for the scheduler's
//! random choices (which victim to steal from first).
//!
//! Role: each worker owns one `FastRand`, seeded from `Builder::rng_seed`
//! (so a run's choices can be replayed) or from the OS-seeded `RandomState`;
//! an explored schedule draws every choice from one (`explore/strategy.rs`).
//!
//! Design: xorshift64* — a few instructions per draw, plenty for spreading
//! steals; not for anything security-related. A shared generator would make
//! workers contend on every steal.
//!
//! Invariants: the state is never zero (xorshift's fixed point).
//!
//! Concurrency: owned by one thread.
//!
//! References: Vigna, "An experimental exploration of Marsaglia's xorshift
//! generators, scrambled" (2016).

use std::hash::{BuildHasher, Hasher};

/// Multiplier of xorshift64* (Vigna 2016).
const XORSHIFT_MULTIPLIER: u64 = 0x2545_F491_4F6C_DD1D;
/// Spreads per-worker seeds apart (2^64 / golden ratio, as in SplitMix64).
const SEED_SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

pub(crate) struct FastRand {
    state: u64,
}

impl FastRand {
    /// The generator for worker `index`: from `seed` if given, else random.
    pub(crate) fn for_worker(seed: Option<u64>, index: usize) -> FastRand {
        let base = seed.unwrap_or_else(|| {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        });
        let state = base ^ SEED_SPREAD.wrapping_mul(index as u64 + 1);
        FastRand {
            state: if state == 0 { SEED_SPREAD } else { state },
        }
    }

    /// The generator of one explored schedule (`explore/strategy.rs`).
    /// The seed is scrambled first (SplitMix64's finaliser), so neighbouring
    /// seeds 0, 1, 2, ... give unrelated sequences: xorshift's first outputs
    /// from two states one bit apart are strongly correlated.
    pub(crate) fn from_seed(seed: u64) -> FastRand {
        let mut z = seed.wrapping_add(SEED_SPREAD);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        FastRand {
            state: if z == 0 { SEED_SPREAD } else { z },
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(XORSHIFT_MULTIPLIER)
    }

    /// A number in `0..bound` (`bound > 0`), by Lemire's multiply-shift.
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        debug_assert!(bound > 0);
        ((u128::from(self.next_u64() >> 32) * bound as u128) >> 32) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_in_bounds() {
        let mut a = FastRand::for_worker(Some(7), 1);
        let mut b = FastRand::for_worker(Some(7), 1);
        for bound in [1, 2, 3, 10, 1000] {
            let (x, y) = (a.below(bound), b.below(bound));
            assert_eq!(x, y, "bound = {bound}");
            assert!(x < bound, "below({bound}) gave {x}");
        }
    }
}
