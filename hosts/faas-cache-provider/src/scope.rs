//! A scope: one app's named caches, shared by every instance of the app on every thread, for as
//! long as the host keeps the scope. It enforces the scope's limits (a ceiling on the sum of its
//! named caches' byte limits, a cap on names), purges expired entries, and snapshots and restores
//! itself as a whole.
//!
//! Invariants: each named cache sits behind its own mutex, and a call holds at most the names
//! lock and then one cache's lock, always in that order (never a cache's, then the names'), for
//! the length of one core call: never across a call into a guest or an await. The recorded limit
//! of each named cache is its byte limit, and their sum never exceeds the ceiling. A poisoned
//! lock is taken over as it is: core calls leave a cache consistent, and no guest code runs
//! under a lock.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use faas_cache::{check_name, Cache, CacheError, Config, NameTable};

use crate::clock::ScopeClock;
use crate::sealed::{self, SealedError};

/// A cache as the provider holds it.
pub type HostCache = Cache<ScopeClock>;

/// A cache behind its lock, shared by the handles to it.
pub type SharedCache = Arc<Mutex<HostCache>>;

/// The magic of a scope snapshot.
pub const SCOPE_MAGIC: &[u8; 4] = b"FCSC";

/// Locks `m`, taking a poisoned lock over as it is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Host memory one removal record costs beside its key and value (the record, its queue slot).
pub const RECORD_OVERHEAD: u64 = 64;

/// The removal-log capacity a host grants a cache asking for `requested` records under a byte
/// bound of `bytes`: at most one record per [`RECORD_OVERHEAD`] bytes, so that a log of empty
/// records cannot hold more memory than the bound. (The contract bounds the records' keys and
/// values by the cache's limit; their fixed cost is the host's to bound.)
pub fn log_records(requested: u32, bytes: u64) -> u32 {
    u32::try_from(bytes / RECORD_OVERHEAD).map_or(requested, |most| requested.min(most))
}

/// A fresh hash seed for a new cache.
pub(crate) fn random_seed() -> (u64, u64) {
    let state = RandomState::new();
    (state.hash_one(1u8), state.hash_one(2u8))
}

/// What a host allows one scope (one app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeLimits {
    /// The largest sum of the named caches' byte limits (`None`: no ceiling, and a named cache
    /// may have no byte limit). With a ceiling, every named cache needs a byte limit.
    pub ceiling: Option<u64>,
    /// The most names the scope holds (`None`: no cap).
    pub max_names: Option<usize>,
}

impl Default for ScopeLimits {
    /// A 64 MiB ceiling and 256 names, as `faas-cache-serve` defaults to.
    fn default() -> Self {
        ScopeLimits {
            ceiling: Some(64 << 20),
            max_names: Some(256),
        }
    }
}

/// A named cache and the byte limit it counts for against the ceiling.
struct Named {
    cache: SharedCache,
    limit: u64,
}

struct Inner {
    names: Mutex<NameTable<Named>>,
    limits: ScopeLimits,
    clock: ScopeClock,
}

/// One app's scope. Clones share it: hand one to every instance of the app.
#[derive(Clone)]
pub struct Scope(Arc<Inner>);

/// What [`Scope::restore`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Caches restored, by name.
    pub restored: Vec<String>,
    /// Caches left out, by name, with why (a corrupt cache snapshot, the ceiling, the cap on
    /// names, a name already open).
    pub skipped: Vec<(String, String)>,
}

impl Scope {
    /// An empty scope on the machine's clock.
    pub fn new(limits: ScopeLimits) -> Scope {
        Scope::with_clock(limits, ScopeClock::System)
    }

    /// An empty scope whose caches read `clock`.
    pub fn with_clock(limits: ScopeLimits, clock: ScopeClock) -> Scope {
        Scope(Arc::new(Inner {
            names: Mutex::new(NameTable::new()),
            limits,
            clock,
        }))
    }

    /// The scope's limits.
    pub fn limits(&self) -> ScopeLimits {
        self.0.limits
    }

    /// The clock its caches read.
    pub fn clock(&self) -> &ScopeClock {
        &self.0.clock
    }

    /// `named.open`: the cache called `name`, created with `config` on first open, or updated
    /// by it ([`Cache::reopen`]). Checks the name and the settings (`invalid-argument`), then
    /// the ceiling and the cap on names (`out-of-memory`), before it changes anything.
    pub fn open(&self, name: &str, config: Config) -> Result<SharedCache, CacheError> {
        check_name(name)?;
        config.validate()?;
        let mut names = lock(&self.0.names);
        let limit = self.fits(&names, name, config.max_size_bytes)?;
        if let Some(named) = names.get_mut(name) {
            let cache = named.cache.clone();
            lock(&cache).reopen(&config)?;
            named.limit = limit;
            return Ok(cache);
        }
        if self
            .0
            .limits
            .max_names
            .is_some_and(|max| names.len() >= max)
        {
            return Err(CacheError::OutOfMemory);
        }
        let mut config = config;
        if self.0.limits.ceiling.is_some() {
            config.removal_log_capacity = log_records(config.removal_log_capacity, limit);
        }
        let cache = Arc::new(Mutex::new(Cache::with_clock_and_seed(
            config,
            self.0.clock.clone(),
            random_seed(),
        )?));
        names
            .try_insert(
                name.to_owned(),
                Named {
                    cache: cache.clone(),
                    limit,
                },
            )
            .map_err(|_| CacheError::OutOfMemory)?;
        Ok(cache)
    }

    /// The limit `max_size_bytes` counts for if the cache called `name` takes it: `Ok` while the
    /// other named caches' limits plus this one stay within the ceiling. Without a ceiling every
    /// limit fits (counting 0).
    fn fits(
        &self,
        names: &NameTable<Named>,
        name: &str,
        max_size_bytes: Option<u64>,
    ) -> Result<u64, CacheError> {
        let Some(ceiling) = self.0.limits.ceiling else {
            return Ok(max_size_bytes.unwrap_or(0));
        };
        let limit = max_size_bytes.ok_or(CacheError::OutOfMemory)?;
        let others: u64 = names
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(_, named)| named.limit)
            .sum();
        if others.saturating_add(limit) > ceiling {
            return Err(CacheError::OutOfMemory);
        }
        Ok(limit)
    }

    /// `change-byte-size` on the named cache `name`: refused with `out-of-memory` (nothing
    /// changed) where the new limit would take the scope past its ceiling.
    pub(crate) fn change_byte_size(
        &self,
        name: &str,
        max_size_bytes: Option<u64>,
    ) -> Result<(), CacheError> {
        let mut names = lock(&self.0.names);
        let limit = self.fits(&names, name, max_size_bytes)?;
        let named = names.get_mut(name).ok_or(CacheError::KeyNotFound)?;
        lock(&named.cache).set_max_size_bytes(max_size_bytes)?;
        named.limit = limit;
        Ok(())
    }

    /// The names, in the order first opened.
    pub fn names(&self) -> Vec<String> {
        lock(&self.0.names)
            .iter()
            .map(|(n, _)| n.to_owned())
            .collect()
    }

    /// The named caches, in the order first opened (the names lock is released on return).
    fn caches(&self) -> Vec<(String, SharedCache)> {
        lock(&self.0.names)
            .iter()
            .map(|(n, named)| (n.to_owned(), named.cache.clone()))
            .collect()
    }

    /// Purges expired entries from every named cache, one lock at a time; returns how many.
    pub fn purge_expired(&self) -> u64 {
        self.caches()
            .iter()
            .map(|(_, c)| u64::from(lock(c).purge_expired()))
            .sum()
    }

    /// The sum of the named caches' accounted bytes now.
    pub fn accounted_bytes(&self) -> u64 {
        self.caches()
            .iter()
            .map(|(_, c)| lock(c).accounted_bytes())
            .sum()
    }

    /// Checks every named cache's structure (`Cache::check_invariants`) and that the recorded
    /// limits match the caches' and fit under the ceiling. For tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        let names = lock(&self.0.names);
        let mut sum = 0u64;
        for (name, named) in names.iter() {
            let cache = lock(&named.cache);
            cache
                .check_invariants()
                .map_err(|e| format!("{name}: {e}"))?;
            if self.0.limits.ceiling.is_some() && cache.max_size_bytes() != Some(named.limit) {
                return Err(format!("{name}: recorded limit {} differs", named.limit));
            }
            sum += named.limit;
        }
        match self.0.limits.ceiling {
            Some(ceiling) if sum > ceiling => {
                Err(format!("limits {sum} over the ceiling {ceiling}"))
            }
            _ => Ok(()),
        }
    }

    /// Every named cache's snapshot (settings, entries, absolute expiry times), sealed with a
    /// CRC-32. Each cache is snapshotted under its own lock, one after another.
    pub fn snapshot(&self) -> Vec<u8> {
        let snapshots: Vec<(String, Vec<u8>)> = self
            .caches()
            .into_iter()
            .map(|(n, c)| {
                let snapshot = lock(&c).snapshot();
                (n, snapshot)
            })
            .collect();
        sealed::seal(
            SCOPE_MAGIC,
            snapshots.iter().map(|(n, s)| (n.as_str(), s.as_slice())),
        )
    }

    /// Adds the caches of a [`Scope::snapshot`] to this scope, in their order. Bytes that fail
    /// their checks are an error and change nothing; a cache that cannot be taken (its own
    /// snapshot corrupt, past the ceiling or the cap on names, its name already open) is left
    /// out and reported, the others are restored.
    pub fn restore(&self, bytes: &[u8]) -> Result<Restored, SealedError> {
        let items = sealed::open(SCOPE_MAGIC, bytes)?;
        let mut report = Restored::default();
        for (name, snapshot) in items {
            match self.adopt(&name, snapshot) {
                Ok(()) => report.restored.push(name),
                Err(why) => report.skipped.push((name, why)),
            }
        }
        Ok(report)
    }

    /// Restores one named cache from its snapshot, within the scope's limits.
    fn adopt(&self, name: &str, snapshot: &[u8]) -> Result<(), String> {
        check_name(name).map_err(|e| e.to_string())?;
        let cache = Cache::restore(snapshot, self.0.clock.clone(), random_seed())
            .map_err(|e| e.to_string())?;
        let mut names = lock(&self.0.names);
        if names.get(name).is_some() {
            return Err("a cache of that name is already open".into());
        }
        if self
            .0
            .limits
            .max_names
            .is_some_and(|max| names.len() >= max)
        {
            return Err("the scope's cap on names is reached".into());
        }
        let limit = self
            .fits(&names, name, cache.max_size_bytes())
            .map_err(|_| "its byte limit does not fit under the scope's ceiling".to_owned())?;
        names
            .try_insert(
                name.to_owned(),
                Named {
                    cache: Arc::new(Mutex::new(cache)),
                    limit,
                },
            )
            .map_err(|_| "out of memory".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faas_cache::{EvictionPolicy, ManualClock};

    fn sized(size: &str) -> Config {
        Config::default().with_max_size(size).unwrap()
    }

    #[test]
    fn open_shares_one_cache_and_later_opens_apply_their_settings() {
        let scope = Scope::new(ScopeLimits::default());
        let a = scope.open("users", sized("1M")).unwrap();
        lock(&a).set("k", b"v".to_vec()).unwrap();
        let again = Config {
            max_items: Some(5),
            policy: EvictionPolicy::S3Fifo,
            ..sized("2M")
        };
        let b = scope.open("users", again).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = lock(&b);
        assert_eq!(c.peek("k"), Some(&b"v"[..]));
        assert_eq!(c.max_size_bytes(), Some(2 << 20));
        assert_eq!(c.max_items(), Some(5));
        assert_eq!(c.policy(), EvictionPolicy::Lru);
    }

    #[test]
    fn the_ceiling_and_the_cap_on_names_refuse_and_change_nothing() {
        let limits = ScopeLimits {
            ceiling: Some(3 << 20),
            max_names: Some(2),
        };
        let scope = Scope::new(limits);
        assert_eq!(
            scope.open("unbounded", Config::default()).err(),
            Some(CacheError::OutOfMemory)
        );
        scope.open("a", sized("2M")).unwrap();
        assert_eq!(
            scope.open("b", sized("2M")).err(),
            Some(CacheError::OutOfMemory)
        );
        scope.open("b", sized("1M")).unwrap();
        // Reopening "a" larger counts "a" once: still over.
        assert_eq!(
            scope.open("a", sized("2.5M")).err(),
            Some(CacheError::OutOfMemory)
        );
        assert_eq!(
            scope.open("c", sized("1K")).err(),
            Some(CacheError::OutOfMemory)
        );
        assert_eq!(scope.names(), ["a", "b"]);
        assert_eq!(
            scope.change_byte_size("b", Some(2 << 20)),
            Err(CacheError::OutOfMemory)
        );
        scope.change_byte_size("a", Some(1 << 20)).unwrap();
        scope.change_byte_size("b", Some(2 << 20)).unwrap();
        assert!(matches!(
            scope.open("", sized("1K")),
            Err(CacheError::InvalidArgument(_))
        ));
    }

    #[test]
    fn snapshot_and_restore_keep_names_entries_and_expiry() {
        let clock = ManualClock::default();
        let scope = Scope::with_clock(ScopeLimits::default(), ScopeClock::Manual(clock.clone()));
        let s3 = Config {
            policy: EvictionPolicy::S3Fifo,
            ..sized("1M")
        };
        lock(&scope.open("b", s3).unwrap())
            .set_with_expiry("x", b"1".to_vec(), faas_cache::Expiry::Ttl(10.0))
            .unwrap();
        lock(&scope.open("a", sized("1M")).unwrap())
            .set("y", b"2".to_vec())
            .unwrap();
        let bytes = scope.snapshot();

        let again = Scope::with_clock(ScopeLimits::default(), ScopeClock::Manual(clock.clone()));
        let report = again.restore(&bytes).unwrap();
        assert_eq!(report.restored, ["b", "a"]);
        assert_eq!(again.names(), ["b", "a"]);
        let b = again.open("b", s3_config()).unwrap();
        assert_eq!(lock(&b).policy(), EvictionPolicy::S3Fifo);
        assert_eq!(lock(&b).get_ttl("x"), Ok(Some(10.0)));
        clock.advance_secs(11.0);
        assert_eq!(lock(&b).get("x"), None);

        // A second restore of the same names skips them; corrupt bytes change nothing.
        let report = again.restore(&bytes).unwrap();
        assert_eq!(report.skipped.len(), 2);
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        assert!(again.restore(&bad).is_err());
        let small = Scope::new(ScopeLimits {
            ceiling: Some(1 << 20),
            max_names: None,
        });
        let report = small.restore(&bytes).unwrap();
        assert_eq!((report.restored.len(), report.skipped.len()), (1, 1));
    }

    fn s3_config() -> Config {
        Config {
            policy: EvictionPolicy::S3Fifo,
            ..sized("1M")
        }
    }
}
