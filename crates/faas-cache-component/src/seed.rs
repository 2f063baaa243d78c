//! Hash seeds from the host: one `wasi:random/insecure-seed` read per instance, mixed into a
//! distinct seed for each cache. Invariant: the seed import is called at most once; each cache
//! gets a distinct seed derived from it.

use std::cell::Cell;

use crate::bindings::wasi::random::insecure_seed;

thread_local! {
    static INSTANCE_SEED: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
    static CACHES_SEEDED: Cell<u64> = const { Cell::new(0) };
}

/// A hash seed for a new cache: the instance's seed mixed with a per-cache counter.
pub fn next_seed() -> (u64, u64) {
    let (a, b) = INSTANCE_SEED.with(|s| match s.get() {
        Some(seed) => seed,
        None => {
            let seed = insecure_seed::insecure_seed();
            s.set(Some(seed));
            seed
        }
    });
    let n = CACHES_SEEDED.with(|c| {
        let n = c.get();
        c.set(n.wrapping_add(1));
        n
    });
    // splitmix64 of the counter keeps per-cache seeds far apart.
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (a ^ z, b.wrapping_add(z.rotate_left(17)))
}
