//! Criterion benches: single-threaded cost per operation of `faas_cache::Cache` next to
//! `lru::LruCache` and `quick_cache::unsync::Cache`, through the report's adapters
//! (`faas_cache_bench::subjects`), on one workload: string keys `key-<i>`, 100-byte values, caches
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
//! Run: `cargo bench -p faas-cache-bench --bench ops` (a few minutes) or add `-- --quick`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, Bencher, BenchmarkGroup, BenchmarkId, Criterion,
};
use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD};
use faas_cache::{Cache, Clock, Config, Time};
use faas_cache_bench::subjects::{
    Faas, FaasBytes, Lru, Quick, Subject, BUDGET_PER_ENTRY, FAAS_SEED,
};
use faas_cache_bench::workload::{key, shuffled_keys, value, VALUE_LEN};

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

/// Writes timed per batch: their inputs are cloned just before, untimed, and stay in the CPU cache
/// like a caller's freshly built key and value; one clock read per batch costs < 1 ns per write.
const WRITE_BATCH: u64 = 64;

/// `key-<lo>` .. `key-<hi-1>` in order.
fn keys(lo: usize, hi: usize) -> Vec<String> {
    (lo..hi).map(key).collect()
}

/// A cache of `n` entries filled with `keys` in order, so that `keys[0]` is the least recently
/// used entry.
fn fill<S: Subject<Value = Vec<u8>>>(n: usize, keys: &[String], value: &[u8]) -> S {
    let mut cache = S::with_capacity(n);
    for k in keys {
        cache.set(k.clone(), value.to_vec());
    }
    assert_eq!(
        cache.settled_len(),
        keys.len(),
        "every key stays after the fill"
    );
    cache
}

/// What one group does with a built cache.
trait Workload {
    /// Checks the built cache before it is timed (untimed).
    fn check<S: Subject<Value = Vec<u8>>>(&self, _cache: &mut S) {}

    /// Times `b.iters` operations; `cursor` carries the position in the key list across calls.
    fn run<S: Subject<Value = Vec<u8>>>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut S,
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
    fn check<S: Subject<Value = Vec<u8>>>(&self, cache: &mut S) {
        let found = self.probes.iter().filter(|k| cache.get(k)).count();
        let expected = if self.hit { self.probes.len() } else { 0 };
        assert_eq!(
            found,
            expected,
            "get_{} probes",
            if self.hit { "hit" } else { "miss" }
        );
    }

    fn run<S: Subject<Value = Vec<u8>>>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut S,
        cursor: &mut usize,
        _value: &[u8],
    ) {
        let probes = self.probes;
        b.iter(|| cache.get(&probes[advance(cursor, probes.len())]));
    }
}

struct Set<'a> {
    /// Keys written, cycled through in order.
    keys: &'a [String],
}

impl Workload for Set<'_> {
    fn run<S: Subject<Value = Vec<u8>>>(
        &self,
        b: &mut Bencher<'_, WallTime>,
        cache: &mut S,
        cursor: &mut usize,
        value: &[u8],
    ) {
        let keys = self.keys;
        b.iter_batched(
            || (keys[advance(cursor, keys.len())].clone(), value.to_vec()),
            |(k, v)| cache.set(k, v),
            BatchSize::NumIterations(WRITE_BATCH),
        );
    }
}

/// Benchmarks `workload` on a cache from `build`, built at its first use (not timed, and not at
/// all when a filter skips the benchmark) and dropped afterwards.
fn run_one<S: Subject<Value = Vec<u8>>, W: Workload>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    build: impl FnOnce() -> S,
    workload: &W,
    value: &[u8],
) {
    let mut build = Some(build);
    let mut cache: Option<S> = None;
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
    fn one<S: Subject<Value = Vec<u8>>, W: Workload>(
        group: &mut BenchmarkGroup<'_, WallTime>,
        n: usize,
        keys: &[String],
        value: &[u8],
        workload: &W,
    ) {
        let id = BenchmarkId::new(S::NAME, n);
        run_one(group, id, || fill::<S>(n, keys, value), workload, value);
    }
    one::<Faas, W>(group, n, keys, value, workload);
    one::<FaasBytes, W>(group, n, keys, value, workload);
    one::<Lru, W>(group, n, keys, value, workload);
    one::<Quick, W>(group, n, keys, value, workload);
}

/// The `get` groups: `probes` looked up in caches holding `key-0` .. `key-<n-1>`.
fn gets(c: &mut Criterion, name: &str, probes: impl Fn(usize) -> Vec<String>, hit: bool) {
    let value = value();
    let mut group = c.benchmark_group(name);
    for &n in sizes() {
        let present = keys(0, n);
        let probes = probes(n);
        let workload = Get {
            probes: &probes,
            hit,
        };
        each_library(&mut group, n, &present, &value, &workload);
    }
    group.finish();
}

/// The `set` groups: `written(n)` cycled through caches holding `key-0` .. `key-<n-1>`.
fn sets(c: &mut Criterion, name: &str, written: impl Fn(usize) -> Vec<String>) {
    let value = value();
    let mut group = c.benchmark_group(name);
    for &n in sizes() {
        let present = keys(0, n);
        let written = written(n);
        each_library(&mut group, n, &present, &value, &Set { keys: &written });
    }
    group.finish();
}

fn get_hit(c: &mut Criterion) {
    gets(c, "get_hit", |n| shuffled_keys(0, n), true);
}

fn get_miss(c: &mut Criterion) {
    gets(c, "get_miss", |n| shuffled_keys(n, 2 * n), false);
}

fn set_new_with_eviction(c: &mut Criterion) {
    sets(c, "set_new_with_eviction", |n| keys(n, 3 * n));
}

fn set_overwrite(c: &mut Criterion) {
    sets(c, "set_overwrite", |n| shuffled_keys(0, n));
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
        let config = Config {
            max_items: Some(n as u32),
            max_size_bytes: byte_budget.then_some(n as u64 * BUDGET_PER_ENTRY),
            ..Config::default()
        };
        let mut cache =
            Cache::with_clock_and_seed(config, clock.clone(), FAAS_SEED).expect("valid");
        for k in &present {
            cache.set(k.clone(), value.clone()).expect("fits");
        }
        assert!(present.iter().all(|k| cache.get(k).is_some()));
        assert!(fresh.iter().all(|k| cache.get(k).is_none()));
        for t in 0..writes {
            cache
                .set(fresh[t % fresh.len()].clone(), value.clone())
                .expect("fits");
        }
        // The cache now holds the last `n` keys written: overwriting them evicts nothing.
        for t in writes - n..writes {
            cache
                .set(fresh[t % fresh.len()].clone(), value.clone())
                .expect("fits");
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

    let mut quick = fill::<Quick>(n, &present, &value);
    let mut lru = fill::<Lru>(n, &present, &value);
    for t in 0..writes {
        let k = &fresh[t % fresh.len()];
        assert!(!quick.contains_key(k.as_str()), "quick_cache: {k} is fresh");
        assert!(!lru.contains(k.as_str()), "lru: {k} is fresh");
        Subject::set(&mut quick, k.clone(), value.clone());
        Subject::set(&mut lru, k.clone(), value.clone());
        assert_eq!(
            (quick.settled_len(), lru.settled_len()),
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
