//! The instance's L1 tier: a [`Tier`] created at the first `open`, kept in a `faas-guest-alloc`
//! [`GuardedCell`], and the guest's global allocator, a [`GuardedAlloc`] over that cell whose
//! reclaim path evicts from the tier. The functions below are the steps the exports take on L1
//! and the only ones that borrow it. Invariants: each borrows the tier once, never across a
//! backend call, so the reclaim path can always evict when a backend reply is copied in;
//! everything a fill stores is allocated before the borrow, so that the allocator can still evict
//! L1 entries to make room for it; every step but [`init`] ends with the after-call work, which
//! takes the allocator's reserve back.

use faas_guest_alloc::{GuardedAlloc, GuardedCell, Reclaim};
use faas_guest_clock::WasiClock;
use faas_kv_l1_core::tier as state;

use crate::bindings::exports::faas::kv_l1::l1::L1Stats;
use crate::bindings::wasi::random::insecure_seed;
use crate::settings::{self, Settings};

pub use faas_kv_l1_core::{bucket_prefix, l1_key, Lookup, Presence};

/// The shared L1 tier on the guest's clock, reclaimable by the allocator.
struct Tier(state::Tier<WasiClock>);

impl Reclaim for Tier {
    /// Evicts the entry L1's policy would evict next. False if L1 is empty.
    fn reclaim(&mut self) -> bool {
        self.0.evict_for_memory()
    }
}

thread_local! {
    static TIER: GuardedCell<Option<Tier>> = const { GuardedCell::new(None) };
}

#[cfg_attr(target_arch = "wasm32", global_allocator)]
static ALLOCATOR: GuardedAlloc<Option<Tier>> = GuardedAlloc::new(&TIER);

/// Creates the tier from the host's configuration if it does not exist yet.
pub fn init() -> Result<(), String> {
    if TIER.with(|t| t.run(|t| t.is_some())) == Some(true) {
        return Ok(());
    }
    // Read the configuration and the seed before borrowing: they are host calls.
    let tier = Tier(state::Tier::new(
        settings::load()?,
        WasiClock,
        insecure_seed::insecure_seed(),
    )?);
    TIER.with(|t| t.run(|t| *t = Some(tier)));
    Ok(())
}

/// Runs `f` on the tier, then the after-call work; `None` if the tier was never created or is
/// busy.
fn with<R>(f: impl FnOnce(&mut state::Tier<WasiClock>) -> R) -> Option<R> {
    TIER.with(|t| t.call(|t| t.as_mut().map(|t| f(&mut t.0))))
        .flatten()
}

/// See [`state::Tier::lookup`]; `Unknown` when there is no tier.
pub fn lookup(key: &str) -> Lookup {
    with(|tier| tier.lookup(key)).unwrap_or(Lookup::Unknown)
}

/// See [`state::Tier::presence`].
pub fn presence(key: &str) -> Presence {
    with(|tier| tier.presence(key)).unwrap_or(Presence::Unknown)
}

/// Records what the backend said about `key` (an L1 key): its value, or its absence (kept only
/// when negative caching is on). Best effort: if L1 cannot hold it, the key's entry is removed.
pub fn fill(key: String, value: Option<&[u8]>) {
    let entry = match value {
        Some(value) => state::tagged(value),
        None => state::tagged_absent(),
    };
    with(|tier| tier.fill(key, entry, value.is_some()));
}

/// Drops what L1 holds for `key`.
pub fn invalidate(key: &str) {
    with(|tier| tier.invalidate(key));
}

/// Counts calls to the backend and how many failed.
pub fn count_backend_call<T, E>(result: &Result<T, E>) {
    with(|tier| {
        tier.stats.backend_calls += 1;
        if result.is_err() {
            tier.stats.backend_errors += 1;
        }
    });
}

/// Counts reads answered with a stale value because the backend failed.
pub fn count_stale_served(reads: u64) {
    with(|tier| tier.stats.stale_served += reads);
}

/// Counts a backend call that L1 made unnecessary.
pub fn count_saved_call() {
    with(|tier| tier.stats.backend_calls_saved += 1);
}

/// The counters, with the current size.
pub fn stats() -> L1Stats {
    let s = with(|tier| tier.stats()).unwrap_or_default();
    L1Stats {
        hits: s.hits,
        negative_hits: s.negative_hits,
        misses: s.misses,
        backend_calls: s.backend_calls,
        backend_calls_saved: s.backend_calls_saved,
        backend_errors: s.backend_errors,
        stale_served: s.stale_served,
        entries: s.entries,
        bytes: s.bytes,
    }
}

pub fn reset_stats() {
    with(|tier| tier.stats = state::empty_stats());
}

pub fn settings() -> Option<Settings> {
    with(|tier| tier.settings.clone())
}

pub fn purge_expired() -> u64 {
    with(state::Tier::purge_expired).unwrap_or(0)
}

pub fn clear() {
    with(state::Tier::clear);
}
