//! The clock a scope's caches read: the machine's wall clock, or a simulated one that only its
//! owner moves (tests, replays). Invariant: every cache of a scope reads the same clock.

use faas_cache::{Clock, ManualClock, SystemClock, Time};

/// A scope's clock.
#[derive(Debug, Clone, Default)]
pub enum ScopeClock {
    /// The machine's wall clock.
    #[default]
    System,
    /// A simulated clock; clones share its time.
    Manual(ManualClock),
}

impl Clock for ScopeClock {
    fn now(&self) -> Time {
        match self {
            ScopeClock::System => SystemClock.now(),
            ScopeClock::Manual(clock) => clock.now(),
        }
    }
}
