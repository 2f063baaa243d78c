//! Differential fuzzing through the component: random call sequences (every export, hostile
//! arguments, clock moves, snapshot and restore) run against the built component in wasmtime and
//! against the native core (`faas_cache::Cache` on a manual clock) as the model; every answer
//! must be the same, and nothing may trap. Under a memory cap the component may also evict for
//! memory, so there the answers are compared until the first refused growth, and after it only
//! the absence of traps and the cache's own consistency are checked.
//!
//! Runs a fixed number of sequences in `cargo xtask test`; `FAAS_CACHE_DIFF_SECONDS=3600 cargo
//! test --release -p faas-cache-host-test --test differential -- --nocapture` runs it for an
//! hour. Prints the calls made, per export, and the divergences and traps found (both must be 0).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faas_cache::{
    Cache as Model, CacheError as ModelError, Config, EvictionPolicy as ModelPolicy, Expiry as ME,
    ManualClock, Removal as ModelRemoval, RemovalCause as MC, Time,
};
use faas_cache_host_test::{
    CacheError, Dict, EvictionPolicy, Expiry, Guest, Options, Removal, RemovalCause, SizeExcess,
    Stats, START_SECONDS,
};

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `v`'s debug form, cut to 300 characters (values can be large).
fn short(v: &impl std::fmt::Debug) -> String {
    let text = format!("{v:?}");
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}... ({} characters)", &text[..cut], text.len()),
        None => text,
    }
}

fn model_error(e: ModelError) -> CacheError {
    match e {
        ModelError::DataTooLarge {
            entry_bytes,
            available_bytes,
        } => CacheError::DataTooLarge(SizeExcess {
            entry_bytes,
            available_bytes,
        }),
        ModelError::InvalidArgument(m) => CacheError::InvalidArgument(m),
        ModelError::KeyNotFound => CacheError::KeyNotFound,
        ModelError::CorruptSnapshot(m) => CacheError::CorruptSnapshot(m),
        ModelError::OutOfMemory => CacheError::OutOfMemory,
    }
}

fn model_removal(r: ModelRemoval) -> Removal {
    Removal {
        key: r.key,
        value: r.value,
        cause: match r.cause {
            MC::Deleted => RemovalCause::Deleted,
            MC::Popped => RemovalCause::Popped,
            MC::Cleared => RemovalCause::Cleared,
            MC::EvictedSize => RemovalCause::EvictedSize,
            MC::EvictedCount => RemovalCause::EvictedCount,
            MC::Expired => RemovalCause::Expired,
            MC::Replaced => RemovalCause::Replaced,
        },
    }
}

fn model_stats(s: faas_cache::Stats) -> Stats {
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

fn key(rng: &mut Rng) -> String {
    match rng.below(40) {
        0 => String::new(),
        1 => "k".repeat(300),
        2 => "ключ-🔑".into(),
        3 => "\0nul".into(),
        n => format!("key-{}", n % 24),
    }
}

/// A value: mostly small, some of a few KiB; `big` (under a memory cap) makes them 100 times
/// larger (up to 600 KiB), so that the cap binds.
fn value(rng: &mut Rng, big: bool) -> Vec<u8> {
    let len = match rng.below(20) {
        0 => 0,
        1 => 3000 + rng.below(3000) as usize,
        _ => rng.below(300) as usize,
    } * if big { 100 } else { 1 };
    vec![rng.below(256) as u8; len]
}

fn seconds(rng: &mut Rng) -> f64 {
    match rng.below(12) {
        0 => -1.0,
        1 => f64::NAN,
        2 => f64::INFINITY,
        3 => 0.0,
        4 => 1e-9,
        5 => 1e300,
        n => (n as f64) * 0.75,
    }
}

fn size(rng: &mut Rng) -> Option<String> {
    match rng.below(8) {
        0 => None,
        1 => Some("garbage".into()),
        2 => Some("0".into()),
        3 => Some("1".into()),
        n => Some(format!("{}K", 2 * n)),
    }
}

/// One run: a sequence of `ops` calls, counted per export in `calls`; panics on a divergence
/// (or, through the host crate, on a trap). Returns whether the memory cap was reached.
fn run(
    seed: u64,
    ops: usize,
    memory_cap: Option<usize>,
    calls: &mut BTreeMap<&'static str, u64>,
) -> bool {
    let mut rng = Rng(seed);
    let big = memory_cap.is_some();
    let mut g = match memory_cap {
        Some(cap) => Guest::with_memory_limit(cap),
        None => Guest::new(),
    };
    let clock = ManualClock::new(Time::from_unix(START_SECONDS, 0));
    let policy = if rng.chance(50) {
        (EvictionPolicy::Lru, ModelPolicy::Lru)
    } else {
        (EvictionPolicy::S3Fifo, ModelPolicy::S3Fifo)
    };
    // Under a memory cap, no limit of the cache's own: the cap is what binds.
    let options = Options {
        default_ttl: rng.chance(50).then(|| 1.0 + rng.below(8) as f64),
        max_size: size(&mut rng).filter(|s| s.ends_with('K') && !big),
        max_items: (rng.chance(60) && !big).then(|| 1 + rng.below(16) as u32),
        removal_log_capacity: rng.below(40) as u32,
    };
    let mut d: Dict = g
        .create_with_policy(&options, policy.0)
        .expect("valid options");
    let config = Config {
        default_ttl: options.default_ttl,
        max_items: options.max_items,
        removal_log_capacity: options.removal_log_capacity,
        policy: policy.1,
        ..Config::default()
    };
    let config = match &options.max_size {
        Some(s) => config.with_max_size(s).unwrap(),
        None => config,
    };
    let mut m = Model::with_clock_and_seed(config, clock.clone(), (seed, !seed)).unwrap();
    let mut now_nanos: i128 = i128::from(START_SECONDS) * 1_000_000_000;
    for step in 0..ops {
        let pressure = g.refused_growths() > 0;
        macro_rules! same {
            ($name:literal, $component:expr, $model:expr) => {{
                *calls.entry($name).or_default() += 1;
                let got = $component;
                let want = $model;
                // A call that itself met the cap may evict for memory: not the model's business.
                if !pressure && g.refused_growths() == 0 && got != want {
                    panic!(
                        "seed {seed}, step {step}: `{}` diverged from the model:\n  component {}\n  model     {}",
                        $name,
                        short(&got),
                        short(&want)
                    );
                }
            }};
        }
        match rng.below(36) {
            0..=4 => {
                let k = key(&mut rng);
                same!("get", g.get(d, &k), m.get(&k).map(<[u8]>::to_vec))
            }
            5 => {
                let k = key(&mut rng);
                same!("peek", g.peek(d, &k), m.peek(&k).map(<[u8]>::to_vec))
            }
            6 => {
                let k = key(&mut rng);
                same!("contains", g.contains(d, &k), m.contains(&k))
            }
            7..=10 => {
                let (k, v) = (key(&mut rng), value(&mut rng, big));
                same!(
                    "set",
                    g.set(d, &k, &v),
                    m.set(k.clone(), v.clone()).map_err(model_error)
                )
            }
            11 | 12 => {
                let (k, v) = (key(&mut rng), value(&mut rng, big));
                let (e, me) = match rng.below(4) {
                    0 => (Expiry::DefaultTtl, ME::DefaultTtl),
                    1 => (Expiry::Never, ME::Never),
                    2 => {
                        let t = seconds(&mut rng);
                        (Expiry::Ttl(t), ME::Ttl(t))
                    }
                    _ => {
                        let at = START_SECONDS as f64 + seconds(&mut rng) * 3.0;
                        (Expiry::At(at), ME::At(at))
                    }
                };
                same!(
                    "set-with-expiry",
                    g.set_with_expiry(d, &k, &v, e),
                    m.set_with_expiry(k.clone(), v.clone(), me)
                        .map_err(model_error)
                )
            }
            13 => {
                let k = key(&mut rng);
                same!("delete", g.delete(d, &k), m.delete(&k))
            }
            14 => {
                let k = key(&mut rng);
                same!("pop", g.pop(d, &k), m.pop(&k))
            }
            15 => {
                let last = rng.chance(50);
                same!("pop-item", g.pop_item(d, last), m.pop_item(last))
            }
            16 => {
                let (k, v) = (key(&mut rng), value(&mut rng, big));
                same!(
                    "set-default",
                    g.set_default(d, &k, &v),
                    m.set_default_copied(k.clone(), v.clone())
                        .map_err(model_error)
                )
            }
            17 => {
                let (k, last) = (key(&mut rng), rng.chance(50));
                same!(
                    "move-to-end",
                    g.move_to_end(d, &k, last),
                    m.move_to_end(&k, last).map_err(model_error)
                )
            }
            18 => same!("len", g.len(d), m.len() as u32),
            19 => same!(
                "keys",
                g.keys(d),
                m.keys().map(str::to_owned).collect::<Vec<_>>()
            ),
            20 => same!(
                "keys-reversed",
                g.keys_reversed(d),
                m.keys().rev().map(str::to_owned).collect::<Vec<_>>()
            ),
            21 => same!(
                "items",
                g.items(d),
                m.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_vec()))
                    .collect::<Vec<_>>()
            ),
            22 => {
                let k = key(&mut rng);
                same!(
                    "get-ttl",
                    g.get_ttl(d, &k),
                    m.get_ttl(&k).map_err(model_error)
                )
            }
            23 => {
                let k = key(&mut rng);
                let t = rng.chance(80).then(|| seconds(&mut rng));
                same!(
                    "set-ttl",
                    g.set_ttl(d, &k, t),
                    m.set_ttl(&k, t).map_err(model_error)
                )
            }
            24 => {
                let k = key(&mut rng);
                let at = START_SECONDS as f64 + seconds(&mut rng) * 5.0;
                same!(
                    "expire-at",
                    g.expire_at(d, &k, at),
                    m.expire_at(&k, at).map_err(model_error)
                )
            }
            25 => {
                let k = key(&mut rng);
                same!("is-expired", g.is_expired(d, &k), m.is_expired(&k))
            }
            26 => {
                let t = rng.chance(70).then(|| seconds(&mut rng));
                same!(
                    "set-default-ttl",
                    g.set_default_ttl(d, t),
                    m.set_default_ttl(t).map_err(model_error)
                );
                same!("default-ttl", g.default_ttl(d), m.default_ttl());
            }
            27 => {
                let s = size(&mut rng);
                same!(
                    "change-byte-size",
                    g.change_byte_size(d, s.as_deref()),
                    m.change_byte_size(s.as_deref()).map_err(model_error)
                );
                same!("max-size-bytes", g.max_size_bytes(d), m.max_size_bytes());
            }
            28 => {
                let n = rng.chance(80).then(|| rng.below(20) as u32);
                same!(
                    "change-max-items",
                    g.change_max_items(d, n),
                    m.change_max_items(n).map_err(model_error)
                );
                same!("max-items", g.max_items(d), m.max_items());
            }
            29 => same!("byte-size", g.byte_size(d), m.byte_size()),
            30 => {
                let max = rng.below(10) as u32;
                same!(
                    "drain-removals",
                    g.drain_removals(d, max),
                    m.drain_removals(max)
                        .into_iter()
                        .map(model_removal)
                        .collect::<Vec<_>>()
                );
                same!("stats", g.stats(d), model_stats(m.stats()));
                same!("describe", g.describe(d), m.describe());
            }
            31 => {
                let keys: Vec<String> = (0..rng.below(6)).map(|_| key(&mut rng)).collect();
                same!(
                    "get-many",
                    g.get_many(d, &keys),
                    keys.iter()
                        .map(|k| m.get(k).map(<[u8]>::to_vec))
                        .collect::<Vec<_>>()
                );
                same!(
                    "delete-many",
                    g.delete_many(d, &keys),
                    keys.iter().filter(|k| m.delete(k)).count() as u32
                );
            }
            32 => {
                let entries: Vec<(String, Vec<u8>)> = (0..rng.below(5))
                    .map(|_| (key(&mut rng), value(&mut rng, big)))
                    .collect();
                let mut want = Ok(());
                for (i, (k, v)) in entries.iter().enumerate() {
                    if let Err(e) = m.set(k.clone(), v.clone()) {
                        want = Err(faas_cache_host_test::BatchError {
                            index: i as u32,
                            error: model_error(e),
                        });
                        break;
                    }
                }
                same!("set-many", g.set_many(d, &entries), want)
            }
            33 => {
                // Snapshot and restore: the same bytes from both, and the restored caches go on.
                let snap = g.snapshot(d);
                same!("snapshot", snap.clone(), m.snapshot());
                if !pressure {
                    g.drop_dict(d);
                    d = g.restore(&snap).expect("our own snapshot restores");
                    m = Model::restore(&snap, clock.clone(), (seed, 1)).unwrap();
                }
            }
            34 => {
                let nanos: i128 = match rng.below(5) {
                    0 => -1_000_000_000,
                    1 => 1,
                    2 => 10_000_000_000,
                    _ => rng.below(2_000_000_000) as i128,
                };
                *calls.entry("clock move").or_default() += 1;
                now_nanos += nanos;
                if nanos >= 0 {
                    g.advance_nanos(nanos as u128);
                } else {
                    g.advance(nanos as f64 / 1e9);
                }
                clock.set(Time::from_nanos(now_nanos));
            }
            _ => {
                if rng.chance(10) {
                    g.clear(d);
                    m.clear();
                    *calls.entry("clear").or_default() += 1;
                } else {
                    same!("purge-expired", g.purge_expired(d), m.purge_expired());
                    same!("tick", g.tick(), 0);
                }
            }
        }
        if pressure {
            // Only consistency: what `len` says is what `keys` lists.
            let n = g.len(d);
            assert_eq!(n as usize, g.keys(d).len(), "seed {seed}, step {step}");
        }
    }
    g.refused_growths() > 0
}

#[test]
fn the_component_answers_as_the_native_core_and_never_traps() {
    let budget = std::env::var("FAAS_CACHE_DIFF_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let started = Instant::now();
    let mut calls = BTreeMap::new();
    let (mut runs, mut capped, mut pressed) = (0u64, 0u64, 0u64);
    loop {
        let seed = 0x5eed_0000 + runs;
        // One run in four under a memory cap of 1.5 MiB.
        let cap = (runs % 4 == 3).then_some(3 << 19);
        pressed += u64::from(run(seed, 400, cap, &mut calls));
        runs += 1;
        capped += u64::from(cap.is_some());
        let done = match budget {
            Some(b) => started.elapsed() >= b,
            None => runs >= 60,
        };
        if done {
            break;
        }
    }
    let total: u64 = calls.values().sum();
    println!(
        "differential: {runs} sequences ({capped} under a 1.5 MiB memory cap, {pressed} of them reaching it), {total} calls in {:.1} s, 0 divergences, 0 traps",
        started.elapsed().as_secs_f64()
    );
    for (name, n) in &calls {
        println!("  {name}: {n}");
    }
    let exports = calls.keys().filter(|k| **k != "clock move").count();
    assert!(exports >= 30, "every export was called: {calls:?}");
    assert!(pressed > 0, "some sequences ran under memory pressure");
}
