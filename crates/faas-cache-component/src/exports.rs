//! The exported `cache` interface: each function does what its `///` comment in wit/cache.wit
//! says, by calling the core library. Invariant: no path panics; results that need fresh guest
//! memory (copied values, lists, snapshots) are built fallibly, evicting least recently used
//! entries if the host refuses memory, rather than aborting.

use faas_cache::{parse_size, try_copy, try_copy_str, Cache, Config, EvictionPolicy};

use crate::bindings::exports::faas::cache::cache::{
    BatchError, CacheError, Expiry, Guest, GuestCacheDict, Options, Removal, Stats,
};
use faas_guest_clock::WasiClock;

use crate::registry::GuestCache;
use crate::seed::next_seed;
use crate::{convert, memory};

/// The most record bytes (keys and values) one `drain-removals` call returns.
const DRAIN_BYTES: u64 = 16 << 20;

pub struct Component;

impl Guest for Component {
    type CacheDict = CacheDict;

    fn tick() -> u32 {
        let purged = memory::tick();
        u32::try_from(purged).unwrap_or(u32::MAX)
    }
}

/// A `cache-dict` handle: the id of its cache in the instance's registry. A handle to a
/// `create`d or `restore`d cache owns it; a handle from `named.open` does not (the cache stays
/// for the next `open`).
pub struct CacheDict {
    id: usize,
    named: bool,
}

impl Drop for CacheDict {
    fn drop(&mut self) {
        if !self.named {
            memory::unregister(self.id);
        }
    }
}

impl CacheDict {
    /// Runs `f` on this handle's cache, then the after-call work (see `memory::with_cache`).
    pub fn with<R>(&self, f: impl FnOnce(&mut GuestCache) -> R) -> R {
        memory::with_cache(self.id, f)
    }

    fn register(
        cache: GuestCache,
    ) -> Result<crate::bindings::exports::faas::cache::cache::CacheDict, CacheError> {
        let id = memory::register(cache).ok_or(CacheError::OutOfMemory)?;
        Ok(CacheDict::handle(id, false))
    }

    /// The WIT handle of cache `id`.
    pub fn handle(
        id: usize,
        named: bool,
    ) -> crate::bindings::exports::faas::cache::cache::CacheDict {
        crate::bindings::exports::faas::cache::cache::CacheDict::new(CacheDict { id, named })
    }
}

/// Builds a result with `build`; while the allocator refuses, evicts one entry and tries again
/// (the result then lacks what was evicted). `None` once nothing is left to evict.
fn build_or_evict<T>(
    cache: &mut GuestCache,
    mut build: impl FnMut(&mut GuestCache) -> Option<T>,
) -> Option<T> {
    loop {
        if let Some(done) = build(cache) {
            return Some(done);
        }
        if !cache.evict_for_memory() {
            return None;
        }
    }
}

/// A copy of a live key's value, without touching it; evicts other entries if memory is short.
fn copy_value(cache: &mut GuestCache, key: &str) -> Option<Vec<u8>> {
    build_or_evict(cache, |c| match c.peek(key) {
        None => Some(None),
        Some(v) => try_copy(v).map(Some),
    })
    .flatten()
}

/// `get`: touch and count, then copy.
fn get_one(cache: &mut GuestCache, key: &str) -> Option<Vec<u8>> {
    let copied = try_copy(cache.get(key)?);
    copied.or_else(|| copy_value(cache, key))
}

/// Live entries mapped with `f` in LRU order (or MRU first when `reversed`).
fn collect<T>(
    cache: &mut GuestCache,
    reversed: bool,
    f: impl Fn(&str, &[u8]) -> Option<T>,
) -> Vec<T> {
    build_or_evict(cache, |c| {
        let iter = c.iter();
        let mut out = Vec::new();
        out.try_reserve_exact(iter.len()).ok()?;
        if reversed {
            for (k, v) in iter.rev() {
                out.push(f(k, v)?);
            }
        } else {
            for (k, v) in iter {
                out.push(f(k, v)?);
            }
        }
        Some(out)
    })
    .unwrap_or_default()
}

fn parse_limit(max_size: Option<&str>) -> Result<Option<u64>, CacheError> {
    max_size.map(parse_size).transpose().map_err(convert::error)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The core's settings for `options` and `policy` (the byte limit parsed, nothing else checked).
pub fn config_of(options: Options, policy: EvictionPolicy) -> Result<Config, CacheError> {
    Ok(Config {
        default_ttl: options.default_ttl,
        max_size_bytes: parse_limit(options.max_size.as_deref())?,
        max_items: options.max_items,
        removal_log_capacity: options.removal_log_capacity,
        policy,
    })
}

/// A new cache with `options` that evicts by `policy` (`cache-dict.create` and `policy.create`).
pub fn create_with_policy(
    options: Options,
    policy: EvictionPolicy,
) -> Result<crate::bindings::exports::faas::cache::cache::CacheDict, CacheError> {
    let config = config_of(options, policy)?;
    let cache =
        Cache::with_clock_and_seed(config, WasiClock, next_seed()).map_err(convert::error)?;
    CacheDict::register(cache)
}

impl GuestCacheDict for CacheDict {
    fn create(
        options: Options,
    ) -> Result<crate::bindings::exports::faas::cache::cache::CacheDict, CacheError> {
        create_with_policy(options, EvictionPolicy::Lru)
    }

    fn restore(
        snapshot: Vec<u8>,
    ) -> Result<crate::bindings::exports::faas::cache::cache::CacheDict, CacheError> {
        let restored = Cache::restore(&snapshot, WasiClock, next_seed());
        drop(snapshot);
        let cache = restored.map_err(convert::error);
        memory::after_call();
        CacheDict::register(cache?)
    }

    fn get(&self, key: String) -> Option<Vec<u8>> {
        self.with(|c| get_one(c, &key))
    }

    fn peek(&self, key: String) -> Option<Vec<u8>> {
        self.with(|c| copy_value(c, &key))
    }

    fn contains(&self, key: String) -> bool {
        self.with(|c| c.contains(&key))
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), CacheError> {
        self.with(|c| c.set(key, value)).map_err(convert::error)
    }

    fn set_with_expiry(
        &self,
        key: String,
        value: Vec<u8>,
        expiry: Expiry,
    ) -> Result<(), CacheError> {
        self.with(|c| c.set_with_expiry(key, value, convert::expiry(expiry)))
            .map_err(convert::error)
    }

    fn delete(&self, key: String) -> bool {
        self.with(|c| c.delete(&key))
    }

    fn pop(&self, key: String) -> Option<Vec<u8>> {
        self.with(|c| c.pop(&key))
    }

    fn pop_item(&self, last: bool) -> Option<(String, Vec<u8>)> {
        self.with(|c| c.pop_item(last))
    }

    fn set_default(&self, key: String, value: Vec<u8>) -> Result<Vec<u8>, CacheError> {
        self.with(|c| c.set_default_copied(key, value))
            .map_err(convert::error)
    }

    fn move_to_end(&self, key: String, last: bool) -> Result<(), CacheError> {
        self.with(|c| c.move_to_end(&key, last))
            .map_err(convert::error)
    }

    fn len(&self) -> u32 {
        self.with(|c| to_u32(c.len()))
    }

    fn keys(&self) -> Vec<String> {
        self.with(|c| collect(c, false, |k, _| try_copy_str(k)))
    }

    fn keys_reversed(&self) -> Vec<String> {
        self.with(|c| collect(c, true, |k, _| try_copy_str(k)))
    }

    fn values(&self) -> Vec<Vec<u8>> {
        self.with(|c| collect(c, false, |_, v| try_copy(v)))
    }

    fn items(&self) -> Vec<(String, Vec<u8>)> {
        self.with(|c| collect(c, false, |k, v| Some((try_copy_str(k)?, try_copy(v)?))))
    }

    fn clear(&self) {
        self.with(|c| c.clear())
    }

    fn get_ttl(&self, key: String) -> Result<Option<f64>, CacheError> {
        self.with(|c| c.get_ttl(&key)).map_err(convert::error)
    }

    fn set_ttl(&self, key: String, ttl: Option<f64>) -> Result<(), CacheError> {
        self.with(|c| c.set_ttl(&key, ttl)).map_err(convert::error)
    }

    fn expire_at(&self, key: String, epoch_seconds: f64) -> Result<(), CacheError> {
        self.with(|c| c.expire_at(&key, epoch_seconds))
            .map_err(convert::error)
    }

    fn is_expired(&self, key: String) -> Option<bool> {
        self.with(|c| c.is_expired(&key))
    }

    fn default_ttl(&self) -> Option<f64> {
        self.with(|c| c.default_ttl())
    }

    fn set_default_ttl(&self, ttl: Option<f64>) -> Result<(), CacheError> {
        self.with(|c| c.set_default_ttl(ttl))
            .map_err(convert::error)
    }

    fn max_size_bytes(&self) -> Option<u64> {
        self.with(|c| c.max_size_bytes())
    }

    fn change_byte_size(&self, max_size: Option<String>) -> Result<(), CacheError> {
        let limit = parse_limit(max_size.as_deref())?;
        self.with(|c| c.set_max_size_bytes(limit))
            .map_err(convert::error)
    }

    fn max_items(&self) -> Option<u32> {
        self.with(|c| c.max_items())
    }

    fn change_max_items(&self, max_items: Option<u32>) -> Result<(), CacheError> {
        self.with(|c| c.change_max_items(max_items))
            .map_err(convert::error)
    }

    fn byte_size(&self) -> u64 {
        self.with(|c| c.byte_size())
    }

    fn purge_expired(&self) -> u32 {
        self.with(|c| c.purge_expired())
    }

    fn snapshot(&self) -> Vec<u8> {
        self.with(|c| build_or_evict(c, |c| c.try_snapshot().ok()).unwrap_or_default())
    }

    fn drain_removals(&self, max: u32) -> Vec<Removal> {
        self.with(|c| {
            // "Up to `max`": a call returns at most DRAIN_BYTES of keys and values, so a large
            // log never exceeds what a host copies out in one call (wasmtime's 128 MiB).
            c.drain_removals_within(max, DRAIN_BYTES)
                .into_iter()
                .map(convert::removal)
                .collect()
        })
    }

    fn stats(&self) -> Stats {
        self.with(|c| convert::stats(c.stats()))
    }

    fn reset_stats(&self) {
        self.with(|c| c.reset_stats())
    }

    fn describe(&self) -> String {
        self.with(|c| c.describe())
    }

    fn get_many(&self, keys: Vec<String>) -> Vec<Option<Vec<u8>>> {
        self.with(|c| {
            // Room for one result per key first (evicting if memory is short), then the reads.
            let mut out = build_or_evict(c, |_| {
                let mut out = Vec::new();
                out.try_reserve_exact(keys.len()).ok().map(|()| out)
            })
            .unwrap_or_default();
            out.extend(keys.iter().map(|k| get_one(c, k)));
            out
        })
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), BatchError> {
        self.with(|c| {
            for (index, (key, value)) in entries.into_iter().enumerate() {
                c.set(key, value).map_err(|e| BatchError {
                    index: to_u32(index),
                    error: convert::error(e),
                })?;
            }
            Ok(())
        })
    }

    fn delete_many(&self, keys: Vec<String>) -> u32 {
        self.with(|c| to_u32(keys.iter().filter(|k| c.delete(k)).count()))
    }
}
