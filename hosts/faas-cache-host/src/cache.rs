//! [`Cache`]: one cache of an [`Instance`], with a plain Rust method per call of the
//! `faas:cache/cache` contract (`wit/cache.wit`, whose comments are the spec of each call).
//! Invariant: each method is one call into the guest (the batch calls, more than one when their
//! arguments would not fit under a memory cap at once); a trap panics (see [`crate::instance`]),
//! a contract error comes back as the contract's error value. Arguments too large for guest
//! memory under the cap ([`Instance::arguments_fit`]) never reach the guest: a write gets
//! `OutOfMemory`, a lookup the answer for an absent key (such a key cannot be stored).

use crate::bindings::{BatchError, CacheError, EvictionPolicy, Expiry, Removal, Stats};
use crate::instance::{trapped, CacheId, Instance};

/// A view of the cache `id` in `instance`, borrowed for a few calls.
pub struct Cache<'i> {
    instance: &'i mut Instance,
    id: CacheId,
}

/// Guest bytes a `list<string>` element takes beside its characters (pointer and length).
const STRING_SLOT: usize = 8;
/// Guest bytes a `tuple<string, list<u8>>` element takes beside its bytes.
const ENTRY_SLOT: usize = 16;

/// How many times its bytes a batch of several elements needs in guest memory, against the room
/// for one argument ([`Instance::arguments_fit`]). The elements are separate allocations that
/// must all be live at once, in a heap that the allocations outliving the entries split, so a
/// batch that fits only exactly can fail to place its last element; a differential sequence
/// trapped so on a 904 KiB batch under a 1.5 MiB cap before this allowance.
const BATCH_ALLOWANCE: usize = 2;

/// Guest bytes of one key of a batch argument.
fn key_bytes(key: &str) -> usize {
    key.len() + STRING_SLOT
}

/// Guest bytes of one entry of a batch argument.
fn entry_bytes((key, value): &(String, Vec<u8>)) -> usize {
    key.len() + value.len() + ENTRY_SLOT
}

/// `items` cut into runs whose guest bytes (`size`) fit under `fits`, in order; an item that
/// fits on no account is a run of its own.
fn runs<T>(items: &[T], size: impl Fn(&T) -> usize, fits: impl Fn(usize) -> bool) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && !fits(bytes + n) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// One call of `cache-dict.$method`. With `if $bytes fit else $refused`, arguments of `$bytes`
/// that cannot fit under the memory cap get `$refused` instead of reaching the guest.
macro_rules! call {
    ($self:ident, if $bytes:expr, fit else $refused:expr, $method:ident $(, $arg:expr)*) => {{
        if !$self.instance.arguments_fit($bytes) {
            return $refused;
        }
        call!($self, $method $(, $arg)*)
    }};
    ($self:ident, $method:ident $(, $arg:expr)*) => {{
        let (bindings, store) = $self.instance.bindings();
        bindings
            .faas_cache_cache()
            .cache_dict()
            .$method(store, $self.id.0 $(, $arg)*)
            .unwrap_or_else(trapped(stringify!($method)))
    }};
}

impl<'i> Cache<'i> {
    pub(crate) fn new(instance: &'i mut Instance, id: CacheId) -> Cache<'i> {
        Cache { instance, id }
    }

    /// Whether a batch (more than one element) of `bytes` can be copied into the guest at once.
    fn batch_fits(&self, bytes: usize) -> bool {
        self.instance
            .arguments_fit(bytes.saturating_mul(BATCH_ALLOWANCE))
    }

    /// The cache's id in its instance.
    pub fn id(&self) -> CacheId {
        self.id
    }

    /// The value of a live `key` (a hit makes it most recently used).
    pub fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        call!(self, if key.len(), fit else None, call_get, key)
    }
    /// The value of a live `key`, without touching its place.
    pub fn peek(&mut self, key: &str) -> Option<Vec<u8>> {
        call!(self, if key.len(), fit else None, call_peek, key)
    }
    pub fn contains(&mut self, key: &str) -> bool {
        call!(self, if key.len(), fit else false, call_contains, key)
    }
    /// Stores `value` under `key` with the default TTL.
    pub fn set(&mut self, key: &str, value: &[u8]) -> Result<(), CacheError> {
        call!(self, if key.len() + value.len(), fit else Err(CacheError::OutOfMemory), call_set, key, value)
    }
    pub fn set_with_expiry(
        &mut self,
        key: &str,
        value: &[u8],
        expiry: Expiry,
    ) -> Result<(), CacheError> {
        call!(self, if key.len() + value.len(), fit else Err(CacheError::OutOfMemory), call_set_with_expiry, key, value, expiry)
    }
    pub fn delete(&mut self, key: &str) -> bool {
        call!(self, if key.len(), fit else false, call_delete, key)
    }
    pub fn pop(&mut self, key: &str) -> Option<Vec<u8>> {
        call!(self, if key.len(), fit else None, call_pop, key)
    }
    pub fn pop_item(&mut self, last: bool) -> Option<(String, Vec<u8>)> {
        call!(self, call_pop_item, last)
    }
    pub fn set_default(&mut self, key: &str, value: &[u8]) -> Result<Vec<u8>, CacheError> {
        call!(self, if key.len() + value.len(), fit else Err(CacheError::OutOfMemory), call_set_default, key, value)
    }
    pub fn move_to_end(&mut self, key: &str, last: bool) -> Result<(), CacheError> {
        call!(self, if key.len(), fit else Err(CacheError::KeyNotFound), call_move_to_end, key, last)
    }
    pub fn len(&mut self) -> u32 {
        call!(self, call_len)
    }
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
    pub fn keys(&mut self) -> Vec<String> {
        call!(self, call_keys)
    }
    pub fn keys_reversed(&mut self) -> Vec<String> {
        call!(self, call_keys_reversed)
    }
    pub fn values(&mut self) -> Vec<Vec<u8>> {
        call!(self, call_values)
    }
    pub fn items(&mut self) -> Vec<(String, Vec<u8>)> {
        call!(self, call_items)
    }
    pub fn clear(&mut self) {
        call!(self, call_clear)
    }
    pub fn get_ttl(&mut self, key: &str) -> Result<Option<f64>, CacheError> {
        call!(self, if key.len(), fit else Err(CacheError::KeyNotFound), call_get_ttl, key)
    }
    pub fn set_ttl(&mut self, key: &str, ttl: Option<f64>) -> Result<(), CacheError> {
        call!(self, if key.len(), fit else Err(CacheError::KeyNotFound), call_set_ttl, key, ttl)
    }
    pub fn expire_at(&mut self, key: &str, epoch_seconds: f64) -> Result<(), CacheError> {
        call!(self, if key.len(), fit else Err(CacheError::KeyNotFound), call_expire_at, key, epoch_seconds)
    }
    pub fn is_expired(&mut self, key: &str) -> Option<bool> {
        call!(self, if key.len(), fit else None, call_is_expired, key)
    }
    pub fn default_ttl(&mut self) -> Option<f64> {
        call!(self, call_default_ttl)
    }
    pub fn set_default_ttl(&mut self, ttl: Option<f64>) -> Result<(), CacheError> {
        call!(self, call_set_default_ttl, ttl)
    }
    pub fn max_size_bytes(&mut self) -> Option<u64> {
        call!(self, call_max_size_bytes)
    }
    pub fn change_byte_size(&mut self, max_size: Option<&str>) -> Result<(), CacheError> {
        call!(self, call_change_byte_size, max_size)
    }
    pub fn max_items(&mut self) -> Option<u32> {
        call!(self, call_max_items)
    }
    pub fn change_max_items(&mut self, max_items: Option<u32>) -> Result<(), CacheError> {
        call!(self, call_change_max_items, max_items)
    }
    pub fn byte_size(&mut self) -> u64 {
        call!(self, call_byte_size)
    }
    pub fn purge_expired(&mut self) -> u32 {
        call!(self, call_purge_expired)
    }
    /// The cache as bytes that [`Instance::restore`] takes, in this instance or another.
    pub fn snapshot(&mut self) -> Vec<u8> {
        call!(self, call_snapshot)
    }
    pub fn drain_removals(&mut self, max: u32) -> Vec<Removal> {
        call!(self, call_drain_removals, max)
    }
    pub fn stats(&mut self) -> Stats {
        call!(self, call_stats)
    }
    pub fn reset_stats(&mut self) {
        call!(self, call_reset_stats)
    }
    /// The original's `repr`: settings, bytes and items.
    pub fn describe(&mut self) -> String {
        call!(self, call_describe)
    }
    pub fn get_many(&mut self, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        if self.batch_fits(keys.iter().map(|k| key_bytes(k)).sum()) {
            return call!(self, call_get_many, keys);
        }
        let mut values = Vec::with_capacity(keys.len());
        for run in runs(keys, |k| key_bytes(k), |n| self.batch_fits(n)) {
            if run.len() == 1 {
                values.push(self.get(&run[0]));
            } else {
                values.extend(call!(self, call_get_many, run));
            }
        }
        values
    }
    pub fn set_many(&mut self, entries: &[(String, Vec<u8>)]) -> Result<(), BatchError> {
        if self.batch_fits(entries.iter().map(entry_bytes).sum()) {
            return call!(self, call_set_many, entries);
        }
        let mut done = 0u32;
        for run in runs(entries, entry_bytes, |n| self.batch_fits(n)) {
            let written = if run.len() == 1 {
                let (key, value) = &run[0];
                self.set(key, value)
                    .map_err(|error| BatchError { index: 0, error })
            } else {
                call!(self, call_set_many, run)
            };
            written.map_err(|e| BatchError {
                index: done + e.index,
                error: e.error,
            })?;
            done += run.len() as u32;
        }
        Ok(())
    }
    pub fn delete_many(&mut self, keys: &[String]) -> u32 {
        if self.batch_fits(keys.iter().map(|k| key_bytes(k)).sum()) {
            return call!(self, call_delete_many, keys);
        }
        let mut removed = 0;
        for run in runs(keys, |k| key_bytes(k), |n| self.batch_fits(n)) {
            removed += if run.len() == 1 {
                u32::from(self.delete(&run[0]))
            } else {
                call!(self, call_delete_many, run)
            };
        }
        removed
    }
    /// The cache's eviction policy (`policy.policy-of`).
    pub fn policy(&mut self) -> EvictionPolicy {
        let (bindings, store) = self.instance.bindings();
        bindings
            .faas_cache_policy()
            .call_policy_of(store, self.id.0)
            .unwrap_or_else(trapped("policy-of"))
    }
}
