//! The L1 tier: one `faas-cache` cache for every bucket of the instance (one byte budget), its
//! settings and its counters, created at the first `open`.
//!
//! Keys are `"{len(identifier)}:{identifier}{key}"`, so buckets never collide. Values carry a
//! one-byte tag: `PRESENT` followed by the value, or `ABSENT` alone for a cached absence
//! (negative caching). Invariants: the tier is borrowed only inside one function of this module,
//! never across a backend call, so the allocator's reclaim hook can always evict when a backend
//! reply is copied in; a fill that L1 cannot hold (too large, memory refused) removes the key's
//! old entry, so a failed fill never leaves an older value behind.

use std::cell::RefCell;

use faas_cache::{try_copy, Cache, Config, Expiry};

use crate::bindings::exports::faas::kv_l1::l1::L1Stats;
use crate::clock::{seed, WasiClock};
use crate::settings::{self, Settings};

const PRESENT: u8 = 1;
const ABSENT: u8 = 0;

/// What L1 knows about a key.
pub enum Lookup {
    /// A cached value.
    Present(Vec<u8>),
    /// A cached absence.
    Absent,
    /// Nothing: ask the backend.
    Unknown,
}

struct Tier {
    cache: Cache<WasiClock>,
    settings: Settings,
    stats: L1Stats,
}

impl Tier {
    /// Counts a read L1 answered with a value (`Some(true)`), a cached absence (`Some(false)`),
    /// or could not answer (`None`).
    fn count_read(&mut self, known: Option<bool>) {
        match known {
            Some(present) => {
                self.stats.hits += 1;
                if !present {
                    self.stats.negative_hits += 1;
                }
            }
            None => self.stats.misses += 1,
        }
    }
}

thread_local! {
    static TIER: RefCell<Option<Tier>> = const { RefCell::new(None) };
}

/// Creates the tier from the host's configuration if it does not exist yet.
pub fn init() -> Result<(), String> {
    if TIER.with(|t| t.borrow().is_some()) {
        return Ok(());
    }
    // Read the configuration before borrowing: `wasi:config` is a host call.
    let settings = settings::load()?;
    let config = Config {
        default_ttl: Some(settings.ttl_seconds),
        max_size_bytes: Some(settings.max_bytes),
        max_items: settings.max_items,
        removal_log_capacity: 0,
        policy: settings.policy,
    };
    let cache = Cache::with_clock_and_seed(config, WasiClock, seed())
        .map_err(|e| format!("L1 settings rejected: {e}"))?;
    TIER.with(|t| {
        *t.borrow_mut() = Some(Tier {
            cache,
            settings,
            stats: empty_stats(),
        })
    });
    Ok(())
}

fn empty_stats() -> L1Stats {
    L1Stats {
        hits: 0,
        negative_hits: 0,
        misses: 0,
        backend_calls: 0,
        backend_calls_saved: 0,
        backend_errors: 0,
        entries: 0,
        bytes: 0,
    }
}

/// Runs `f` on the tier; `None` if it was never created or is busy.
fn with<R>(f: impl FnOnce(&mut Tier) -> R) -> Option<R> {
    let result = TIER.with(|t| {
        let mut t = t.try_borrow_mut().ok()?;
        t.as_mut().map(f)
    });
    crate::control::after_call();
    result
}

/// The L1 key of `key` in the bucket whose key prefix is `prefix`; `None` if memory is refused.
pub fn l1_key(prefix: &str, key: &str) -> Option<String> {
    let mut composed = String::new();
    composed.try_reserve_exact(prefix.len() + key.len()).ok()?;
    composed.push_str(prefix);
    composed.push_str(key);
    Some(composed)
}

/// The key prefix of a bucket: the identifier's length, a colon, the identifier.
pub fn bucket_prefix(identifier: &str) -> String {
    format!("{}:{identifier}", identifier.len())
}

/// Looks `key` up (a hit is a read for the policy: under LRU it moves the entry to the most
/// recently used end, under S3-FIFO it raises the entry's read counter) and counts the outcome.
pub fn lookup(key: &str) -> Lookup {
    with(|tier| {
        let found = match tier.cache.get(key) {
            Some([PRESENT, value @ ..]) => match try_copy(value) {
                Some(copy) => Lookup::Present(copy),
                None => Lookup::Unknown,
            },
            Some(_) => Lookup::Absent,
            None => Lookup::Unknown,
        };
        tier.count_read(match found {
            Lookup::Present(_) => Some(true),
            Lookup::Absent => Some(false),
            Lookup::Unknown => None,
        });
        found
    })
    .unwrap_or(Lookup::Unknown)
}

/// Whether L1 knows `key` to be present (`Some(true)`) or absent (`Some(false)`), without
/// copying the value; counts the outcome like [`lookup`].
pub fn presence(key: &str) -> Option<bool> {
    with(|tier| {
        let known = tier.cache.get(key).map(|v| v.first() == Some(&PRESENT));
        tier.count_read(known);
        known
    })
    .flatten()
}

/// Records what the backend said about `key` (an L1 key): its value, or its absence (kept only
/// when negative caching is on). Best effort: if L1 cannot hold it, the key's entry is removed.
/// Everything the cache will own is allocated before the tier is borrowed, so that the allocator
/// can still evict L1 entries to make room for it.
pub fn fill(key: String, value: Option<&[u8]>) {
    let entry = match value {
        Some(value) => tagged(value),
        None => tagged_absent(),
    };
    with(|tier| {
        // The old entry goes first, so a fill that fails leaves nothing older behind; the key is
        // then moved into the cache without another copy.
        tier.cache.delete(&key);
        match (entry, value) {
            (Some(entry), Some(_)) => {
                let _ = tier.cache.set(key, entry);
            }
            (Some(entry), None) if tier.settings.negative_ttl_seconds > 0.0 => {
                let ttl = Expiry::Ttl(tier.settings.negative_ttl_seconds);
                let _ = tier.cache.set_with_expiry(key, entry, ttl);
            }
            _ => {}
        }
    });
}

fn tagged(value: &[u8]) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(value.len() + 1).ok()?;
    v.push(PRESENT);
    v.extend_from_slice(value);
    Some(v)
}

fn tagged_absent() -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(1).ok()?;
    v.push(ABSENT);
    Some(v)
}

/// Drops what L1 holds for `key`.
pub fn invalidate(key: &str) {
    with(|tier| tier.cache.delete(key));
}

/// Counts calls to the backend and how many failed.
pub fn count_backend_call<T, E>(result: &Result<T, E>) {
    with(|tier| {
        tier.stats.backend_calls += 1;
        if result.is_err() {
            tier.stats.backend_errors += 1;
        }
    });
}

/// Counts a backend call that L1 made unnecessary.
pub fn count_saved_call() {
    with(|tier| tier.stats.backend_calls_saved += 1);
}

/// The counters, with the current size.
pub fn stats() -> L1Stats {
    with(|tier| L1Stats {
        entries: tier.cache.len() as u64,
        bytes: tier.cache.byte_size(),
        ..tier.stats
    })
    .unwrap_or_else(empty_stats)
}

pub fn reset_stats() {
    with(|tier| tier.stats = empty_stats());
}

pub fn settings() -> Option<Settings> {
    with(|tier| tier.settings.clone())
}

pub fn purge_expired() -> u64 {
    with(|tier| u64::from(tier.cache.purge_expired())).unwrap_or(0)
}

pub fn clear() {
    with(|tier| tier.cache.clear());
}

/// The allocator's reclaim hook: evicts the entry L1's policy would evict next (the least
/// recently used one under LRU). False while the tier is in use or empty.
pub fn evict_one_for_memory() -> bool {
    TIER.with(|t| {
        let Ok(mut t) = t.try_borrow_mut() else {
            return false;
        };
        t.as_mut().is_some_and(|tier| tier.cache.evict_for_memory())
    })
}
