//! The differential driver: one call sequence, its choices read from a [`Choices`] source, run
//! against the built component (through [`Guest`]) and against the native core
//! (`faas_cache::Cache` on a manual clock) as the model. Every answer must be the same and nothing
//! may trap; a divergence panics with the seed or input, the step and both answers. Under a memory
//! cap the component may also evict for memory, and the host crate refuses arguments too large
//! for it, so there answers are compared until the first refused growth or argument, and after
//! it only the absence of traps and the cache's own consistency.
//!
//! Two drivers feed it: `tests/differential.rs` (seeded [`SplitMix`] sequences, in `cargo xtask
//! test`) and the coverage-guided libFuzzer target `fuzz/component/fuzz_targets/component.rs`
//! ([`Bytes`], the fuzzer's input). Invariant: a choice never depends on anything but the source,
//! so an input replays exactly.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use faas_cache::{
    Cache as Model, CacheError as ModelError, Config, EvictionPolicy as ModelPolicy, Expiry as ME,
    ManualClock, Removal as ModelRemoval, RemovalCause as MC, Time,
};

use crate::{
    BatchError, CacheError, Dict, EvictionPolicy, Expiry, Guest, Host, Options, Removal,
    RemovalCause, SizeExcess, Stats, START_SECONDS,
};

/// The memory cap of the capped runs: 1.5 MiB of linear memory.
pub const MEMORY_CAP: usize = 3 << 19;

/// Where a sequence's choices come from.
pub trait Choices {
    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64;
    /// Whether the sequence should stop (the source is exhausted).
    fn done(&self) -> bool {
        false
    }
    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// splitmix64: the seeded source of the test.
pub struct SplitMix(pub u64);

impl Choices for SplitMix {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// A fuzzer's input read as a stream of small numbers: one byte a choice (two when `n` > 256),
/// zeros once it runs out, after which [`Choices::done`] ends the sequence.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u64 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                u64::from(b)
            }
            None => 0,
        }
    }
}

impl Choices for Bytes<'_> {
    fn below(&mut self, n: u64) -> u64 {
        let raw = if n > 256 {
            self.byte() << 8 | self.byte()
        } else {
            self.byte()
        };
        raw % n
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// Calls made, per export (and "clock move"), across sequences.
pub type Calls = BTreeMap<&'static str, u64>;

/// The hosts the sequences instantiate: one without a cap, one with [`MEMORY_CAP`].
fn guest(memory_cap: bool) -> Guest {
    static CAPPED: OnceLock<Host> = OnceLock::new();
    if memory_cap {
        Guest::from_host(CAPPED.get_or_init(|| crate::test_host(Some(MEMORY_CAP))))
    } else {
        Guest::new()
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

/// A key: mostly one of 24 short ones, some empty, 300 bytes long, non-ASCII or holding NUL.
pub fn key(rng: &mut impl Choices) -> String {
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
pub fn value(rng: &mut impl Choices, big: bool) -> Vec<u8> {
    let len = match rng.below(20) {
        0 => 0,
        1 => 3000 + rng.below(3000) as usize,
        _ => rng.below(300) as usize,
    } * if big { 100 } else { 1 };
    vec![rng.below(256) as u8; len]
}

/// A TTL or a clock offset in seconds, hostile ones included (negative, NaN, infinite, 1e300).
pub fn seconds(rng: &mut impl Choices) -> f64 {
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

/// A byte limit as `change-byte-size` takes it, bad ones included.
pub fn size(rng: &mut impl Choices) -> Option<String> {
    match rng.below(8) {
        0 => None,
        1 => Some("garbage".into()),
        2 => Some("0".into()),
        3 => Some("1".into()),
        n => Some(format!("{}K", 2 * n)),
    }
}

/// One sequence of at most `ops` calls (fewer when `choices` runs out), under [`MEMORY_CAP`] when
/// `memory_cap`, counted per export in `calls`; `label` (a seed, an input's name) is what a
/// divergence's panic names. Panics on a divergence (and, through the host crate, on a trap).
/// Returns whether the memory cap was reached.
pub fn run(
    label: &str,
    rng: &mut impl Choices,
    ops: usize,
    memory_cap: bool,
    calls: &mut Calls,
) -> bool {
    let seed = rng.below(u64::MAX);
    let big = memory_cap; // values 100 times larger, so that the cap binds
    let mut g = guest(memory_cap);
    let clock = ManualClock::new(Time::from_unix(START_SECONDS, 0));
    let policy = if rng.chance(50) {
        (EvictionPolicy::Lru, ModelPolicy::Lru)
    } else {
        (EvictionPolicy::S3Fifo, ModelPolicy::S3Fifo)
    };
    // Under a memory cap, no limit of the cache's own: the cap is what binds.
    let options = Options {
        default_ttl: rng.chance(50).then(|| 1.0 + rng.below(8) as f64),
        max_size: size(rng).filter(|s| s.ends_with('K') && !big),
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
        if rng.done() {
            break;
        }
        let pressure = under_pressure(&g);
        macro_rules! same {
            ($name:literal, $component:expr, $model:expr) => {{
                *calls.entry($name).or_default() += 1;
                let got = $component;
                let want = $model;
                // A call that itself met the cap may evict for memory: not the model's business.
                if !pressure && !under_pressure(&g) && got != want {
                    panic!(
                        "{label}, step {step}: `{}` diverged from the model:\n  component {}\n  model     {}",
                        $name,
                        short(&got),
                        short(&want)
                    );
                }
            }};
        }
        match rng.below(36) {
            0..=4 => {
                let k = key(rng);
                same!("get", g.get(d, &k), m.get(&k).map(<[u8]>::to_vec))
            }
            5 => {
                let k = key(rng);
                same!("peek", g.peek(d, &k), m.peek(&k).map(<[u8]>::to_vec))
            }
            6 => {
                let k = key(rng);
                same!("contains", g.contains(d, &k), m.contains(&k))
            }
            7..=10 => {
                let (k, v) = (key(rng), value(rng, big));
                same!(
                    "set",
                    g.set(d, &k, &v),
                    m.set(k.clone(), v.clone()).map_err(model_error)
                )
            }
            11 | 12 => {
                let (k, v) = (key(rng), value(rng, big));
                let (e, me) = match rng.below(4) {
                    0 => (Expiry::DefaultTtl, ME::DefaultTtl),
                    1 => (Expiry::Never, ME::Never),
                    2 => {
                        let t = seconds(rng);
                        (Expiry::Ttl(t), ME::Ttl(t))
                    }
                    _ => {
                        let at = START_SECONDS as f64 + seconds(rng) * 3.0;
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
                let k = key(rng);
                same!("delete", g.delete(d, &k), m.delete(&k))
            }
            14 => {
                let k = key(rng);
                same!("pop", g.pop(d, &k), m.pop(&k))
            }
            15 => {
                let last = rng.chance(50);
                same!("pop-item", g.pop_item(d, last), m.pop_item(last))
            }
            16 => {
                let (k, v) = (key(rng), value(rng, big));
                same!(
                    "set-default",
                    g.set_default(d, &k, &v),
                    m.set_default_copied(k.clone(), v.clone())
                        .map_err(model_error)
                )
            }
            17 => {
                let (k, last) = (key(rng), rng.chance(50));
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
                let k = key(rng);
                same!(
                    "get-ttl",
                    g.get_ttl(d, &k),
                    m.get_ttl(&k).map_err(model_error)
                )
            }
            23 => {
                let k = key(rng);
                let t = rng.chance(80).then(|| seconds(rng));
                same!(
                    "set-ttl",
                    g.set_ttl(d, &k, t),
                    m.set_ttl(&k, t).map_err(model_error)
                )
            }
            24 => {
                let k = key(rng);
                let at = START_SECONDS as f64 + seconds(rng) * 5.0;
                same!(
                    "expire-at",
                    g.expire_at(d, &k, at),
                    m.expire_at(&k, at).map_err(model_error)
                )
            }
            25 => {
                let k = key(rng);
                same!("is-expired", g.is_expired(d, &k), m.is_expired(&k))
            }
            26 => {
                let t = rng.chance(70).then(|| seconds(rng));
                same!(
                    "set-default-ttl",
                    g.set_default_ttl(d, t),
                    m.set_default_ttl(t).map_err(model_error)
                );
                same!("default-ttl", g.default_ttl(d), m.default_ttl());
            }
            27 => {
                let s = size(rng);
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
                let keys: Vec<String> = (0..rng.below(6)).map(|_| key(rng)).collect();
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
                    .map(|_| (key(rng), value(rng, big)))
                    .collect();
                let mut want = Ok(());
                for (i, (k, v)) in entries.iter().enumerate() {
                    if let Err(e) = m.set(k.clone(), v.clone()) {
                        want = Err(BatchError {
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
                    match g.restore(&snap) {
                        Ok(restored) => {
                            d = restored;
                            m = Model::restore(&snap, clock.clone(), (seed, 1)).unwrap();
                        }
                        // Too large to copy in under the cap (the comparisons end here).
                        Err(CacheError::OutOfMemory) if memory_cap => {
                            d = g
                                .create_with_policy(&options, policy.0)
                                .expect("valid options");
                        }
                        Err(e) => panic!("{label}, step {step}: our own snapshot: {e:?}"),
                    }
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
            assert_eq!(n as usize, g.keys(d).len(), "{label}, step {step}");
        }
    }
    under_pressure(&g)
}

/// Whether the cap has bound yet: a growth the host refused, or an argument the host crate
/// refused. From then on the component may answer otherwise than the model.
fn under_pressure(g: &Guest) -> bool {
    g.refused_growths() + g.refused_arguments() > 0
}
