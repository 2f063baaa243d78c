//! A simulated wall clock for the guests' WASI context: starts at a fixed instant and moves only
//! when a test advances it, so TTL tests never sleep. Invariant: every instance given the same
//! [`SimulatedClock`] (clones share it) reads the same time, which never goes backwards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::HostWallClock;

/// 2026-01-01T00:00:00Z, where a simulated clock starts.
pub const START_SECONDS: u64 = 1_767_225_600;

/// A shared simulated wall clock (nanoseconds since the Unix epoch).
#[derive(Clone, Debug)]
pub struct SimulatedClock(Arc<AtomicU64>);

impl Default for SimulatedClock {
    fn default() -> Self {
        SimulatedClock(Arc::new(AtomicU64::new(START_SECONDS * 1_000_000_000)))
    }
}

impl SimulatedClock {
    /// Moves the clock forward by `seconds` (negative, NaN and infinite amounts are ignored).
    pub fn advance(&self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.0
                .fetch_add((seconds * 1e9).round() as u64, Ordering::SeqCst);
        }
    }

    /// The time, in seconds since the Unix epoch.
    pub fn now_seconds(&self) -> f64 {
        self.0.load(Ordering::SeqCst) as f64 / 1e9
    }
}

impl HostWallClock for SimulatedClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}
