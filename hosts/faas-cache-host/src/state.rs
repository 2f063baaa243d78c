//! The store data of one guest: its clock, its seed and its memory limiter, and the imports of
//! the `cache-component` world served from them. Invariant: the guest sees only what this state
//! holds; every read of an import is counted, so tests can check how often the guest asks.

use crate::bindings::wasi;
use crate::bindings::wasi::clocks::wall_clock::Datetime;
use crate::clock::Clock;
use crate::limits::MemoryLimiter;
use crate::seed::Seed;

/// What the host gives one guest instance.
pub struct HostState {
    /// The guest's wall clock.
    pub clock: Clock,
    /// The guest's hash seed.
    pub seed: Seed,
    /// The cap on the guest's linear memory, and its gauge.
    pub memory: MemoryLimiter,
    /// How many times the guest read the clock.
    pub clock_reads: u64,
    /// How many times the guest asked for the seed.
    pub seed_reads: u64,
}

impl HostState {
    /// State with `clock`, a seed fixed now from `seed`, and a memory cap of `memory_cap` bytes.
    pub fn new(clock: Clock, seed: Seed, memory_cap: Option<usize>) -> HostState {
        HostState {
            clock,
            seed: seed.fixed(),
            memory: MemoryLimiter::new(memory_cap),
            clock_reads: 0,
            seed_reads: 0,
        }
    }
}

impl wasi::clocks::wall_clock::Host for HostState {
    fn now(&mut self) -> Datetime {
        self.clock_reads += 1;
        let (seconds, nanoseconds) = self.clock.seconds_and_nanos();
        Datetime {
            seconds,
            nanoseconds,
        }
    }

    fn resolution(&mut self) -> Datetime {
        Datetime {
            seconds: 0,
            nanoseconds: 1,
        }
    }
}

impl wasi::random::insecure_seed::Host for HostState {
    fn insecure_seed(&mut self) -> (u64, u64) {
        self.seed_reads += 1;
        self.seed.draw()
    }
}
