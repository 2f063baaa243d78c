//! The L1 tier: one `faas-cache` cache for every bucket (one byte budget), its settings and its
//! counters, and what each step of a `wasi:keyvalue` call does to them. It knows nothing of
//! where it lives (a guest's guarded cell, a host's mutex) nor of the backend.
//!
//! Keys are `"{len(identifier)}:{identifier}{key}"`, so buckets never collide. Values carry a
//! one-byte tag: `PRESENT` followed by the value, or `ABSENT` alone for a cached absence
//! (negative caching). Invariant: a fill that L1 cannot hold (too large, memory refused) removes
//! the key's old entry, so a failed fill never leaves an older value behind.

use faas_cache::{try_copy, Cache, Clock, Config, Expiry};

use crate::settings::Settings;

/// The counters of an L1, as `faas:kv-l1/l1.l1-stats` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Stats {
    /// Reads answered from L1, negative entries included.
    pub hits: u64,
    /// The subset of `hits` answered by a cached absence.
    pub negative_hits: u64,
    /// Reads L1 could not answer.
    pub misses: u64,
    /// Calls made to the backend, of every kind.
    pub backend_calls: u64,
    /// Backend calls L1 made unnecessary.
    pub backend_calls_saved: u64,
    /// Backend calls that failed.
    pub backend_errors: u64,
    /// Reads answered with a stale value because the backend failed.
    pub stale_served: u64,
    /// Entries held now.
    pub entries: u64,
    /// Accounted bytes held now.
    pub bytes: u64,
}

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

pub struct Tier<C: Clock> {
    cache: Cache<C>,
    pub settings: Settings,
    pub stats: L1Stats,
}

impl<C: Clock> Tier<C> {
    /// A tier with `settings` on `clock` whose key hashing is seeded with `seed`.
    pub fn new(settings: Settings, clock: C, seed: (u64, u64)) -> Result<Tier<C>, String> {
        // Values live `ttl + stale-if-error` seconds; they are fresh while more than
        // `stale-if-error` seconds remain (see `Tier::lookup`).
        let config = Config {
            default_ttl: Some(settings.ttl_seconds + settings.stale_if_error_seconds),
            max_size_bytes: Some(settings.max_bytes),
            max_items: settings.max_items,
            removal_log_capacity: 0,
            policy: settings.policy,
        };
        let cache = Cache::with_clock_and_seed(config, clock, seed)
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

    /// Invalidations may have been missed (a host's tracking connection dropped): no entry is
    /// fresh any more. With stale-if-error on, each value stays for at most the window as a
    /// stale one, which answers only when the backend fails; cached absences go, and without
    /// stale-if-error everything goes. O(n); runs only when tracking is lost or regained.
    pub fn distrust_all(&mut self) {
        let window = self.settings.stale_if_error_seconds;
        if window <= 0.0 {
            self.cache.clear();
            return;
        }
        let keys: Vec<String> = self.cache.keys().map(str::to_owned).collect();
        for key in keys {
            let present = self.cache.peek(&key).map(|e| e.first() == Some(&PRESENT));
            match (present, self.cache.get_ttl(&key)) {
                (Some(true), Ok(Some(left))) if left <= window => {}
                (Some(true), Ok(_)) => {
                    let _ = self.cache.set_ttl(&key, Some(window));
                }
                _ => {
                    self.cache.delete(&key);
                }
            }
        }
    }

    /// Live entries held now.
    pub fn len(&mut self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&mut self) -> bool {
        self.cache.len() == 0
    }

    /// Evicts the entry L1's policy would evict next (for an allocator that must free memory).
    /// False if L1 is empty.
    pub fn evict_for_memory(&mut self) -> bool {
        self.cache.evict_for_memory()
    }
}

pub fn empty_stats() -> L1Stats {
    L1Stats::default()
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

#[cfg(test)]
mod tests {
    use faas_cache::{ManualClock, Time};

    use super::*;

    fn tier(ttl: f64, negative: f64, stale: f64) -> (Tier<ManualClock>, ManualClock) {
        let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
        let settings = Settings {
            ttl_seconds: ttl,
            negative_ttl_seconds: negative,
            stale_if_error_seconds: stale,
            ..Settings::default()
        };
        (Tier::new(settings, clock.clone(), (1, 2)).unwrap(), clock)
    }

    #[test]
    fn a_fill_is_fresh_for_the_ttl_then_stale_for_the_window_then_gone() {
        let (mut t, clock) = tier(5.0, 0.0, 10.0);
        t.fill("k".into(), tagged(b"v"), true);
        assert!(matches!(t.lookup("k"), Lookup::Present(v) if v == b"v"));
        assert!(matches!(t.presence("k"), Presence::Known(true)));
        clock.advance_secs(6.0);
        assert!(matches!(t.lookup("k"), Lookup::Stale(v) if v == b"v"));
        assert!(matches!(t.presence("k"), Presence::Stale));
        clock.advance_secs(10.0);
        assert!(matches!(t.lookup("k"), Lookup::Unknown));
        let s = t.stats();
        assert_eq!((s.hits, s.misses), (2, 3));
    }

    #[test]
    fn absences_are_kept_only_with_negative_caching_and_a_failed_fill_leaves_nothing() {
        let (mut off, _) = tier(5.0, 0.0, 0.0);
        off.fill("k".into(), tagged(b"old"), true);
        off.fill("k".into(), tagged_absent(), false);
        assert!(
            matches!(off.lookup("k"), Lookup::Unknown),
            "the old value went too"
        );
        let (mut on, clock) = tier(5.0, 1.0, 0.0);
        on.fill("k".into(), tagged_absent(), false);
        assert!(matches!(on.lookup("k"), Lookup::Absent));
        assert!(matches!(on.presence("k"), Presence::Known(false)));
        assert_eq!(on.stats().negative_hits, 2);
        clock.advance_secs(1.5);
        assert!(matches!(on.lookup("k"), Lookup::Unknown), "negative TTL");
        on.fill("k".into(), tagged(b"v"), true);
        on.fill("k".into(), None, true);
        assert!(
            matches!(on.lookup("k"), Lookup::Unknown),
            "refused memory drops it"
        );
    }

    #[test]
    fn distrusted_values_answer_only_as_stale_ones_inside_the_window() {
        let (mut t, clock) = tier(5.0, 1.0, 10.0);
        t.fill("v".into(), tagged(b"v"), true);
        t.fill("gone".into(), tagged_absent(), false);
        t.distrust_all();
        assert!(matches!(t.lookup("v"), Lookup::Stale(v) if v == b"v"));
        assert!(matches!(t.lookup("gone"), Lookup::Unknown), "absences go");
        clock.advance_secs(10.5);
        assert!(
            matches!(t.lookup("v"), Lookup::Unknown),
            "for the window at most"
        );
        let (mut off, _) = tier(5.0, 0.0, 0.0);
        off.fill("v".into(), tagged(b"v"), true);
        off.distrust_all();
        assert!(off.is_empty(), "without stale-if-error everything goes");
    }

    #[test]
    fn buckets_never_share_keys() {
        let a = l1_key(&bucket_prefix("ab"), "c").unwrap();
        let b = l1_key(&bucket_prefix("a"), "bc").unwrap();
        assert_ne!(a, b);
        assert_eq!(a, "2:abc");
    }
}
