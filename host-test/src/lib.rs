//! The component's integration tests drive it through [`Guest`]: an instance of the host crate
//! (`faas-cache-host`) on a simulated clock at [`START_SECONDS`] with a fixed seed, optionally
//! under a memory cap, with one method per export that takes the cache handle first (so a test
//! reads as a list of calls). Invariant: every method is one call of the host crate's typed
//! [`faas_cache_host::Cache`]; nothing here talks to wasmtime itself.

pub mod differential;

use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

pub use faas_cache_host::engine::{component, engine};
pub use faas_cache_host::{
    BatchError, CacheError, CacheId, EvictionPolicy, Expiry, Host, Instance, Options, Removal,
    RemovalCause, SizeExcess, Stats, START_SECONDS,
};

/// A cache handle owned by the guest's instance.
pub type Dict = CacheId;

/// The host every test guest comes from: simulated clock, the tests' fixed seed.
pub(crate) fn test_host(memory_cap: Option<usize>) -> Host {
    let builder = Host::builder()
        .simulated_clock()
        .seed(faas_cache_host::seed::TEST_SEED);
    let builder = match memory_cap {
        Some(bytes) => builder.memory_cap(bytes),
        None => builder,
    };
    builder.build().expect("link the component")
}

/// One instance of the component on a simulated clock.
pub struct Guest(Instance);

impl Deref for Guest {
    type Target = Instance;
    fn deref(&self) -> &Instance {
        &self.0
    }
}

impl DerefMut for Guest {
    fn deref_mut(&mut self) -> &mut Instance {
        &mut self.0
    }
}

impl Guest {
    /// A guest without a memory limit, its clock at `START_SECONDS`.
    pub fn new() -> Guest {
        static HOST: OnceLock<Host> = OnceLock::new();
        Guest::from_host(HOST.get_or_init(|| test_host(None)))
    }

    /// A guest whose linear memory may not grow past `bytes` (growth fails, it does not trap).
    pub fn with_memory_limit(bytes: usize) -> Guest {
        Guest::from_host(&test_host(Some(bytes)))
    }

    /// A new instance of `host`.
    pub fn from_host(host: &Host) -> Guest {
        Guest(host.instantiate().expect("instantiate"))
    }

    /// Drops a handle (the guest frees the cache).
    pub fn drop_dict(&mut self, dict: Dict) {
        self.0.drop_cache(dict)
    }

    /// `policy.policy-of`.
    pub fn policy_of(&mut self, d: Dict) -> EvictionPolicy {
        self.cache(d).policy()
    }

    pub fn get(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        self.cache(d).get(key)
    }
    pub fn peek(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        self.cache(d).peek(key)
    }
    pub fn contains(&mut self, d: Dict, key: &str) -> bool {
        self.cache(d).contains(key)
    }
    pub fn set(&mut self, d: Dict, key: &str, value: &[u8]) -> Result<(), CacheError> {
        self.cache(d).set(key, value)
    }
    pub fn set_with_expiry(
        &mut self,
        d: Dict,
        key: &str,
        value: &[u8],
        expiry: Expiry,
    ) -> Result<(), CacheError> {
        self.cache(d).set_with_expiry(key, value, expiry)
    }
    pub fn delete(&mut self, d: Dict, key: &str) -> bool {
        self.cache(d).delete(key)
    }
    pub fn pop(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        self.cache(d).pop(key)
    }
    pub fn pop_item(&mut self, d: Dict, last: bool) -> Option<(String, Vec<u8>)> {
        self.cache(d).pop_item(last)
    }
    pub fn set_default(&mut self, d: Dict, key: &str, value: &[u8]) -> Result<Vec<u8>, CacheError> {
        self.cache(d).set_default(key, value)
    }
    pub fn move_to_end(&mut self, d: Dict, key: &str, last: bool) -> Result<(), CacheError> {
        self.cache(d).move_to_end(key, last)
    }
    pub fn len(&mut self, d: Dict) -> u32 {
        self.cache(d).len()
    }
    pub fn keys(&mut self, d: Dict) -> Vec<String> {
        self.cache(d).keys()
    }
    pub fn keys_reversed(&mut self, d: Dict) -> Vec<String> {
        self.cache(d).keys_reversed()
    }
    pub fn values(&mut self, d: Dict) -> Vec<Vec<u8>> {
        self.cache(d).values()
    }
    pub fn items(&mut self, d: Dict) -> Vec<(String, Vec<u8>)> {
        self.cache(d).items()
    }
    pub fn clear(&mut self, d: Dict) {
        self.cache(d).clear()
    }
    pub fn get_ttl(&mut self, d: Dict, key: &str) -> Result<Option<f64>, CacheError> {
        self.cache(d).get_ttl(key)
    }
    pub fn set_ttl(&mut self, d: Dict, key: &str, ttl: Option<f64>) -> Result<(), CacheError> {
        self.cache(d).set_ttl(key, ttl)
    }
    pub fn expire_at(&mut self, d: Dict, key: &str, epoch_seconds: f64) -> Result<(), CacheError> {
        self.cache(d).expire_at(key, epoch_seconds)
    }
    pub fn is_expired(&mut self, d: Dict, key: &str) -> Option<bool> {
        self.cache(d).is_expired(key)
    }
    pub fn default_ttl(&mut self, d: Dict) -> Option<f64> {
        self.cache(d).default_ttl()
    }
    pub fn set_default_ttl(&mut self, d: Dict, ttl: Option<f64>) -> Result<(), CacheError> {
        self.cache(d).set_default_ttl(ttl)
    }
    pub fn max_size_bytes(&mut self, d: Dict) -> Option<u64> {
        self.cache(d).max_size_bytes()
    }
    pub fn change_byte_size(&mut self, d: Dict, max_size: Option<&str>) -> Result<(), CacheError> {
        self.cache(d).change_byte_size(max_size)
    }
    pub fn max_items(&mut self, d: Dict) -> Option<u32> {
        self.cache(d).max_items()
    }
    pub fn change_max_items(&mut self, d: Dict, max_items: Option<u32>) -> Result<(), CacheError> {
        self.cache(d).change_max_items(max_items)
    }
    pub fn byte_size(&mut self, d: Dict) -> u64 {
        self.cache(d).byte_size()
    }
    pub fn purge_expired(&mut self, d: Dict) -> u32 {
        self.cache(d).purge_expired()
    }
    pub fn snapshot(&mut self, d: Dict) -> Vec<u8> {
        self.cache(d).snapshot()
    }
    pub fn drain_removals(&mut self, d: Dict, max: u32) -> Vec<Removal> {
        self.cache(d).drain_removals(max)
    }
    pub fn stats(&mut self, d: Dict) -> Stats {
        self.cache(d).stats()
    }
    pub fn reset_stats(&mut self, d: Dict) {
        self.cache(d).reset_stats()
    }
    pub fn describe(&mut self, d: Dict) -> String {
        self.cache(d).describe()
    }
    pub fn get_many(&mut self, d: Dict, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        self.cache(d).get_many(keys)
    }
    pub fn set_many(&mut self, d: Dict, entries: &[(String, Vec<u8>)]) -> Result<(), BatchError> {
        self.cache(d).set_many(entries)
    }
    pub fn delete_many(&mut self, d: Dict, keys: &[String]) -> u32 {
        self.cache(d).delete_many(keys)
    }
}

impl Default for Guest {
    fn default() -> Self {
        Guest::new()
    }
}

/// Options with every limit off and no removal log.
pub fn options() -> Options {
    Options::new()
}
