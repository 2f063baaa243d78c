//! Every live cache of the instance, so that `tick` can reach them all and the allocator can
//! evict from them when the host refuses memory. Invariant: slot `i` is `Some` exactly while a
//! `cache-dict` handle with id `i` exists; the registry is only borrowed for the duration of one
//! cache operation (never across a call back into the host).

use std::cell::RefCell;

use faas_cache::Cache;

use crate::clock::WasiClock;

pub type GuestCache = Cache<WasiClock>;

#[derive(Default)]
struct Registry {
    caches: Vec<Option<GuestCache>>,
    free: Vec<usize>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Registers a cache; returns its id, or `None` if the allocator refused room for it.
pub fn insert(cache: GuestCache) -> Option<usize> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        match r.free.pop() {
            Some(id) => {
                r.caches[id] = Some(cache);
                Some(id)
            }
            None => {
                r.caches.try_reserve(1).ok()?;
                // Room for the id's later return to the free list, so `remove` never allocates.
                let slots = r.caches.len() + 1;
                r.free.try_reserve(slots).ok()?;
                r.caches.push(Some(cache));
                Some(r.caches.len() - 1)
            }
        }
    })
}

/// Unregisters (drops) a cache.
pub fn remove(id: usize) {
    let dropped = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let cache = r.caches.get_mut(id).and_then(Option::take);
        if cache.is_some() {
            r.free.push(id);
        }
        cache
    });
    drop(dropped);
}

/// Runs `f` on cache `id`, then gives the allocator its reserve back (see `memory`).
pub fn with<R>(id: usize, f: impl FnOnce(&mut GuestCache) -> R) -> R {
    let result = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        match r.caches.get_mut(id).and_then(Option::as_mut) {
            Some(cache) => f(cache),
            // A handle always refers to a registered cache; this cannot happen.
            None => unreachable!("unregistered cache-dict"),
        }
    });
    crate::memory::after_call();
    result
}

/// Purges expired entries from every cache; returns how many.
pub fn tick() -> u64 {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.caches
            .iter_mut()
            .flatten()
            .map(|c| u64::from(c.purge_expired()))
            .sum()
    })
}

/// Gives memory back by evicting one entry from the cache holding the most bytes. False if the
/// registry is in use (an operation is running) or there is nothing left to evict.
pub fn evict_one_for_memory() -> bool {
    REGISTRY.with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else {
            return false;
        };
        let fullest = r.caches.iter_mut().flatten().max_by_key(|c| c.byte_size());
        if fullest.is_some_and(|c| c.evict_for_memory()) {
            return true;
        }
        // Nothing to evict there: drop a removal record held by any cache.
        r.caches.iter_mut().flatten().any(|c| c.evict_for_memory())
    })
}
