//! One instance's view of the provider: [`CacheCtx`] (its scope and the caches it created) and
//! [`CacheView`] (that ctx and the store's resource table), which implements the generated
//! `faas:cache/{cache,policy,named}` host traits on the core.
//!
//! Invariants: a `cache-dict` resource is a [`CacheDictHandle`]: a shared, locked cache, owned by
//! the instance (from `create` / `restore`) or by the scope (from `named.open`); every call locks
//! one cache for one core call and copies what it returns, so no lock outlives a host call;
//! under a ceiling, the instance's own caches hold together (entries and removal records) at
//! most the ceiling, evicting from the fullest as the component does when its host refuses
//! memory, and their removal logs keep at most one record per 64 bytes of it. Nothing a guest
//! sends makes this code panic.

use std::sync::{Arc, Mutex, Weak};

use faas_cache::accounting::entry_bytes;
use faas_cache::{
    check_name, parse_size, Cache, CacheError as CoreError, Config, EvictionPolicy as CorePolicy,
};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::faas::cache::{cache, named, policy};
use crate::bindings::{
    BatchError, CacheError, EvictionPolicy, Expiry, Options, Removal, RemovalCause, Stats,
};
use crate::scope::{lock, log_records, random_seed, HostCache, Scope, SharedCache};

/// A `cache-dict` resource.
pub struct CacheDictHandle {
    cache: SharedCache,
    /// The name, for a cache opened by name (the scope owns it).
    name: Option<String>,
}

/// An instance's state for the provider: its app's scope and the caches it made.
pub struct CacheCtx {
    scope: Scope,
    own: Vec<Weak<Mutex<HostCache>>>,
}

impl CacheCtx {
    /// The state of a new instance of the app whose scope is `scope`.
    pub fn new(scope: Scope) -> CacheCtx {
        CacheCtx {
            scope,
            own: Vec::new(),
        }
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The instance's live own caches.
    fn own(&mut self) -> Vec<SharedCache> {
        self.own.retain(|w| w.strong_count() > 0);
        self.own.iter().filter_map(Weak::upgrade).collect()
    }

    /// Keeps the instance's own caches, together, within the scope's ceiling: their entries (by
    /// evicting from the fullest, as the component does when its host refuses memory: each an
    /// `evicted-size` removal), and their removal records' keys and values (by dropping the
    /// oldest records of the largest log, counted in `removals-dropped`), each within the
    /// ceiling, as a named cache's entries and log are each within its limit. Without a ceiling,
    /// nothing to do.
    fn keep_own_within_ceiling(&mut self) {
        let Some(ceiling) = self.scope.limits().ceiling else {
            return;
        };
        let own = self.own();
        let shrink = |size: fn(&HostCache) -> u64, free: fn(&mut HostCache) -> bool| loop {
            let sizes: Vec<u64> = own.iter().map(|c| size(&lock(c))).collect();
            if sizes.iter().sum::<u64>() <= ceiling {
                return;
            }
            let largest = (0..sizes.len()).max_by_key(|&i| sizes[i]);
            if !largest.is_some_and(|i| free(&mut lock(&own[i]))) {
                return;
            }
        };
        shrink(HostCache::accounted_bytes, HostCache::evict_for_memory);
        shrink(HostCache::removal_log_bytes, HostCache::drop_oldest_removal);
    }

    /// Whether an own cache's write of an entry this large must be refused with
    /// `out-of-memory`: the entry alone is larger than the ceiling.
    fn own_entry_too_large(&self, key: &str, value: &[u8]) -> bool {
        self.scope
            .limits()
            .ceiling
            .is_some_and(|ceiling| entry_bytes(key.len(), value.len()) > ceiling)
    }

    fn adopt(&mut self, cache: HostCache) -> CacheDictHandle {
        let cache = Arc::new(Mutex::new(cache));
        self.own.retain(|w| w.strong_count() > 0);
        self.own.push(Arc::downgrade(&cache));
        let handle = CacheDictHandle { cache, name: None };
        self.keep_own_within_ceiling();
        handle
    }
}

/// What the generated host traits are implemented on: an instance's [`CacheCtx`] and its
/// store's resource table.
pub struct CacheView<'a> {
    ctx: &'a mut CacheCtx,
    table: &'a mut ResourceTable,
}

impl<'a> CacheView<'a> {
    /// A view over `ctx` and `table`.
    pub fn new(ctx: &'a mut CacheCtx, table: &'a mut ResourceTable) -> Self {
        CacheView { ctx, table }
    }

    fn cache(&self, handle: &Resource<CacheDictHandle>) -> wasmtime::Result<&SharedCache> {
        Ok(&self.table.get(handle)?.cache)
    }

    /// Runs `f` on the handle's cache under its lock.
    fn with<R>(
        &self,
        handle: &Resource<CacheDictHandle>,
        f: impl FnOnce(&mut HostCache) -> R,
    ) -> wasmtime::Result<R> {
        Ok(f(&mut lock(self.cache(handle)?)))
    }

    fn push(&mut self, handle: CacheDictHandle) -> wasmtime::Result<Resource<CacheDictHandle>> {
        Ok(self.table.push(handle)?)
    }

    /// Whether the handle's cache is the instance's own (from `create` or `restore`).
    fn is_own(&self, handle: &Resource<CacheDictHandle>) -> wasmtime::Result<bool> {
        Ok(self.table.get(handle)?.name.is_none())
    }

    /// Whether a write of `key` and `value` to the handle's cache must be refused with
    /// `out-of-memory`: an own cache's entry larger than the whole ceiling.
    fn refused(
        &self,
        handle: &Resource<CacheDictHandle>,
        key: &str,
        value: &[u8],
    ) -> wasmtime::Result<bool> {
        Ok(self.is_own(handle)? && self.ctx.own_entry_too_large(key, value))
    }

    /// After a write to the handle's cache: an own cache's instance keeps its own caches within
    /// the ceiling.
    fn wrote(&mut self, handle: &Resource<CacheDictHandle>) -> wasmtime::Result<()> {
        if self.is_own(handle)? {
            self.ctx.keep_own_within_ceiling();
        }
        Ok(())
    }

    /// A new own cache with `config` (its removal log at most [`crate::scope::log_records`]
    /// records under a ceiling).
    fn create(
        &mut self,
        mut config: Config,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        if let Some(ceiling) = self.ctx.scope.limits().ceiling {
            config.removal_log_capacity = log_records(config.removal_log_capacity, ceiling);
        }
        let made = config.validate().and_then(|()| {
            Cache::with_clock_and_seed(config, self.ctx.scope.clock().clone(), random_seed())
        });
        match made {
            Ok(cache) => {
                let handle = self.ctx.adopt(cache);
                Ok(Ok(self.push(handle)?))
            }
            Err(e) => Ok(Err(error(e))),
        }
    }
}

struct HasCache;

impl HasData for HasCache {
    type Data<'a> = CacheView<'a>;
}

/// Adds `faas:cache/{cache,policy,named}` to `linker`, served by the provider; `view` reaches
/// an instance's [`CacheView`] from its store data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> CacheView<'_>,
) -> wasmtime::Result<()> {
    cache::add_to_linker::<T, HasCache>(linker, view)?;
    policy::add_to_linker::<T, HasCache>(linker, view)?;
    named::add_to_linker::<T, HasCache>(linker, view)?;
    Ok(())
}

pub(crate) fn error(e: CoreError) -> CacheError {
    match e {
        CoreError::DataTooLarge {
            entry_bytes,
            available_bytes,
        } => CacheError::DataTooLarge(cache::SizeExcess {
            entry_bytes,
            available_bytes,
        }),
        CoreError::InvalidArgument(m) => CacheError::InvalidArgument(m),
        CoreError::KeyNotFound => CacheError::KeyNotFound,
        CoreError::CorruptSnapshot(m) => CacheError::CorruptSnapshot(m),
        CoreError::OutOfMemory => CacheError::OutOfMemory,
    }
}

fn expiry(e: Expiry) -> faas_cache::Expiry {
    match e {
        Expiry::DefaultTtl => faas_cache::Expiry::DefaultTtl,
        Expiry::Never => faas_cache::Expiry::Never,
        Expiry::Ttl(t) => faas_cache::Expiry::Ttl(t),
        Expiry::At(t) => faas_cache::Expiry::At(t),
    }
}

fn cause(c: faas_cache::RemovalCause) -> RemovalCause {
    use faas_cache::RemovalCause as C;
    match c {
        C::Deleted => RemovalCause::Deleted,
        C::Popped => RemovalCause::Popped,
        C::Cleared => RemovalCause::Cleared,
        C::EvictedSize => RemovalCause::EvictedSize,
        C::EvictedCount => RemovalCause::EvictedCount,
        C::Expired => RemovalCause::Expired,
        C::Replaced => RemovalCause::Replaced,
    }
}

fn stats(s: faas_cache::Stats) -> Stats {
    Stats {
        hits: s.hits,
        misses: s.misses,
        inserts: s.inserts,
        updates: s.updates,
        removed: s.removed,
        evicted_size: s.evicted_size,
        evicted_count: s.evicted_count,
        expired: s.expired,
        removals_dropped: s.removals_dropped,
    }
}

fn core_policy(p: EvictionPolicy) -> CorePolicy {
    match p {
        EvictionPolicy::Lru => CorePolicy::Lru,
        EvictionPolicy::S3Fifo => CorePolicy::S3Fifo,
    }
}

/// The core's settings for `options` and `policy`: the byte limit parsed, the rest as given
/// (the core checks it).
fn config(options: Options, policy: CorePolicy) -> Result<Config, CacheError> {
    Ok(Config {
        default_ttl: options.default_ttl,
        max_size_bytes: limit(options.max_size.as_deref())?,
        max_items: options.max_items,
        removal_log_capacity: options.removal_log_capacity,
        policy,
    })
}

fn limit(max_size: Option<&str>) -> Result<Option<u64>, CacheError> {
    max_size.map(parse_size).transpose().map_err(error)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl cache::Host for CacheView<'_> {
    fn tick(&mut self) -> wasmtime::Result<u32> {
        let own: u64 = self
            .ctx
            .own()
            .iter()
            .map(|c| u64::from(lock(c).purge_expired()))
            .sum();
        let purged = own + self.ctx.scope.purge_expired();
        Ok(u32::try_from(purged).unwrap_or(u32::MAX))
    }
}

impl cache::HostCacheDict for CacheView<'_> {
    fn create(
        &mut self,
        options: Options,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        match config(options, CorePolicy::Lru) {
            Ok(config) => CacheView::create(self, config),
            Err(e) => Ok(Err(e)),
        }
    }

    fn restore(
        &mut self,
        snapshot: Vec<u8>,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        let restored = Cache::restore(&snapshot, self.ctx.scope.clock().clone(), random_seed());
        match restored {
            Ok(cache) => {
                let handle = self.ctx.adopt(cache);
                Ok(Ok(self.push(handle)?))
            }
            Err(e) => Ok(Err(error(e))),
        }
    }

    fn get(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
    ) -> wasmtime::Result<Option<Vec<u8>>> {
        self.with(&h, |c| c.get(&key).map(<[u8]>::to_vec))
    }

    fn peek(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
    ) -> wasmtime::Result<Option<Vec<u8>>> {
        self.with(&h, |c| c.peek(&key).map(<[u8]>::to_vec))
    }

    fn contains(&mut self, h: Resource<CacheDictHandle>, key: String) -> wasmtime::Result<bool> {
        self.with(&h, |c| c.contains(&key))
    }

    fn set(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        if self.refused(&h, &key, &value)? {
            return Ok(Err(CacheError::OutOfMemory));
        }
        let set = self.with(&h, |c| c.set(key, value).map_err(error))?;
        self.wrote(&h)?;
        Ok(set)
    }

    fn set_with_expiry(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        value: Vec<u8>,
        e: Expiry,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        if self.refused(&h, &key, &value)? {
            return Ok(Err(CacheError::OutOfMemory));
        }
        let set = self.with(&h, |c| {
            c.set_with_expiry(key, value, expiry(e)).map_err(error)
        })?;
        self.wrote(&h)?;
        Ok(set)
    }

    fn delete(&mut self, h: Resource<CacheDictHandle>, key: String) -> wasmtime::Result<bool> {
        self.with(&h, |c| c.delete(&key))
    }

    fn pop(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
    ) -> wasmtime::Result<Option<Vec<u8>>> {
        self.with(&h, |c| c.pop(&key))
    }

    fn pop_item(
        &mut self,
        h: Resource<CacheDictHandle>,
        last: bool,
    ) -> wasmtime::Result<Option<(String, Vec<u8>)>> {
        self.with(&h, |c| c.pop_item(last))
    }

    fn set_default(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, CacheError>> {
        if self.refused(&h, &key, &value)? {
            return Ok(Err(CacheError::OutOfMemory));
        }
        let set = self.with(&h, |c| c.set_default_copied(key, value).map_err(error))?;
        self.wrote(&h)?;
        Ok(set)
    }

    fn move_to_end(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        last: bool,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| c.move_to_end(&key, last).map_err(error))
    }

    fn len(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<u32> {
        self.with(&h, |c| count(c.len()))
    }

    fn keys(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Vec<String>> {
        self.with(&h, |c| c.keys().map(str::to_owned).collect())
    }

    fn keys_reversed(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Vec<String>> {
        self.with(&h, |c| c.keys().rev().map(str::to_owned).collect())
    }

    fn values(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Vec<Vec<u8>>> {
        self.with(&h, |c| c.values().map(<[u8]>::to_vec).collect())
    }

    fn items(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Vec<(String, Vec<u8>)>> {
        self.with(&h, |c| {
            c.iter().map(|(k, v)| (k.to_owned(), v.to_vec())).collect()
        })
    }

    fn clear(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<()> {
        self.with(&h, |c| c.clear())
    }

    fn get_ttl(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<f64>, CacheError>> {
        self.with(&h, |c| c.get_ttl(&key).map_err(error))
    }

    fn set_ttl(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        ttl: Option<f64>,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| c.set_ttl(&key, ttl).map_err(error))
    }

    fn expire_at(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        at: f64,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| c.expire_at(&key, at).map_err(error))
    }

    fn is_expired(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
    ) -> wasmtime::Result<Option<bool>> {
        self.with(&h, |c| c.is_expired(&key))
    }

    fn default_ttl(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Option<f64>> {
        self.with(&h, |c| c.default_ttl())
    }

    fn set_default_ttl(
        &mut self,
        h: Resource<CacheDictHandle>,
        ttl: Option<f64>,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| c.set_default_ttl(ttl).map_err(error))
    }

    fn max_size_bytes(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Option<u64>> {
        self.with(&h, |c| c.max_size_bytes())
    }

    fn change_byte_size(
        &mut self,
        h: Resource<CacheDictHandle>,
        max_size: Option<String>,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        let bytes = match limit(max_size.as_deref()) {
            Ok(bytes) => bytes,
            Err(e) => return Ok(Err(e)),
        };
        let handle = self.table.get(&h)?;
        let changed = match &handle.name {
            // A named cache: the scope checks its ceiling under its names lock.
            Some(name) => self.ctx.scope.change_byte_size(name, bytes),
            None => {
                let cache = handle.cache.clone();
                let changed = lock(&cache).set_max_size_bytes(bytes);
                self.ctx.keep_own_within_ceiling();
                changed
            }
        };
        Ok(changed.map_err(error))
    }

    fn max_items(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Option<u32>> {
        self.with(&h, |c| c.max_items())
    }

    fn change_max_items(
        &mut self,
        h: Resource<CacheDictHandle>,
        max_items: Option<u32>,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| c.change_max_items(max_items).map_err(error))
    }

    fn byte_size(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<u64> {
        self.with(&h, |c| c.byte_size())
    }

    fn purge_expired(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<u32> {
        self.with(&h, |c| c.purge_expired())
    }

    fn snapshot(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Vec<u8>> {
        self.with(&h, |c| c.snapshot())
    }

    fn drain_removals(
        &mut self,
        h: Resource<CacheDictHandle>,
        max: u32,
    ) -> wasmtime::Result<Vec<Removal>> {
        self.with(&h, |c| {
            c.drain_removals(max)
                .into_iter()
                .map(|r| Removal {
                    key: r.key,
                    value: r.value,
                    cause: cause(r.cause),
                })
                .collect()
        })
    }

    fn stats(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<Stats> {
        self.with(&h, |c| stats(c.stats()))
    }

    fn reset_stats(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<()> {
        self.with(&h, |c| c.reset_stats())
    }

    fn describe(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<String> {
        self.with(&h, |c| c.describe())
    }

    fn get_many(
        &mut self,
        h: Resource<CacheDictHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Vec<Option<Vec<u8>>>> {
        self.with(&h, |c| {
            keys.iter().map(|k| c.get(k).map(<[u8]>::to_vec)).collect()
        })
    }

    fn set_many(
        &mut self,
        h: Resource<CacheDictHandle>,
        entries: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), BatchError>> {
        // An own cache's entry larger than the ceiling ends the batch there, as a failed set.
        let mut refused = None;
        for (index, (key, value)) in entries.iter().enumerate() {
            if self.refused(&h, key, value)? {
                refused = Some(index);
                break;
            }
        }
        let written = self.with(&h, |c| {
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if refused == Some(index) {
                    return Err(BatchError {
                        index: count(index),
                        error: CacheError::OutOfMemory,
                    });
                }
                c.set(key, value).map_err(|e| BatchError {
                    index: count(index),
                    error: error(e),
                })?;
            }
            Ok(())
        })?;
        self.wrote(&h)?;
        Ok(written)
    }

    fn delete_many(
        &mut self,
        h: Resource<CacheDictHandle>,
        keys: Vec<String>,
    ) -> wasmtime::Result<u32> {
        self.with(&h, |c| count(keys.iter().filter(|k| c.delete(k)).count()))
    }

    fn drop(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        Ok(())
    }
}

impl policy::Host for CacheView<'_> {
    fn create(
        &mut self,
        options: Options,
        p: EvictionPolicy,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        match config(options, core_policy(p)) {
            Ok(config) => CacheView::create(self, config),
            Err(e) => Ok(Err(e)),
        }
    }

    fn policy_of(&mut self, h: Resource<CacheDictHandle>) -> wasmtime::Result<EvictionPolicy> {
        self.with(&h, |c| match c.policy() {
            CorePolicy::Lru => EvictionPolicy::Lru,
            CorePolicy::S3Fifo => EvictionPolicy::S3Fifo,
        })
    }
}

impl named::Host for CacheView<'_> {
    fn open(
        &mut self,
        name: String,
        options: Options,
        p: EvictionPolicy,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        // The name first, then the settings, as the component checks them.
        let opened = check_name(&name)
            .map_err(error)
            .and_then(|()| config(options, core_policy(p)))
            .and_then(|config| self.ctx.scope.open(&name, config).map_err(error));
        match opened {
            Ok(cache) => Ok(Ok(self.push(CacheDictHandle {
                cache,
                name: Some(name),
            })?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn names(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.ctx.scope.names())
    }
}
