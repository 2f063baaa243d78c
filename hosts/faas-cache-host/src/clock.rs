//! Where a guest's `wasi:clocks/wall-clock` reads come from: the machine's clock, or a simulated
//! one that only the host moves (tests, replays). Invariant: a simulated clock never goes below
//! the epoch, and it moves only when the host says so.

use std::time::{SystemTime, UNIX_EPOCH};

/// The instant simulated clocks start at by default: 2023-11-14T22:13:20Z.
pub const START_SECONDS: u64 = 1_700_000_000;

/// [`START_SECONDS`] in nanoseconds.
pub const START_NANOS: u128 = START_SECONDS as u128 * 1_000_000_000;

/// A guest's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The machine's clock.
    #[default]
    System,
    /// Simulated: nanoseconds since the epoch, moved only by the host.
    Simulated(u128),
}

impl Clock {
    /// A simulated clock at [`START_SECONDS`].
    pub fn simulated() -> Clock {
        Clock::Simulated(START_NANOS)
    }

    /// Nanoseconds since the epoch.
    pub fn now_nanos(&self) -> u128 {
        match *self {
            Clock::Simulated(nanos) => nanos,
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        }
    }

    /// The time as WASI's `datetime` fields: whole seconds and nanoseconds.
    pub fn seconds_and_nanos(&self) -> (u64, u32) {
        let nanos = self.now_nanos();
        (
            (nanos / 1_000_000_000) as u64,
            (nanos % 1_000_000_000) as u32,
        )
    }

    /// Moves a simulated clock by `nanos` (negative: backwards, not below the epoch). The
    /// machine's clock does not move: returns false.
    pub fn advance_nanos(&mut self, nanos: i128) -> bool {
        match self {
            Clock::Simulated(now) => {
                *now = (*now as i128).saturating_add(nanos).max(0) as u128;
                true
            }
            Clock::System => false,
        }
    }

    /// Moves a simulated clock by `secs` seconds (rounded to the nanosecond).
    pub fn advance(&mut self, secs: f64) -> bool {
        self.advance_nanos((secs * 1e9).round() as i128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulated_clock_moves_only_when_told_and_stops_at_the_epoch() {
        let mut c = Clock::simulated();
        assert_eq!(c.seconds_and_nanos(), (START_SECONDS, 0));
        assert!(c.advance(1.5));
        assert_eq!(c.seconds_and_nanos(), (START_SECONDS + 1, 500_000_000));
        assert!(c.advance_nanos(-1));
        assert_eq!(c.seconds_and_nanos(), (START_SECONDS + 1, 499_999_999));
        c.advance(-1e12);
        assert_eq!(c.now_nanos(), 0);
    }

    #[test]
    fn the_system_clock_is_now_and_does_not_move() {
        let mut c = Clock::System;
        assert!(!c.advance(10.0));
        let (secs, _) = c.seconds_and_nanos();
        assert!(secs > START_SECONDS);
    }
}
