//! Never trapping on memory: the guest's global allocator is `faas-guest-alloc`'s
//! [`GuardedAlloc`], whose reclaim hook evicts the least recently used entry of the fullest cache
//! (reported as `evicted-size`) when no cache operation is running. Invariant: after every export
//! call the allocator's reserve is taken back ([`after_call`]).

use faas_guest_alloc::{GuardedAlloc, Reclaim};

/// Evicts from the fullest cache of the registry.
struct EvictFromRegistry;

impl Reclaim for EvictFromRegistry {
    fn reclaim() -> bool {
        crate::registry::evict_one_for_memory()
    }
}

#[cfg_attr(target_arch = "wasm32", global_allocator)]
static ALLOCATOR: GuardedAlloc<EvictFromRegistry> = GuardedAlloc::new();

/// Restores the allocator's reserve after a cache call.
pub fn after_call() {
    ALLOCATOR.after_call();
}
