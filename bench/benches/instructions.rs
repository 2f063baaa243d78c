//! Instruction counts per cache operation, under callgrind (driven by `gungraun`): the steady
//! instrument of the report (`src/steady.rs` runs this and reads its JSON summary), next to the
//! wall-clock figures that spread widely on a shared VM.
//!
//! Invariant: a benchmark counts its N operations and nothing else. Every cache is built, filled
//! and checked in an untimed `setup`, every key and value is formatted there, and the bench
//! function returns what it used so that freeing it falls outside the count (gungraun counts
//! only inside the bench function, `--toggle-collect`). The figure per operation is the count
//! divided by N: the fixed part (entering the function, starting the loop) is a few dozen
//! instructions, under 0.01 per operation at N = 10 000, so no second batch size is run to cancel
//! it; the driving loop (a slice walk, `black_box` of the result) is a few instructions per
//! operation, the same for every library. What the setup made stays alive until the teardown, so
//! glibc never consolidates the setup's freed memory inside the count. N is `FAAS_STEADY_OPS`
//! (default 10 000).
//!
//! Groups (ids `e<entries>`):
//! - `native_get_hit`: N lookups of present keys (`key-<i>`, 100-byte values), cycling through a
//!   seeded shuffle of the `n` keys, on a cache filled to its item limit `n`.
//! - `native_set_evict`: N writes of fresh keys (`key-<n>` .. `key-<n+N-1>`) into a cache full at
//!   its item limit `n`, so every write evicts one entry (or, for `moka`, is weighed against one
//!   by its admission policy); the evicted entry is freed inside the count.
//! - `through_wasmtime` (1 000 entries): through the `faas_cache_host` crate as the report's boundary
//!   section calls it, N get-hits of the component against N `get`s of the floor component
//!   (`faas_cache_bench::floor`), and N keys in get-many calls of 100 keys, on both.
//!
//! Libraries, through the report's adapters (`faas_cache_bench::subjects`): `faas-cache` (LRU),
//! `faas-cache s3-fifo`, `lru`, `quick_cache` (unsync) and `moka` (sync), all hashing with the
//! same seeded aHash.
//!
//! Run: `cargo bench -p faas-cache-bench --bench instructions` with valgrind and
//! `gungraun-runner` 0.20 installed (`src/steady.rs` installs the runner into `target/tools` and
//! puts it on `PATH`). Outside `cargo bench` (`cargo test --all-targets`) every benchmark runs
//! once natively instead, with its checks, and nothing is counted.

use std::hint::black_box;

use faas_cache_bench::subjects::{Faas, FaasS3Fifo, Lru, Moka, Quick, Subject};
use faas_cache_bench::workload::{key, shuffled_keys, value};
use faas_cache_host::{CacheId, Host, Instance, Options};
use gungraun::{library_benchmark, library_benchmark_group, main, LibraryBenchmarkConfig};
use wasmtime::component::{Instance as WasmInstance, TypedFunc};
use wasmtime::Store;

/// The variable that sets N, the operations per benchmark.
const OPS_ENV: &str = "FAAS_STEADY_OPS";
const DEFAULT_OPS: usize = 10_000;
/// Entries held during the wasmtime benchmarks (as in the report's boundary section).
const WASM_ENTRIES: usize = 1_000;
/// Keys per get-many call.
const BATCH: usize = 100;

/// N, the operations each benchmark counts.
fn ops() -> usize {
    std::env::var(OPS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_OPS)
}

/// `count` keys cycling through `keys`, laid out in the order they are used.
fn cycled(keys: &[String], count: usize) -> Vec<String> {
    keys.iter().cycle().take(count).cloned().collect()
}

/// A cache with item limit `n` holding `key-0` .. `key-<n-1>`.
fn filled<S: Subject>(n: usize) -> S {
    let bytes = value();
    let mut cache = S::with_capacity(n);
    for i in 0..n {
        cache.set(key(i), S::make_value(&bytes));
    }
    assert_eq!(cache.settled_len(), n, "{}: every key stays", S::NAME);
    cache
}

/// A full cache, the keys to look up, and the hits found. `_setup` keeps what the setup made
/// alive until after the count: freeing a million keys just before it would leave glibc's fast
/// bins full, and their consolidation (on the next large free or allocation) would be charged to
/// the library that triggers it.
struct Lookups<S> {
    cache: S,
    probes: Vec<String>,
    hits: usize,
    _setup: Vec<Vec<String>>,
}

/// The probes are not looked up before the count (the teardown checks that each one hit), so at
/// the large sizes the count sees the cache misses of lookups spread over the whole cache. N
/// other keys are looked up first, so that work a library defers to its first reads (`moka`'s
/// frequency sketch) is not charged to N operations.
fn setup_lookups<S: Subject>(n: usize) -> Lookups<S> {
    let mut cache = filled::<S>(n);
    let shuffled = shuffled_keys(0, n);
    let n_ops = ops();
    let probes = cycled(&shuffled, n_ops);
    let others = if n > n_ops {
        &shuffled[n_ops..]
    } else {
        &shuffled[..]
    };
    let warm = cycled(others, n_ops);
    assert!(warm.iter().all(|k| cache.get(k)), "present keys");
    Lookups {
        cache,
        probes,
        hits: 0,
        _setup: vec![shuffled, warm],
    }
}

#[inline(always)]
fn lookups<S: Subject>(mut l: Lookups<S>) -> Lookups<S> {
    let mut hits = 0;
    for k in &l.probes {
        hits += usize::from(l.cache.get(k));
    }
    l.hits = hits;
    l
}

fn every_lookup_hit<S>(l: Lookups<S>) {
    assert_eq!(l.hits, l.probes.len(), "every probe hits");
}

/// A cache full at its item limit, the owned (key, value) pairs to write, and the limit.
struct Writes<S: Subject> {
    cache: S,
    pairs: Vec<(String, S::Value)>,
    limit: usize,
}

fn setup_writes<S: Subject>(n: usize) -> Writes<S> {
    let cache = filled::<S>(n);
    let bytes = value();
    let pairs = (n..n + ops())
        .map(|i| (key(i), S::make_value(&bytes)))
        .collect();
    Writes {
        cache,
        pairs,
        limit: n,
    }
}

/// `drain` leaves the emptied vector's buffer to be freed after the count (a free that large can
/// make glibc consolidate its fast bins, a cost of the harness, not of the cache).
#[inline(always)]
fn writes<S: Subject>(mut w: Writes<S>) -> Writes<S> {
    for (k, v) in w.pairs.drain(..) {
        w.cache.set(k, v);
    }
    w
}

fn still_full<S: Subject>(mut w: Writes<S>) {
    assert_eq!(w.cache.settled_len(), w.limit, "{}: full, bounded", S::NAME);
}

/// One `get_hit` and one `set_evict` benchmark for a library, at every size.
macro_rules! native {
    ($get:ident, $set:ident, $subject:ty) => {
        #[library_benchmark(setup = setup_lookups, teardown = every_lookup_hit)]
        #[bench::e1000(1_000)]
        #[bench::e10000(10_000)]
        #[bench::e100000(100_000)]
        #[bench::e1000000(1_000_000)]
        fn $get(l: Lookups<$subject>) -> Lookups<$subject> {
            black_box(lookups(l))
        }

        #[library_benchmark(setup = setup_writes, teardown = still_full)]
        #[bench::e1000(1_000)]
        #[bench::e10000(10_000)]
        #[bench::e100000(100_000)]
        #[bench::e1000000(1_000_000)]
        fn $set(w: Writes<$subject>) -> Writes<$subject> {
            black_box(writes(w))
        }
    };
}

native!(get_hit_faas_cache, set_evict_faas_cache, Faas);
native!(
    get_hit_faas_cache_s3fifo,
    set_evict_faas_cache_s3fifo,
    FaasS3Fifo
);
native!(get_hit_lru, set_evict_lru, Lru);
native!(get_hit_quick_cache, set_evict_quick_cache, Quick);
native!(get_hit_moka, set_evict_moka, Moka);

library_benchmark_group!(
    name = native_get_hit,
    benchmarks = [
        get_hit_faas_cache,
        get_hit_faas_cache_s3fifo,
        get_hit_lru,
        get_hit_quick_cache,
        get_hit_moka
    ]
);

library_benchmark_group!(
    name = native_set_evict,
    benchmarks = [
        set_evict_faas_cache,
        set_evict_faas_cache_s3fifo,
        set_evict_lru,
        set_evict_quick_cache,
        set_evict_moka
    ]
);

/// An instance of the component holding `key-0` .. `key-<WASM_ENTRIES-1>` (100 B each) in a
/// cache with default options, the host as the report's (simulated clock, fixed seed).
struct Component {
    instance: Instance,
    id: CacheId,
    probes: Vec<String>,
    batches: Vec<Vec<String>>,
    hits: usize,
    _present: Vec<String>,
}

fn setup_component(_entries: usize) -> Component {
    let host = Host::builder()
        .simulated_clock()
        .seed(faas_cache_host::seed::TEST_SEED)
        .build()
        .expect("link the component");
    let mut instance = host.instantiate().expect("instantiate");
    let id = instance.create(&Options::new()).expect("create");
    let bytes = value();
    for i in 0..WASM_ENTRIES {
        instance.cache(id).set(&key(i), &bytes).expect("set");
    }
    let present = shuffled_keys(0, WASM_ENTRIES);
    let probes = cycled(&present, ops());
    let batches: Vec<Vec<String>> = probes.chunks(BATCH).map(<[String]>::to_vec).collect();
    // Warm: every key read once through both exports, so no first-call work is counted.
    for k in &present {
        assert!(instance.cache(id).get(k).is_some(), "present keys");
    }
    for b in present.chunks(BATCH) {
        assert!(instance.cache(id).get_many(b).iter().all(Option::is_some));
    }
    Component {
        instance,
        id,
        probes,
        batches,
        hits: 0,
        _present: present,
    }
}

fn component_hit_every_key(c: Component) {
    assert_eq!(c.hits, c.probes.len(), "every key hits");
}

#[inline(always)]
fn component_gets(mut c: Component) -> Component {
    let mut hits = 0;
    for k in &c.probes {
        let v = c.instance.cache(c.id).get(k);
        hits += usize::from(v.is_some_and(|v| v.len() == 100));
    }
    c.hits = hits;
    c
}

#[inline(always)]
fn component_get_many(mut c: Component) -> Component {
    let mut hits = 0;
    for batch in &c.batches {
        let got = c.instance.cache(c.id).get_many(batch);
        hits += got.iter().filter(|v| v.is_some()).count();
    }
    c.hits = hits;
    c
}

#[library_benchmark(setup = setup_component, teardown = component_hit_every_key)]
#[bench::e1000(WASM_ENTRIES)]
fn wasm_get_hit_component(c: Component) -> Component {
    black_box(component_gets(c))
}

#[library_benchmark(setup = setup_component, teardown = component_hit_every_key)]
#[bench::e1000(WASM_ENTRIES)]
fn wasm_get_many_component(c: Component) -> Component {
    black_box(component_get_many(c))
}

/// The floor component (`faas_cache_bench::floor`) on the engine the host crate uses, and the
/// same keys as [`Component`].
struct Floor {
    store: Store<()>,
    instance: WasmInstance,
    probes: Vec<String>,
    batches: Vec<Vec<String>>,
    hits: usize,
    _present: Vec<String>,
}

fn setup_floor(_entries: usize) -> Floor {
    let (mut store, instance) =
        faas_cache_bench::floor::instantiate(faas_cache_host::engine::engine());
    let present = shuffled_keys(0, WASM_ENTRIES);
    let probes = cycled(&present, ops());
    let batches: Vec<Vec<String>> = probes.chunks(BATCH).map(<[String]>::to_vec).collect();
    let get_many = instance
        .get_typed_func::<(&[String],), (Vec<Option<Vec<u8>>>,)>(&mut store, "get-many")
        .expect("get-many");
    for b in present.chunks(BATCH) {
        let (got,) = get_many.call(&mut store, (b,)).expect("get-many");
        assert!(got.iter().all(Option::is_some));
    }
    let get: TypedFunc<(&str,), (Option<Vec<u8>>,)> =
        instance.get_typed_func(&mut store, "get").expect("get");
    for k in &present {
        let (v,) = get.call(&mut store, (k,)).expect("get");
        assert!(v.is_some());
    }
    Floor {
        store,
        instance,
        probes,
        batches,
        hits: 0,
        _present: present,
    }
}

fn floor_hit_every_key(f: Floor) {
    assert_eq!(f.hits, f.probes.len(), "every key answered");
}

#[inline(always)]
fn floor_gets(mut f: Floor) -> Floor {
    // Looked up once per benchmark, as the host crate's bindings do once per instance.
    let get: TypedFunc<(&str,), (Option<Vec<u8>>,)> =
        f.instance.get_typed_func(&mut f.store, "get").expect("get");
    let mut hits = 0;
    for k in &f.probes {
        let (v,) = get.call(&mut f.store, (k,)).expect("get");
        hits += usize::from(v.is_some_and(|v| v.len() == 100));
    }
    f.hits = hits;
    f
}

#[inline(always)]
fn floor_get_many(mut f: Floor) -> Floor {
    let get_many = f
        .instance
        .get_typed_func::<(&[String],), (Vec<Option<Vec<u8>>>,)>(&mut f.store, "get-many")
        .expect("get-many");
    let mut hits = 0;
    for batch in &f.batches {
        let (got,) = get_many.call(&mut f.store, (batch,)).expect("get-many");
        hits += got.iter().filter(|v| v.is_some()).count();
    }
    f.hits = hits;
    f
}

#[library_benchmark(setup = setup_floor, teardown = floor_hit_every_key)]
#[bench::e1000(WASM_ENTRIES)]
fn wasm_get_floor(f: Floor) -> Floor {
    black_box(floor_gets(f))
}

#[library_benchmark(setup = setup_floor, teardown = floor_hit_every_key)]
#[bench::e1000(WASM_ENTRIES)]
fn wasm_get_many_floor(f: Floor) -> Floor {
    black_box(floor_get_many(f))
}

library_benchmark_group!(
    name = through_wasmtime,
    benchmarks = [
        wasm_get_hit_component,
        wasm_get_floor,
        wasm_get_many_component,
        wasm_get_many_floor
    ]
);

/// The wasmtime compilation cache the benchmarks under valgrind share (valgrind's CPU differs
/// from the machine's, so its compiled artifacts are its own): the component is compiled under
/// valgrind once, then loaded. `FAAS_CACHE_COMPILE_CACHE` overrides it.
fn compile_cache() -> String {
    std::env::var("FAAS_CACHE_COMPILE_CACHE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/steady/wasmtime-cache"
        )
        .to_string()
    })
}

/// Every benchmark once, natively, on 1 000 entries, with its setup's and teardown's checks: what
/// this binary does outside `cargo bench` (under `cargo test --all-targets`), where valgrind and
/// `gungraun-runner` need not be installed and nothing is counted.
fn smoke() {
    fn native<S: Subject>() {
        every_lookup_hit(lookups(setup_lookups::<S>(1_000)));
        still_full(writes(setup_writes::<S>(1_000)));
    }
    native::<Faas>();
    native::<FaasS3Fifo>();
    native::<Lru>();
    native::<Quick>();
    native::<Moka>();
    component_hit_every_key(component_gets(setup_component(WASM_ENTRIES)));
    component_hit_every_key(component_get_many(setup_component(WASM_ENTRIES)));
    floor_hit_every_key(floor_gets(setup_floor(WASM_ENTRIES)));
    floor_hit_every_key(floor_get_many(setup_floor(WASM_ENTRIES)));
    eprintln!(
        "instructions: every benchmark ran once natively (N = {}); `cargo bench` counts them \
         under callgrind",
        ops()
    );
}

/// The configuration of every benchmark. Evaluated only where gungraun starts: outside `cargo
/// bench` (which passes `--bench`) it runs [`smoke`] instead and exits.
fn config() -> LibraryBenchmarkConfig {
    if !std::env::args().any(|a| a == "--bench") {
        smoke();
        std::process::exit(0);
    }
    let mut config = LibraryBenchmarkConfig::default();
    config
        .pass_through_env(OPS_ENV)
        .env("FAAS_CACHE_COMPILE_CACHE", compile_cache());
    config
}

main!(
    config = config();
    library_benchmark_groups = native_get_hit, native_set_evict, through_wasmtime
);
