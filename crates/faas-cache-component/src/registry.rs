//! Every live cache of the instance, so that `tick` can reach them all and the allocator can
//! evict from them when the host refuses memory, and the instance's named caches
//! (`faas:cache/named`: the instance is their scope). This is the instance's state; it lives in
//! the guarded cell of [`crate::memory`] and knows nothing of the allocator. Invariants: slot `i`
//! of a `create`d or `restore`d cache is `Some` exactly while its `cache-dict` handle exists; the
//! slot of a named cache stays `Some` for the instance's life, whatever its handles do, and
//! `names` holds each named cache's id once.

use faas_cache::{try_copy_str, Cache, CacheError, Config, NameTable};
use faas_guest_alloc::Reclaim;
use faas_guest_clock::WasiClock;

pub type GuestCache = Cache<WasiClock>;

pub struct Registry {
    caches: Vec<Option<GuestCache>>,
    free: Vec<usize>,
    names: NameTable<usize>,
}

impl Registry {
    pub const fn new() -> Registry {
        Registry {
            caches: Vec::new(),
            free: Vec::new(),
            names: NameTable::new(),
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

    /// `named.open`: the id of the cache called `name`, its settings updated by `config`
    /// ([`Cache::reopen`]), or a new cache with `config` and `seed` registered under that name.
    /// The name must be valid ([`faas_cache::check_name`]). On error nothing changed.
    pub fn open_named(
        &mut self,
        name: String,
        config: Config,
        seed: (u64, u64),
    ) -> Result<usize, CacheError> {
        if let Some(&id) = self.names.get(&name) {
            let cache = self.get_mut(id).ok_or(CacheError::OutOfMemory)?;
            return cache.reopen(&config).map(|()| id);
        }
        let cache = Cache::with_clock_and_seed(config, WasiClock, seed)?;
        let id = self.insert(cache).ok_or(CacheError::OutOfMemory)?;
        if self.names.try_insert(name, id).is_err() {
            drop(self.remove(id));
            return Err(CacheError::OutOfMemory);
        }
        Ok(id)
    }

    /// Copies of the named caches' names, in the order first opened; `None` if memory was refused.
    pub fn names(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        out.try_reserve_exact(self.names.len()).ok()?;
        for (name, _) in self.names.iter() {
            out.push(try_copy_str(name)?);
        }
        Some(out)
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
