//! Every live cache of the instance, so that `tick` can reach them all and the allocator can
//! evict from them when the host refuses memory. This is the instance's state; it lives in the
//! guarded cell of [`crate::memory`] and knows nothing of the allocator. Invariant: slot `i` is
//! `Some` exactly while a `cache-dict` handle with id `i` exists.

use faas_cache::Cache;
use faas_guest_alloc::Reclaim;
use faas_guest_clock::WasiClock;

pub type GuestCache = Cache<WasiClock>;

pub struct Registry {
    caches: Vec<Option<GuestCache>>,
    free: Vec<usize>,
}

impl Registry {
    pub const fn new() -> Registry {
        Registry {
            caches: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Registers a cache; returns its id, or `None` if the allocator refused room for it.
    pub fn insert(&mut self, cache: GuestCache) -> Option<usize> {
        match self.free.pop() {
            Some(id) => {
                self.caches[id] = Some(cache);
                Some(id)
            }
            None => {
                self.caches.try_reserve(1).ok()?;
                // Room for the id's later return to the free list, so `remove` never allocates.
                let slots = self.caches.len() + 1;
                self.free.try_reserve(slots).ok()?;
                self.caches.push(Some(cache));
                Some(self.caches.len() - 1)
            }
        }
    }

    /// Unregisters cache `id` and hands it back, for the caller to drop.
    pub fn remove(&mut self, id: usize) -> Option<GuestCache> {
        let cache = self.caches.get_mut(id).and_then(Option::take);
        if cache.is_some() {
            self.free.push(id);
        }
        cache
    }

    /// Cache `id`, if registered.
    pub fn get_mut(&mut self, id: usize) -> Option<&mut GuestCache> {
        self.caches.get_mut(id).and_then(Option::as_mut)
    }

    /// Purges expired entries from every cache; returns how many.
    pub fn tick(&mut self) -> u64 {
        self.caches
            .iter_mut()
            .flatten()
            .map(|c| u64::from(c.purge_expired()))
            .sum()
    }
}

impl Reclaim for Registry {
    /// Evicts one entry from the cache holding the most bytes; false if there is nothing left to
    /// evict.
    fn reclaim(&mut self) -> bool {
        let fullest = self
            .caches
            .iter_mut()
            .flatten()
            .max_by_key(|c| c.accounted_bytes());
        if fullest.is_some_and(|c| c.evict_for_memory()) {
            return true;
        }
        // Nothing to evict there: drop a removal record held by any cache.
        self.caches
            .iter_mut()
            .flatten()
            .any(|c| c.evict_for_memory())
    }
}
