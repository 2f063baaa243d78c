//! The provider against the core: one seeded call sequence with hostile arguments, run through
//! the provider's host functions (what a guest's imports reach: a `named.open` handle, from a
//! fresh instance's ctx now and then, as per-request instances would) and on a plain core
//! `Cache` (the model), on one simulated clock. They share the core; what differs is the
//! boundary (conversions, handles, locks) and the scope. Every result must match.
//! `FAAS_PROVIDER_DIFF_SEQUENCES` runs more sequences (default 1,000).

use faas_cache::{Cache, Config, EvictionPolicy as CorePolicy, ManualClock};
use faas_cache_host_test::differential::{key, seconds, size, Choices, SplitMix};
use faas_cache_provider::bindings::faas::cache::cache::{
    BatchError, CacheError, Expiry, Host as _, HostCacheDict as _, Options,
};
use faas_cache_provider::bindings::faas::cache::named::Host as _;
use faas_cache_provider::{
    CacheCtx, CacheDictHandle, CacheView, EvictionPolicy, Scope, ScopeClock, ScopeLimits,
};
use wasmtime::component::{Resource, ResourceTable};

/// A value: mostly small, some of a few KiB (the driver's values, without the memory cap).
fn value(rng: &mut SplitMix) -> Vec<u8> {
    faas_cache_host_test::differential::value(rng, false)
}

fn core_error(e: faas_cache::CacheError) -> CacheError {
    use faas_cache::CacheError as E;
    match e {
        E::DataTooLarge {
            entry_bytes,
            available_bytes,
        } => CacheError::DataTooLarge(
            faas_cache_provider::bindings::faas::cache::cache::SizeExcess {
                entry_bytes,
                available_bytes,
            },
        ),
        E::InvalidArgument(m) => CacheError::InvalidArgument(m),
        E::KeyNotFound => CacheError::KeyNotFound,
        E::CorruptSnapshot(m) => CacheError::CorruptSnapshot(m),
        E::OutOfMemory => CacheError::OutOfMemory,
    }
}

fn core_expiry(e: &Expiry) -> faas_cache::Expiry {
    match *e {
        Expiry::DefaultTtl => faas_cache::Expiry::DefaultTtl,
        Expiry::Never => faas_cache::Expiry::Never,
        Expiry::Ttl(t) => faas_cache::Expiry::Ttl(t),
        Expiry::At(t) => faas_cache::Expiry::At(t),
    }
}

fn borrow(r: &Resource<CacheDictHandle>) -> Resource<CacheDictHandle> {
    Resource::new_borrow(r.rep())
}

/// Floats compared bit for bit, NaN included.
fn same_f64(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

/// One instance of the app: its ctx, its table, its handle to the named cache.
struct Instance {
    ctx: CacheCtx,
    table: ResourceTable,
    handle: Option<Resource<CacheDictHandle>>,
}

/// Runs one sequence; returns how many calls it made.
fn run(seed: u64, ops: usize) -> u64 {
    let mut calls = 0u64;
    let mut rng = SplitMix(seed);
    let clock = ManualClock::default();
    let scope = Scope::with_clock(
        ScopeLimits {
            ceiling: None,
            max_names: None,
        },
        ScopeClock::Manual(clock.clone()),
    );
    let policy = if rng.below(2) == 0 {
        (EvictionPolicy::Lru, CorePolicy::Lru)
    } else {
        (EvictionPolicy::S3Fifo, CorePolicy::S3Fifo)
    };
    let first = Options {
        default_ttl: Some(5.0),
        max_size: Some("32K".into()),
        max_items: Some(40),
        removal_log_capacity: 64,
    };
    let config = Config {
        default_ttl: Some(5.0),
        max_size_bytes: Some(32 << 10),
        max_items: Some(40),
        removal_log_capacity: 64,
        policy: policy.1,
    };
    let mut model = Cache::with_clock_and_seed(config.clone(), clock.clone(), (1, 2)).unwrap();
    let mut inst = Instance {
        ctx: CacheCtx::new(scope.clone()),
        table: ResourceTable::new(),
        handle: None,
    };
    let ctx = |what: &str, step: usize| format!("seed {seed} step {step}: {what}");
    for step in 0..ops {
        // A new instance now and then (per-request instances): the scope keeps the cache.
        if inst.handle.is_none() || rng.below(25) == 0 {
            inst = Instance {
                ctx: CacheCtx::new(scope.clone()),
                table: ResourceTable::new(),
                handle: None,
            };
            let mut view = CacheView::new(&mut inst.ctx, &mut inst.table);
            let opened = view.open("diff".into(), first.clone(), policy.0).unwrap();
            let handle = opened.expect("open");
            inst.handle = Some(handle);
            // A later open applies its limits and default TTL again: so does the model.
            let mut reopen = config.clone();
            reopen.policy = model.policy();
            model.reopen(&reopen).unwrap();
        }
        let h = inst.handle.as_ref().map(borrow).unwrap();
        let mut view = CacheView::new(&mut inst.ctx, &mut inst.table);
        calls += 1;
        match rng.below(30) {
            0..=4 => {
                let k = key(&mut rng);
                let got = view.get(h, k.clone()).unwrap();
                assert_eq!(got.as_deref(), model.get(&k), "{}", ctx("get", step));
            }
            5..=8 => {
                let (k, v) = (key(&mut rng), value(&mut rng));
                let got = view.set(h, k.clone(), v.clone()).unwrap();
                assert_eq!(
                    got,
                    model.set(k, v).map_err(core_error),
                    "{}",
                    ctx("set", step)
                );
            }
            9 => {
                let (k, v) = (key(&mut rng), value(&mut rng));
                let e = match rng.below(4) {
                    0 => Expiry::DefaultTtl,
                    1 => Expiry::Never,
                    2 => Expiry::Ttl(seconds(&mut rng)),
                    _ => Expiry::At(1_700_000_000.0 + seconds(&mut rng)),
                };
                let want = model.set_with_expiry(k.clone(), v.clone(), core_expiry(&e));
                let got = view.set_with_expiry(h, k, v, e).unwrap();
                assert_eq!(
                    got,
                    want.map_err(core_error),
                    "{}",
                    ctx("set-with-expiry", step)
                );
            }
            10 => {
                let k = key(&mut rng);
                assert_eq!(
                    view.delete(h, k.clone()).unwrap(),
                    model.delete(&k),
                    "{}",
                    ctx("delete", step)
                );
            }
            11 => {
                let k = key(&mut rng);
                assert_eq!(
                    view.pop(h, k.clone()).unwrap(),
                    model.pop(&k),
                    "{}",
                    ctx("pop", step)
                );
            }
            12 => {
                let last = rng.below(2) == 0;
                assert_eq!(
                    view.pop_item(h, last).unwrap(),
                    model.pop_item(last),
                    "{}",
                    ctx("pop-item", step)
                );
            }
            13 => {
                let (k, v) = (key(&mut rng), value(&mut rng));
                let want = model
                    .set_default_copied(k.clone(), v.clone())
                    .map_err(core_error);
                assert_eq!(
                    view.set_default(h, k, v).unwrap(),
                    want,
                    "{}",
                    ctx("set-default", step)
                );
            }
            14 => {
                let (k, last) = (key(&mut rng), rng.below(2) == 0);
                let want = model.move_to_end(&k, last).map_err(core_error);
                assert_eq!(
                    view.move_to_end(h, k, last).unwrap(),
                    want,
                    "{}",
                    ctx("move-to-end", step)
                );
            }
            15 => {
                let want: Vec<(String, Vec<u8>)> = model
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_vec()))
                    .collect();
                assert_eq!(view.items(h).unwrap(), want, "{}", ctx("items", step));
            }
            16 => {
                let k = key(&mut rng);
                let (got, want) = (view.get_ttl(h, k.clone()).unwrap(), model.get_ttl(&k));
                match (got, want) {
                    (Ok(a), Ok(b)) => {
                        assert!(same_f64(a, b), "{}: {a:?} vs {b:?}", ctx("get-ttl", step))
                    }
                    (a, b) => assert_eq!(a, b.map_err(core_error), "{}", ctx("get-ttl", step)),
                }
            }
            17 => {
                let k = key(&mut rng);
                let ttl = (rng.below(3) > 0).then(|| seconds(&mut rng));
                let want = model.set_ttl(&k, ttl).map_err(core_error);
                assert_eq!(
                    view.set_ttl(h, k, ttl).unwrap(),
                    want,
                    "{}",
                    ctx("set-ttl", step)
                );
            }
            18 => {
                let (k, at) = (key(&mut rng), 1_700_000_000.0 + seconds(&mut rng));
                let want = model.expire_at(&k, at).map_err(core_error);
                assert_eq!(
                    view.expire_at(h, k, at).unwrap(),
                    want,
                    "{}",
                    ctx("expire-at", step)
                );
            }
            19 => {
                let k = key(&mut rng);
                assert_eq!(
                    view.is_expired(h, k.clone()).unwrap(),
                    model.is_expired(&k),
                    "{}",
                    ctx("is-expired", step)
                );
            }
            20 => {
                let s = size(&mut rng);
                let want = model.change_byte_size(s.as_deref()).map_err(core_error);
                assert_eq!(
                    view.change_byte_size(h, s).unwrap(),
                    want,
                    "{}",
                    ctx("change-byte-size", step)
                );
            }
            21 => {
                let n = match rng.below(4) {
                    0 => None,
                    1 => Some(0),
                    _ => Some(rng.below(60) as u32 + 1),
                };
                let want = model.change_max_items(n).map_err(core_error);
                assert_eq!(
                    view.change_max_items(h, n).unwrap(),
                    want,
                    "{}",
                    ctx("change-max-items", step)
                );
            }
            22 => {
                let again = borrow(&h);
                assert_eq!(
                    view.byte_size(h).unwrap(),
                    model.byte_size(),
                    "{}",
                    ctx("byte-size", step)
                );
                assert_eq!(
                    view.len(again).unwrap() as usize,
                    model.len(),
                    "{}",
                    ctx("len", step)
                );
            }
            23 => {
                // The scope's purge is the provider's tick; the model purges itself.
                let got = view.tick().unwrap();
                assert_eq!(got, model.purge_expired(), "{}", ctx("tick", step));
            }
            24 => {
                let max = rng.below(8) as u32;
                let want: Vec<(String, Vec<u8>)> = model
                    .drain_removals(max)
                    .into_iter()
                    .map(|r| (r.key, r.value))
                    .collect();
                let got: Vec<(String, Vec<u8>)> = view
                    .drain_removals(h, max)
                    .unwrap()
                    .into_iter()
                    .map(|r| (r.key, r.value))
                    .collect();
                assert_eq!(got, want, "{}", ctx("drain-removals", step));
            }
            25 => {
                let keys: Vec<String> = (0..rng.below(6)).map(|_| key(&mut rng)).collect();
                let want: Vec<Option<Vec<u8>>> = keys
                    .iter()
                    .map(|k| model.get(k).map(<[u8]>::to_vec))
                    .collect();
                assert_eq!(
                    view.get_many(h, keys).unwrap(),
                    want,
                    "{}",
                    ctx("get-many", step)
                );
            }
            26 => {
                let entries: Vec<(String, Vec<u8>)> = (0..rng.below(6))
                    .map(|_| (key(&mut rng), value(&mut rng)))
                    .collect();
                let mut want = Ok(());
                for (i, (k, v)) in entries.iter().enumerate() {
                    if let Err(e) = model.set(k.clone(), v.clone()) {
                        want = Err(BatchError {
                            index: i as u32,
                            error: core_error(e),
                        });
                        break;
                    }
                }
                assert_eq!(
                    view.set_many(h, entries).unwrap(),
                    want,
                    "{}",
                    ctx("set-many", step)
                );
            }
            27 => {
                let s = view.stats(h).unwrap();
                let m = model.stats();
                assert_eq!(
                    (
                        s.hits,
                        s.misses,
                        s.inserts,
                        s.updates,
                        s.removed,
                        s.evicted_size,
                        s.evicted_count,
                        s.expired,
                        s.removals_dropped
                    ),
                    (
                        m.hits,
                        m.misses,
                        m.inserts,
                        m.updates,
                        m.removed,
                        m.evicted_size,
                        m.evicted_count,
                        m.expired,
                        m.removals_dropped
                    ),
                    "{}",
                    ctx("stats", step)
                );
            }
            28 => {
                let ttl = (rng.below(3) > 0).then(|| seconds(&mut rng));
                let want = model.set_default_ttl(ttl).map_err(core_error);
                assert_eq!(
                    view.set_default_ttl(h, ttl).unwrap(),
                    want,
                    "{}",
                    ctx("set-default-ttl", step)
                );
            }
            _ => clock.advance_secs(match rng.below(5) {
                0 => -3600.0,
                1 => 3600.0,
                n => n as f64 * 0.6,
            }),
        }
    }
    scope.check_invariants().unwrap();
    model.check_invariants().unwrap();
    calls
}

#[test]
fn the_provider_answers_as_the_core_call_for_call() {
    let sequences: u64 = std::env::var("FAAS_PROVIDER_DIFF_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let started = std::time::Instant::now();
    let calls: u64 = (0..sequences).map(|seed| run(seed, 400)).sum();
    eprintln!(
        "provider differential: {sequences} sequences, {calls} calls, 0 divergences ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
