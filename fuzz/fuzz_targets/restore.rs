//! Snapshot restore on arbitrary bytes: an error or a valid cache, never a panic. A cache that
//! restores snapshots back to bytes that restore to the same entries. Each input is tried as it
//! is (almost always a checksum mismatch) and with its checksum made to match (`sealed`), so the
//! parser behind the checksum is fuzzed too.
#![no_main]

use faas_cache::{Cache, ManualClock, Time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    restore(data);
    restore(&faas_cache::sealed(data));
});

fn restore(data: &[u8]) {
    let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
    let Ok(mut cache) = Cache::restore(data, clock.clone(), (1, 2)) else {
        return;
    };
    cache
        .check_invariants()
        .expect("a restored cache is consistent");
    let again = cache.snapshot();
    let mut copy = Cache::restore(&again, clock, (5, 6)).expect("our own snapshot restores");
    copy.check_invariants().expect("consistent");
    let a: Vec<String> = cache.keys().map(str::to_owned).collect();
    let b: Vec<String> = copy.keys().map(str::to_owned).collect();
    assert_eq!(a, b, "order survives a round trip");
}
