//! The L1 tier's state: one `faas-cache` cache for every bucket of the instance (one byte
//! budget), its settings and its counters, and what each step of an export does to them. It
//! lives in the guarded cell of [`crate::tier`] and knows nothing of the allocator.
//!
//! Keys are `"{len(identifier)}:{identifier}{key}"`, so buckets never collide. Values carry a
//! one-byte tag: `PRESENT` followed by the value, or `ABSENT` alone for a cached absence
//! (negative caching). Invariant: a fill that L1 cannot hold (too large, memory refused) removes
//! the key's old entry, so a failed fill never leaves an older value behind.

use faas_cache::{try_copy, Cache, Config, Expiry};
use faas_guest_alloc::Reclaim;
use faas_guest_clock::WasiClock;

use crate::bindings::exports::faas::kv_l1::l1::L1Stats;
use crate::settings::Settings;

const PRESENT: u8 = 1;
const ABSENT: u8 = 0;

/// What L1 knows about a key.
pub enum Lookup {
    /// A cached value.
    Present(Vec<u8>),
    /// A cached value past the L1 TTL but inside the stale-if-error window: ask the backend,
    /// and answer with this value only if the backend fails.
    Stale(Vec<u8>),
    /// A cached absence.
    Absent,
    /// Nothing: ask the backend.
    Unknown,
}

/// What L1 knows about a key's presence (for `exists`, which needs no value).
pub enum Presence {
    /// Known present or known absent.
    Known(bool),
    /// Present, past the L1 TTL but inside the stale-if-error window: ask the backend, and
    /// answer "present" only if the backend fails.
    Stale,
    /// Nothing: ask the backend.
    Unknown,
}

pub struct Tier {
    cache: Cache<WasiClock>,
    pub settings: Settings,
    pub stats: L1Stats,
}

impl Tier {
    /// A tier with `settings` whose key hashing is seeded with `seed`.
    pub fn new(settings: Settings, seed: (u64, u64)) -> Result<Tier, String> {
        // Values live `ttl + stale-if-error` seconds; they are fresh while more than
        // `stale-if-error` seconds remain (see `Tier::lookup`).
        let config = Config {
            default_ttl: Some(settings.ttl_seconds + settings.stale_if_error_seconds),
            max_size_bytes: Some(settings.max_bytes),
            max_items: settings.max_items,
            removal_log_capacity: 0,
            policy: settings.policy,
        };
        let cache = Cache::with_clock_and_seed(config, WasiClock, seed)
            .map_err(|e| format!("L1 settings rejected: {e}"))?;
        Ok(Tier {
            cache,
            settings,
            stats: empty_stats(),
        })
    }

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

    /// Looks `key` up (a hit is a read for the policy: under LRU it moves the entry to the most
    /// recently used end, under S3-FIFO it raises the entry's read counter) and counts the
    /// outcome.
    pub fn lookup(&mut self, key: &str) -> Lookup {
        let found = match self.cache.get(key) {
            Some([PRESENT, value @ ..]) => match try_copy(value) {
                Some(copy) if self.is_stale(key) => Lookup::Stale(copy),
                Some(copy) => Lookup::Present(copy),
                None => Lookup::Unknown,
            },
            Some(_) => Lookup::Absent,
            None => Lookup::Unknown,
        };
        self.count_read(match found {
            Lookup::Present(_) => Some(true),
            Lookup::Absent => Some(false),
            Lookup::Stale(_) | Lookup::Unknown => None,
        });
        found
    }

    /// Whether the value of `key` is past the L1 TTL (only with stale-if-error on: otherwise
    /// it would have expired).
    fn is_stale(&mut self, key: &str) -> bool {
        let window = self.settings.stale_if_error_seconds;
        window > 0.0 && matches!(self.cache.get_ttl(key), Ok(Some(left)) if left <= window)
    }

    /// What L1 knows of `key`'s presence, without copying the value; counts the outcome like
    /// [`Tier::lookup`] (a stale value counts as not known).
    pub fn presence(&mut self, key: &str) -> Presence {
        let tagged_present = self
            .cache
            .get(key)
            .map(|entry| entry.first() == Some(&PRESENT));
        let found = match tagged_present {
            Some(true) if self.is_stale(key) => Presence::Stale,
            Some(known) => Presence::Known(known),
            None => Presence::Unknown,
        };
        self.count_read(match found {
            Presence::Known(known) => Some(known),
            Presence::Stale | Presence::Unknown => None,
        });
        found
    }

    /// Stores `entry` (built by [`tagged`] for a value, `present`, or [`tagged_absent`]) under
    /// `key`; the key's old entry goes first, so a fill that fails (`entry` is `None`, or the
    /// cache refuses it) leaves nothing older behind. The key is moved into the cache without
    /// another copy.
    pub fn fill(&mut self, key: String, entry: Option<Vec<u8>>, present: bool) {
        self.cache.delete(&key);
        match entry {
            Some(entry) if present => {
                let _ = self.cache.set(key, entry);
            }
            Some(entry) if self.settings.negative_ttl_seconds > 0.0 => {
                let ttl = Expiry::Ttl(self.settings.negative_ttl_seconds);
                let _ = self.cache.set_with_expiry(key, entry, ttl);
            }
            _ => {}
        }
    }

    /// Drops what L1 holds for `key`.
    pub fn invalidate(&mut self, key: &str) {
        self.cache.delete(key);
    }

    /// The counters, with the current size.
    pub fn stats(&mut self) -> L1Stats {
        L1Stats {
            entries: self.cache.len() as u64,
            bytes: self.cache.byte_size(),
            ..self.stats
        }
    }

    pub fn purge_expired(&mut self) -> u64 {
        u64::from(self.cache.purge_expired())
    }

    pub fn clear(&mut self) {
        self.cache.clear();
    }
}

impl Reclaim for Tier {
    /// Evicts the entry L1's policy would evict next (the least recently used one under LRU).
    /// False if L1 is empty.
    fn reclaim(&mut self) -> bool {
        self.cache.evict_for_memory()
    }
}

pub fn empty_stats() -> L1Stats {
    L1Stats {
        hits: 0,
        negative_hits: 0,
        misses: 0,
        backend_calls: 0,
        backend_calls_saved: 0,
        backend_errors: 0,
        stale_served: 0,
        entries: 0,
        bytes: 0,
    }
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

/// The entry of a value; `None` if memory is refused.
pub fn tagged(value: &[u8]) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(value.len() + 1).ok()?;
    v.push(PRESENT);
    v.extend_from_slice(value);
    Some(v)
}

/// The entry of a cached absence; `None` if memory is refused.
pub fn tagged_absent() -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(1).ok()?;
    v.push(ABSENT);
    Some(v)
}
