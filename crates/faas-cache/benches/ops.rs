//! Single-threaded cost per operation of `faas_cache::Cache` next to `lru::LruCache` and
//! `quick_cache::unsync::Cache`, on one workload: string keys `key-<i>`, 100-byte values, caches
//! of 1 000, 100 000 and 1 000 000 entries.
//!
//! Groups (ids `<library>/<entries>`):
//! - `get_hit`: keys cycling through a pre-shuffled list of present keys.
//! - `get_miss`: keys that were never inserted (`key-<n>` .. `key-<2n-1>`), shuffled.
//! - `set_new_with_eviction`: the cache is full at its item limit of `n` (`key-0` ..
//!   `key-<n-1>`); every write is a fresh key, so every write evicts one entry. Writes cycle
//!   through `2n` other keys, `key-<n>` .. `key-<3n-1>`: an LRU cache then always holds the last
//!   `n` keys written, never the next one. `quick_cache` (S3-FIFO-like, not LRU) keeps most of the
//!   first `n` keys in its hot queue and churns new keys through its small cold queue; cycling
//!   through `2n` keys also keeps every write fresh there (checked before benchmarking).
//! - `set_overwrite`: writes to present keys, in the shuffled order of `get_hit`.
//!
//! `faas-cache` has an item limit and no byte limit (like the others); `faas-cache-bytes` adds a
//! byte budget large enough for all `n` entries, to show the cost of byte accounting. No entry has
//! a TTL, so the clock is never read (checked before benchmarking with a counting clock).
//!
//! Fairness: keys are formatted before timing; writes take owned keys and values cloned from
//! pre-built ones in the untimed setup of `iter_batched` (batches of `WRITE_BATCH`), so the timed
//! part is the cache call alone (including dropping an evicted or replaced entry). All three
//! caches hash with the same seeded aHash (the hash `faas_cache` uses), so hasher choice does not
//! skew the comparison. Each cache is built once per benchmark, before timing, and dropped
//! afterwards.
//!
//! Run: `cargo bench -p faas-cache --bench ops` (a few minutes) or add `-- --quick`.

use std::cell::Cell;
use std::num::NonZeroUsize;
use std::rc::Rc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, Bencher, BenchmarkGroup, BenchmarkId, Criterion,
};
use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD};
use faas_cache::{Cache, Clock, Config, SystemClock, Time};
use quick_cache::unsync::DefaultLifecycle;
use quick_cache::UnitWeighter;

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// The sizes to run: all of them under `cargo bench`; only the smallest when `cargo test` runs
/// the benches once as a smoke test (it passes no `--bench` flag), so the test suite stays fast.
fn sizes() -> &'static [usize] {
    if std::env::args().any(|a| a == "--bench") {
        &SIZES
    } else {
        &SIZES[..1]
    }
}
const VALUE_LEN: usize = 100;
/// Byte budget per entry of `faas-cache-bytes`: well above the ~226 accounted bytes of an entry.
const BUDGET_PER_ENTRY: u64 = 400;
/// Writes timed per batch: their inputs are cloned just before, untimed, and stay in the CPU cache
/// like a caller's freshly built key and value; one clock read per batch costs < 1 ns per write.
const WRITE_BATCH: u64 = 64;
const FAAS_SEED: (u64, u64) = (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344);

type Lru = lru::LruCache<String, Vec<u8>, ahash::RandomState>;
type Quick = quick_cache::unsync::Cache<String, Vec<u8>, UnitWeighter, ahash::RandomState>;

/// The seeded aHash given to `lru` and `quick_cache` (`faas_cache` builds its own from `FAAS_SEED`).
fn hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
        0x4528_21e6_38d0_1377,
        0xbe54_66cf_34e9_0c6c,
    )
}

/// The operations measured, implemented by each cache.
trait BenchCache {
    fn bench_get(&mut self, key: &str) -> Option<usize>;
    fn bench_set(&mut self, key: String, value: Vec<u8>);
    fn bench_len(&mut self) -> usize;
}

impl<C: Clock> BenchCache for Cache<C> {
    #[inline]
    fn bench_get(&mut self, key: &str) -> Option<usize> {
        self.get(key).map(<[u8]>::len)
    }

    #[inline]
    fn bench_set(&mut self, key: String, value: Vec<u8>) {
        self.set(key, value).expect("an entry within the limits");
    }

    fn bench_len(&mut self) -> usize {
        self.len()
    }
}

impl BenchCache for Lru {
    #[inline]
    fn bench_get(&mut self, key: &str) -> Option<usize> {
        self.get(key).map(Vec::len)
    }

    #[inline]
    fn bench_set(&mut self, key: String, value: Vec<u8>) {
        self.put(key, value);
    }

    fn bench_len(&mut self) -> usize {
        self.len()
    }
}

impl BenchCache for Quick {
    #[inline]
    fn bench_get(&mut self, key: &str) -> Option<usize> {
        self.get(key).map(Vec::len)
    }

    #[inline]
    fn bench_set(&mut self, key: String, value: Vec<u8>) {
        self.insert(key, value);
    }

    fn bench_len(&mut self) -> usize {
        self.len()
    }
}

fn key(i: usize) -> String {
    format!("key-{i}")
}

fn value() -> Vec<u8> {
    (0..VALUE_LEN).map(|i| i as u8).collect()
}

/// `key-<lo>` .. `key-<hi-1>` in order.
fn keys(lo: usize, hi: usize) -> Vec<String> {
    (lo..hi).map(key).collect()
}

/// `key-<lo>` .. `key-<hi-1>` in a fixed pseudo-random order (Fisher-Yates with splitmix64). The
/// strings are allocated in that order, so walking the list reads memory sequentially.
fn shuffled_keys(lo: usize, hi: usize) -> Vec<String> {
    let mut order: Vec<usize> = (lo..hi).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ hi as u64;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order.into_iter().map(key).collect()
}

fn faas_config(n: usize, byte_budget: bool) -> Config {
    Config {
        max_items: Some(u32::try_from(n).expect("n fits in u32")),
        max_size_bytes: byte_budget.then_some(n as u64 * BUDGET_PER_ENTRY),
        ..Config::default()
    }
}

/// Inserts `keys` in order, so that `keys[0]` is the least recently used entry.
fn fill<C: BenchCache>(mut cache: C, keys: &[String], value: &[u8]) -> C {
    for k in keys {
        cache.bench_set(k.clone(), value.to_vec());
    }
    assert_eq!(
        cache.bench_len(),
        keys.len(),
        "every key stays after the fill"
    );
    cache
}

fn build_faas(n: usize, byte_budget: bool, keys: &[String], value: &[u8]) -> Cache<SystemClock> {
    let cache = Cache::with_clock_and_seed(faas_config(n, byte_budget), SystemClock, FAAS_SEED)
        .expect("a valid config");
    fill(cache, keys, value)
}

fn build_lru(n: usize, keys: &[String], value: &[u8]) -> Lru {
    let cap = NonZeroUsize::new(n).expect("n > 0");
    fill(Lru::with_hasher(cap, hasher()), keys, value)
}

fn build_quick(n: usize, keys: &[String], value: &[u8]) -> Quick {
    let cache = Quick::with(
        n,
        n as u64,
        UnitWeighter,
        hasher(),
        DefaultLifecycle::default(),
    );
    fill(cache, keys, value)
}

/// What one group does with a built cache.
trait Workload {
    /// Checks the built cache before it is timed (untimed).
    fn check<C: BenchCache>(&self, _cache: &mut C) {}

    /// Times `b.iters` operations; `cursor` carries the position in the key list across calls.
    fn run<C: BenchCache>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut C,
        cursor: &mut usize,
        value: &[u8],
    );
}

/// Advances a cursor cycling through `0..len`.
#[inline]
fn advance(cursor: &mut usize, len: usize) -> usize {
    let at = *cursor;
    *cursor = if at + 1 == len { 0 } else { at + 1 };
    at
}

struct Get<'a> {
    probes: &'a [String],
    hit: bool,
}

impl Workload for Get<'_> {
    fn check<C: BenchCache>(&self, cache: &mut C) {
        let found = self
            .probes
            .iter()
            .filter(|k| cache.bench_get(k).is_some())
            .count();
        let expected = if self.hit { self.probes.len() } else { 0 };
        assert_eq!(
            found,
            expected,
            "get_{} probes",
            if self.hit { "hit" } else { "miss" }
        );
    }

    fn run<C: BenchCache>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut C,
        cursor: &mut usize,
        _value: &[u8],
    ) {
        let probes = self.probes;
        b.iter(|| cache.bench_get(&probes[advance(cursor, probes.len())]));
    }
}

struct Set<'a> {
    /// Keys written, cycled through in order.
    keys: &'a [String],
}

impl Workload for Set<'_> {
    fn run<C: BenchCache>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut C,
        cursor: &mut usize,
        value: &[u8],
    ) {
        let keys = self.keys;
        b.iter_batched(
            || (keys[advance(cursor, keys.len())].clone(), value.to_vec()),
            |(k, v)| cache.bench_set(k, v),
            BatchSize::NumIterations(WRITE_BATCH),
        );
    }
}

/// Benchmarks `workload` on a cache from `build`, built at its first use (not timed, and not at
/// all when a filter skips the benchmark) and dropped afterwards.
fn run_one<C: BenchCache, W: Workload>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    build: impl FnOnce() -> C,
    workload: &W,
    value: &[u8],
) {
    let mut build = Some(build);
    let mut cache: Option<C> = None;
    let mut cursor = 0;
    group.bench_function(id, |b| {
        let cache = cache.get_or_insert_with(|| {
            let mut c = (build.take().expect("built once"))();
            workload.check(&mut c);
            c
        });
        workload.run(b, cache, &mut cursor, value);
    });
}

/// Runs `workload` on every library at size `n`, each cache filled with `keys` (`key-0` ..
/// `key-<n-1>`) in order.
fn each_library<W: Workload>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    n: usize,
    keys: &[String],
    value: &[u8],
    workload: &W,
) {
    let id = |name: &str| BenchmarkId::new(name, n);
    run_one(
        group,
        id("faas-cache"),
        || build_faas(n, false, keys, value),
        workload,
        value,
    );
    run_one(
        group,
        id("faas-cache-bytes"),
        || build_faas(n, true, keys, value),
        workload,
        value,
    );
    run_one(
        group,
        id("lru"),
        || build_lru(n, keys, value),
        workload,
        value,
    );
    run_one(
        group,
        id("quick_cache"),
        || build_quick(n, keys, value),
        workload,
        value,
    );
}

fn get_hit(c: &mut Criterion) {
    let value = value();
    let mut group = c.benchmark_group("get_hit");
    for &n in sizes() {
        let present = keys(0, n);
        let probes = shuffled_keys(0, n);
        each_library(
            &mut group,
            n,
            &present,
            &value,
            &Get {
                probes: &probes,
                hit: true,
            },
        );
    }
    group.finish();
}

fn get_miss(c: &mut Criterion) {
    let value = value();
    let mut group = c.benchmark_group("get_miss");
    for &n in sizes() {
        let present = keys(0, n);
        let probes = shuffled_keys(n, 2 * n);
        each_library(
            &mut group,
            n,
            &present,
            &value,
            &Get {
                probes: &probes,
                hit: false,
            },
        );
    }
    group.finish();
}

fn set_new_with_eviction(c: &mut Criterion) {
    let value = value();
    let mut group = c.benchmark_group("set_new_with_eviction");
    for &n in sizes() {
        let present = keys(0, n);
        let fresh = keys(n, 3 * n);
        each_library(&mut group, n, &present, &value, &Set { keys: &fresh });
    }
    group.finish();
}

fn set_overwrite(c: &mut Criterion) {
    let value = value();
    let mut group = c.benchmark_group("set_overwrite");
    for &n in sizes() {
        let present = keys(0, n);
        let probes = shuffled_keys(0, n);
        each_library(&mut group, n, &present, &value, &Set { keys: &probes });
    }
    group.finish();
}

/// A clock that counts its reads.
#[derive(Clone, Default)]
struct CountingClock(Rc<Cell<u64>>);

impl Clock for CountingClock {
    fn now(&self) -> Time {
        self.0.set(self.0.get() + 1);
        Time::from_unix(1_700_000_000, 0)
    }
}

/// Checks, on a small cache, what the benchmarks assume: no operation reads the clock, every
/// `set_new_with_eviction` write is a fresh key that evicts exactly one entry for the item limit
/// (for `quick_cache` too), overwrites evict nothing, and the byte budget never binds.
fn check_assumptions(_c: &mut Criterion) {
    let n = 1_000;
    let value = value();
    let present = keys(0, n);
    let fresh = keys(n, 3 * n);
    let largest = SIZES[SIZES.len() - 1] as u64;
    let longest_key = key(3 * SIZES[SIZES.len() - 1] - 1).len();
    assert!(
        CACHE_OVERHEAD + largest * entry_bytes(longest_key, VALUE_LEN) < largest * BUDGET_PER_ENTRY,
        "the byte budget of faas-cache-bytes must hold every entry"
    );
    let writes = 3 * fresh.len();

    for byte_budget in [false, true] {
        let clock = CountingClock::default();
        let cache =
            Cache::with_clock_and_seed(faas_config(n, byte_budget), clock.clone(), FAAS_SEED)
                .expect("valid");
        let mut cache = fill(cache, &present, &value);
        assert!(present.iter().all(|k| cache.bench_get(k).is_some()));
        assert!(fresh.iter().all(|k| cache.bench_get(k).is_none()));
        for t in 0..writes {
            cache.bench_set(fresh[t % fresh.len()].clone(), value.clone());
        }
        // The cache now holds the last `n` keys written: overwriting them evicts nothing.
        for t in writes - n..writes {
            cache.bench_set(fresh[t % fresh.len()].clone(), value.clone());
        }
        let stats = cache.stats();
        assert_eq!(
            stats.inserts,
            (n + writes) as u64,
            "every cycled write is fresh"
        );
        assert_eq!(stats.updates, n as u64, "overwrites find their key");
        assert_eq!(
            stats.evicted_count, writes as u64,
            "one eviction per fresh write, none per overwrite"
        );
        assert_eq!(stats.evicted_size, 0, "the byte budget never binds");
        assert_eq!(clock.0.get(), 0, "no operation reads the clock");
    }

    let mut quick = build_quick(n, &present, &value);
    let mut lru = build_lru(n, &present, &value);
    for t in 0..writes {
        let k = &fresh[t % fresh.len()];
        assert!(!quick.contains_key(k.as_str()), "quick_cache: {k} is fresh");
        assert!(!lru.contains(k.as_str()), "lru: {k} is fresh");
        quick.bench_set(k.clone(), value.clone());
        lru.bench_set(k.clone(), value.clone());
        assert_eq!(
            (quick.bench_len(), lru.bench_len()),
            (n, n),
            "one eviction per fresh write"
        );
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(2_000))
        .nresamples(20_000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = check_assumptions, get_hit, get_miss, set_new_with_eviction, set_overwrite
}
criterion_main!(benches);
