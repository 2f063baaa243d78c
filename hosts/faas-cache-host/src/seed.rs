//! The `wasi:random/insecure-seed` answer: the seed of the guest's key hashing. Invariant: a
//! random seed is fresh per store (hash flooding needs a seed the client cannot guess); a fixed
//! seed makes a run reproducible.

use std::hash::BuildHasher;

/// What a guest's `insecure-seed` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// Drawn from the process's `RandomState` once per store.
    #[default]
    Random,
    /// The same two words every time.
    Fixed(u64, u64),
}

/// The fixed seed the tests use.
pub const TEST_SEED: Seed = Seed::Fixed(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);

impl Seed {
    /// The seed's two words; `Random` draws new ones.
    pub fn draw(self) -> (u64, u64) {
        match self {
            Seed::Fixed(a, b) => (a, b),
            Seed::Random => {
                let state = std::collections::hash_map::RandomState::new();
                (state.hash_one(1u64), state.hash_one(2u64))
            }
        }
    }

    /// This seed as fixed words: `Random` draws once, so later reads agree.
    pub fn fixed(self) -> Seed {
        let (a, b) = self.draw();
        Seed::Fixed(a, b)
    }
}
