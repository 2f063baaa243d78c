//! Time and the hash seed from the host: `wasi:clocks/wall-clock` as the core's `Clock`, and one
//! `wasi:random/insecure-seed` read for the L1's key hashing.

use faas_cache::{Clock, Time};

use crate::bindings::wasi::clocks::wall_clock;
use crate::bindings::wasi::random::insecure_seed;

/// The host's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasiClock;

impl Clock for WasiClock {
    fn now(&self) -> Time {
        let t = wall_clock::now();
        Time::from_unix(t.seconds, t.nanoseconds)
    }
}

/// The seed for the L1's hash table (read once, when the tier is created).
pub fn seed() -> (u64, u64) {
    insecure_seed::insecure_seed()
}
