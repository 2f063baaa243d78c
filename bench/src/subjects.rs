//! The caches every benchmark compares, behind one trait: the native core (`faas-cache`, under
//! LRU and under S3-FIFO, and with a byte budget), `lru`, `quick_cache` (unsync) and `moka`
//! (sync). The report (`src/native.rs`) and the criterion benches (`benches/ops.rs`) both drive
//! them through [`Subject`]. Invariant: every library hashes with the same seeded aHash (`moka`'s
//! builder takes it too) and is bounded by the same item count.

use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::sync::Arc;

use faas_cache::{Cache, Config, EvictionPolicy, SystemClock};
use quick_cache::unsync::DefaultLifecycle;
use quick_cache::UnitWeighter;

pub const FAAS_SEED: (u64, u64) = (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344);

pub fn hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
        0x4528_21e6_38d0_1377,
        0xbe54_66cf_34e9_0c6c,
    )
}

/// What each library implements for the benchmark.
pub trait Subject: Sized {
    const NAME: &'static str;
    type Value;
    fn with_capacity(capacity: usize) -> Self;
    fn make_value(bytes: &[u8]) -> Self::Value;
    /// Looks `key` up; true on a hit (the value's length is read, so the lookup is not elided).
    fn get(&mut self, key: &str) -> bool;
    fn set(&mut self, key: String, value: Self::Value);
    /// Entries held, after any deferred work has been applied.
    fn settled_len(&mut self) -> usize;
}

pub type Lru = lru::LruCache<String, Vec<u8>, ahash::RandomState>;
pub type Quick = quick_cache::unsync::Cache<String, Vec<u8>, UnitWeighter, ahash::RandomState>;
pub type Moka = moka::sync::Cache<String, Arc<[u8]>, ahash::RandomState>;

/// Byte budget per entry of [`FaasBytes`]: above the ~226 accounted bytes of a `key-<i>` entry
/// with a 100-byte value, so the budget never binds.
pub const BUDGET_PER_ENTRY: u64 = 400;

/// One configuration of the core.
pub trait Variant {
    const NAME: &'static str;
    fn config(capacity: usize) -> Config;
}

/// The core (`faas_cache::Cache`) configured by `V`.
pub struct Core<V>(pub Cache<SystemClock>, PhantomData<V>);

/// LRU with an item limit, as the other libraries are bounded.
pub struct ItemLimit;
/// The same core under S3-FIFO (reads raise a counter instead of relinking the entry).
pub struct S3FifoItemLimit;
/// LRU with an item limit and a byte budget that never binds: the cost of byte accounting.
pub struct ItemLimitAndBytes;

pub type Faas = Core<ItemLimit>;
pub type FaasS3Fifo = Core<S3FifoItemLimit>;
pub type FaasBytes = Core<ItemLimitAndBytes>;

impl Variant for ItemLimit {
    const NAME: &'static str = "faas-cache";
    fn config(capacity: usize) -> Config {
        faas_config(capacity)
    }
}

impl Variant for S3FifoItemLimit {
    const NAME: &'static str = "faas-cache s3-fifo";
    fn config(capacity: usize) -> Config {
        Config {
            policy: EvictionPolicy::S3Fifo,
            ..faas_config(capacity)
        }
    }
}

impl Variant for ItemLimitAndBytes {
    const NAME: &'static str = "faas-cache-bytes";
    fn config(capacity: usize) -> Config {
        Config {
            max_size_bytes: Some(capacity as u64 * BUDGET_PER_ENTRY),
            ..faas_config(capacity)
        }
    }
}

impl<V: Variant> Subject for Core<V> {
    const NAME: &'static str = V::NAME;
    type Value = Vec<u8>;
    fn with_capacity(capacity: usize) -> Self {
        let cache = Cache::with_clock_and_seed(V::config(capacity), SystemClock, FAAS_SEED);
        Core(cache.expect("config"), PhantomData)
    }
    fn make_value(bytes: &[u8]) -> Vec<u8> {
        bytes.to_vec()
    }
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        std::hint::black_box(self.0.get(key).map(<[u8]>::len)).is_some()
    }
    #[inline]
    fn set(&mut self, key: String, value: Vec<u8>) {
        self.0.set(key, value).expect("an entry within the limits");
    }
    fn settled_len(&mut self) -> usize {
        self.0.len()
    }
}

pub fn faas_config(capacity: usize) -> Config {
    Config {
        max_items: Some(u32::try_from(capacity).expect("capacity fits in u32")),
        ..Config::default()
    }
}

impl Subject for Lru {
    const NAME: &'static str = "lru";
    type Value = Vec<u8>;
    fn with_capacity(capacity: usize) -> Self {
        Lru::with_hasher(NonZeroUsize::new(capacity).expect("capacity > 0"), hasher())
    }
    fn make_value(bytes: &[u8]) -> Vec<u8> {
        bytes.to_vec()
    }
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        std::hint::black_box(lru::LruCache::get(self, key).map(Vec::len)).is_some()
    }
    #[inline]
    fn set(&mut self, key: String, value: Vec<u8>) {
        self.put(key, value);
    }
    fn settled_len(&mut self) -> usize {
        self.len()
    }
}

impl Subject for Quick {
    const NAME: &'static str = "quick_cache";
    type Value = Vec<u8>;
    fn with_capacity(capacity: usize) -> Self {
        Quick::with(
            capacity,
            capacity as u64,
            UnitWeighter,
            hasher(),
            DefaultLifecycle::default(),
        )
    }
    fn make_value(bytes: &[u8]) -> Vec<u8> {
        bytes.to_vec()
    }
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        std::hint::black_box(quick_cache::unsync::Cache::get(self, key).map(Vec::len)).is_some()
    }
    #[inline]
    fn set(&mut self, key: String, value: Vec<u8>) {
        self.insert(key, value);
    }
    fn settled_len(&mut self) -> usize {
        self.len()
    }
}

impl Subject for Moka {
    const NAME: &'static str = "moka";
    /// `moka` returns values by clone, so they are shared (`Arc`), as its docs advise.
    type Value = Arc<[u8]>;
    fn with_capacity(capacity: usize) -> Self {
        moka::sync::Cache::builder()
            .max_capacity(capacity as u64)
            .build_with_hasher(hasher())
    }
    fn make_value(bytes: &[u8]) -> Arc<[u8]> {
        Arc::from(bytes)
    }
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        std::hint::black_box(moka::sync::Cache::get(self, key).map(|v| v.len())).is_some()
    }
    #[inline]
    fn set(&mut self, key: String, value: Arc<[u8]>) {
        self.insert(key, value);
    }
    fn settled_len(&mut self) -> usize {
        self.run_pending_tasks();
        self.entry_count() as usize
    }
}
