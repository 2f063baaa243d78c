//! Never trapping on memory: the instance's [`Registry`] lives in a `faas-guest-alloc`
//! [`GuardedCell`], and the guest's global allocator is a [`GuardedAlloc`] over that cell, whose
//! reclaim path evicts the least recently used entry of the fullest cache (reported as
//! `evicted-size`) when no cache operation is running. The functions below are the only ones that
//! borrow the registry. Invariant: each borrows it once, for one cache operation (never across a
//! call into the host); every export that reaches the registry, but a handle's drop, ends with
//! the after-call work, which takes the allocator's reserve back.

use faas_guest_alloc::{GuardedAlloc, GuardedCell};

use crate::registry::{GuestCache, Registry};

thread_local! {
    static REGISTRY: GuardedCell<Registry> = const { GuardedCell::new(Registry::new()) };
}

#[cfg_attr(target_arch = "wasm32", global_allocator)]
static ALLOCATOR: GuardedAlloc<Registry> = GuardedAlloc::new(&REGISTRY);

/// Runs `f` on cache `id`, then the after-call work.
pub fn with_cache<R>(id: usize, f: impl FnOnce(&mut GuestCache) -> R) -> R {
    match REGISTRY.with(|r| r.call(|r| r.get_mut(id).map(f))) {
        Some(Some(result)) => result,
        // A handle always refers to a registered cache, and export calls never overlap: this
        // cannot happen.
        _ => unreachable!("unregistered cache-dict"),
    }
}

/// Registers a cache, then the after-call work; its id, or `None` if memory was refused.
pub fn register(cache: GuestCache) -> Option<usize> {
    REGISTRY.with(|r| r.call(|r| r.insert(cache))).flatten()
}

/// `named.open` on the registry (see [`Registry::open_named`]), then the after-call work.
pub fn open_named(
    name: String,
    config: faas_cache::Config,
    seed: (u64, u64),
) -> Result<usize, faas_cache::CacheError> {
    REGISTRY
        .with(|r| r.call(|r| r.open_named(name, config, seed)))
        .unwrap_or(Err(faas_cache::CacheError::OutOfMemory))
}

/// The named caches' names (empty if memory was refused), then the after-call work.
pub fn names() -> Vec<String> {
    REGISTRY
        .with(|r| r.call(|r| r.names()))
        .flatten()
        .unwrap_or_default()
}

/// Unregisters and drops cache `id` (after the registry is released). No after-call work: a
/// drop only gives memory back.
pub fn unregister(id: usize) {
    let dropped = REGISTRY.with(|r| r.run(|r| r.remove(id)));
    drop(dropped);
}

/// Purges expired entries from every cache, then the after-call work; returns how many.
pub fn tick() -> u64 {
    REGISTRY.with(|r| r.call(Registry::tick)).unwrap_or(0)
}

/// The after-call work alone, for a step that allocated without the registry.
pub fn after_call() {
    REGISTRY.with(GuardedCell::after_call);
}
