//! One instance's view of the provider: [`CacheCtx`] (its scope and the caches it created) and
//! [`CacheView`] (that ctx and the store's resource table), which implements the generated
//! `faas:cache/{cache,policy,named}` host traits on the core.
//!
//! Invariants: a `cache-dict` resource is a [`CacheDictHandle`]: a shared, locked cache, owned by
//! the instance (from `create` / `restore`) or by the scope (from `named.open`); every call locks
//! one cache for one core call and copies what it returns, so no lock outlives a host call; the
//! instance's own caches fit the scope's ceiling together (the same bound as the named ones),
//! so a guest cannot grow host memory past it. Nothing a guest sends makes this code panic.

use std::sync::{Arc, Mutex, Weak};

use faas_cache::{
    parse_size, Cache, CacheError as CoreError, Config, EvictionPolicy as CorePolicy,
};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::faas::cache::{cache, named, policy};
use crate::bindings::{
    BatchError, CacheError, EvictionPolicy, Expiry, Options, Removal, RemovalCause, Stats,
};
use crate::scope::{lock, random_seed, Scope, SharedCache};

/// A `cache-dict` resource.
pub struct CacheDictHandle {
    cache: SharedCache,
    /// The name, for a cache opened by name (the scope owns it).
    name: Option<String>,
}

/// An instance's state for the provider: its app's scope and the caches it made.
pub struct CacheCtx {
    scope: Scope,
    own: Vec<Weak<Mutex<crate::scope::HostCache>>>,
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

    /// Whether an own cache with byte limit `limit` fits beside the instance's other own caches
    /// (`except`, when it is one of them), under the scope's ceiling.
    fn own_fits(
        &mut self,
        limit: Option<u64>,
        except: Option<&SharedCache>,
    ) -> Result<(), CoreError> {
        let Some(ceiling) = self.scope.limits().ceiling else {
            return Ok(());
        };
        let limit = limit.ok_or(CoreError::OutOfMemory)?;
        let others: u64 = self
            .own()
            .iter()
            .filter(|c| except.is_none_or(|e| !Arc::ptr_eq(c, e)))
            .map(|c| lock(c).max_size_bytes().unwrap_or(u64::MAX))
            .fold(0, u64::saturating_add);
        if others.saturating_add(limit) > ceiling {
            return Err(CoreError::OutOfMemory);
        }
        Ok(())
    }

    fn adopt(&mut self, cache: crate::scope::HostCache) -> CacheDictHandle {
        let cache = Arc::new(Mutex::new(cache));
        self.own.push(Arc::downgrade(&cache));
        CacheDictHandle { cache, name: None }
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
        f: impl FnOnce(&mut crate::scope::HostCache) -> R,
    ) -> wasmtime::Result<R> {
        Ok(f(&mut lock(self.cache(handle)?)))
    }

    fn push(&mut self, handle: CacheDictHandle) -> wasmtime::Result<Resource<CacheDictHandle>> {
        Ok(self.table.push(handle)?)
    }

    /// A new own cache with `config`, within the ceiling.
    fn create(
        &mut self,
        config: Config,
    ) -> wasmtime::Result<Result<Resource<CacheDictHandle>, CacheError>> {
        let made = config
            .validate()
            .and_then(|()| self.ctx.own_fits(config.max_size_bytes, None))
            .and_then(|()| {
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
        let fits = restored.and_then(|c| self.ctx.own_fits(c.max_size_bytes(), None).map(|()| c));
        match fits {
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
        self.with(&h, |c| c.set(key, value).map_err(error))
    }

    fn set_with_expiry(
        &mut self,
        h: Resource<CacheDictHandle>,
        key: String,
        value: Vec<u8>,
        e: Expiry,
    ) -> wasmtime::Result<Result<(), CacheError>> {
        self.with(&h, |c| {
            c.set_with_expiry(key, value, expiry(e)).map_err(error)
        })
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
        self.with(&h, |c| c.set_default_copied(key, value).map_err(error))
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
                self.ctx
                    .own_fits(bytes, Some(&cache))
                    .and_then(|()| lock(&cache).set_max_size_bytes(bytes))
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
        self.with(&h, |c| {
            for (index, (key, value)) in entries.into_iter().enumerate() {
                c.set(key, value).map_err(|e| BatchError {
                    index: count(index),
                    error: error(e),
                })?;
            }
            Ok(())
        })
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
        let opened = config(options, core_policy(p))
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
