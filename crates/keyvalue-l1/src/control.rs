//! The exported `faas:kv-l1/l1` interface (counters, settings, purge, invalidation) and the
//! guest's never-trap allocator, whose reclaim hook evicts from the tier. Invariant: every
//! exported call ends with [`after_call`], which takes the allocator's reserve back.

use faas_guest_alloc::{GuardedAlloc, Reclaim};

use crate::bindings::exports::faas::kv_l1::l1::{Guest, L1Settings, L1Stats};
use crate::{tier, Component};

/// Evicts the entry the tier's policy would evict next.
struct EvictFromTier;

impl Reclaim for EvictFromTier {
    fn reclaim() -> bool {
        tier::evict_one_for_memory()
    }
}

#[cfg_attr(target_arch = "wasm32", global_allocator)]
static ALLOCATOR: GuardedAlloc<EvictFromTier> = GuardedAlloc::new();

/// Restores the allocator's reserve after a call.
pub fn after_call() {
    ALLOCATOR.after_call();
}

impl Guest for Component {
    fn stats() -> L1Stats {
        tier::stats()
    }

    fn reset_stats() {
        tier::reset_stats();
    }

    fn settings() -> Result<L1Settings, String> {
        tier::init()?;
        let s = tier::settings().ok_or_else(|| "the L1 tier is busy".to_owned())?;
        Ok(L1Settings {
            max_bytes: s.max_bytes,
            max_items: s.max_items,
            ttl_seconds: s.ttl_seconds,
            negative_ttl_seconds: s.negative_ttl_seconds,
            policy: s.policy.name().to_owned(),
        })
    }

    fn tick() -> u64 {
        tier::purge_expired()
    }

    fn invalidate_all() {
        tier::clear();
    }
}
