//! The cache: a dictionary bounded by a byte budget, an item count and per-key deadlines, that
//! evicts by its [`EvictionPolicy`]: in LRU order, or by S3-FIFO's queues (`queues`, `ghost`).
//! Invariants (checked by [`Cache::check_invariants`]): the slab, the key index and the expiry
//! heap describe the same entries; `entries_bytes` is the sum of their accounted sizes; after
//! every public call the byte and item limits hold; no expired entry is ever returned or counted
//! by a read; every terminal removal is recorded once (listener, log, stats); `queues` is `Some`
//! exactly under S3-FIFO, and the ghost set (empty under LRU) never remembers more keys than the
//! main queue holds.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::accounting::{cache_overhead, entry_bytes};
use crate::error::CacheError;
use crate::expiry_heap::ExpiryHeap;
use crate::ghost::GhostSet;
use crate::index::KeyIndex;
use crate::policy::EvictionPolicy;
use crate::queues::{Limits, Queues};
use crate::removal::{Removal, RemovalCause, RemovalLog};
use crate::size::{format_size, parse_size};
use crate::slab::{Entry, LruSlab, NIL};
use crate::stats::Stats;
use crate::time::{
    format_secs, secs_to_nanos, validate_ttl, Clock, Deadline, Expiry, LazyNow, SystemClock, Time,
};

/// Settings of a new cache (mirrors the WIT `options`, with the byte budget already parsed; see
/// [`Config::with_max_size`] for the human form such as `"128M"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// TTL in seconds for entries written with [`Expiry::DefaultTtl`]; `None`: never expire.
    pub default_ttl: Option<f64>,
    /// Byte budget for the whole cache, overheads included; `None`: no limit.
    pub max_size_bytes: Option<u64>,
    /// Largest number of entries; `None`: no limit. Zero is rejected.
    pub max_items: Option<u32>,
    /// How many removals [`Cache::drain_removals`] keeps; 0 keeps none.
    pub removal_log_capacity: u32,
    /// What a write that does not fit evicts first ([`EvictionPolicy::Lru`] by default).
    pub policy: EvictionPolicy,
}

impl Config {
    /// Sets the byte budget from a human string (`"64K"`, `"0.5M"`, `"128M"`, `"1G"`).
    pub fn with_max_size(mut self, size: &str) -> Result<Self, CacheError> {
        self.max_size_bytes = Some(parse_size(size)?);
        Ok(self)
    }

    pub(crate) fn validate(&self) -> Result<(), CacheError> {
        if let Some(ttl) = self.default_ttl {
            validate_ttl("default-ttl", ttl)?;
        }
        if self.max_size_bytes == Some(0) {
            return Err(CacheError::invalid(
                "max-size 0: the byte budget must be at least 1 byte",
            ));
        }
        if self.max_items == Some(0) {
            return Err(CacheError::invalid(
                "max-items 0: the item limit must be at least 1 (none: no limit)",
            ));
        }
        Ok(())
    }
}

/// A callback that sees every removal as it happens (after the entry is gone).
pub type RemovalListener = Box<dyn FnMut(&Removal)>;

/// The cache. Single-threaded: no locks, no background work; time comes from the `Clock`.
///
/// ```
/// use faas_cache::{Cache, Config, Expiry, ManualClock};
///
/// let clock = ManualClock::default();
/// let config = Config { max_items: Some(2), ..Config::default() }.with_max_size("1M").unwrap();
/// let mut cache = Cache::with_clock(config, clock.clone()).unwrap();
/// cache.set("a", b"1".to_vec()).unwrap();
/// cache.set_with_expiry("b", b"2".to_vec(), Expiry::Ttl(10.0)).unwrap();
/// assert_eq!(cache.get("a"), Some(&b"1"[..]));      // "a" is now the most recently used
/// cache.set("c", b"3".to_vec()).unwrap();            // evicts "b", the least recently used
/// assert_eq!(cache.keys().collect::<Vec<_>>(), ["a", "c"]);
/// clock.advance_secs(11.0);
/// ```
pub struct Cache<C: Clock = SystemClock> {
    clock: C,
    inner: Inner,
}

/// Everything but the clock, so that a call can hold the clock and mutate the rest.
struct Inner {
    slab: LruSlab,
    index: KeyIndex,
    heap: ExpiryHeap,
    entries_bytes: u64,
    default_ttl: Option<f64>,
    default_ttl_nanos: Option<i128>,
    max_bytes: Option<u64>,
    max_items: Option<u32>,
    log: RemovalLog,
    listener: Option<RemovalListener>,
    stats: Stats,
    /// S3-FIFO's queues over the slab's list; `None` under LRU.
    queues: Option<Queues>,
    /// S3-FIFO's ghost set; always empty under LRU.
    ghost: GhostSet,
}

/// Where a stored entry goes: by the policy's rule for a new key, or back where a snapshot had it.
#[derive(Clone, Copy)]
pub(crate) enum Placement {
    New,
    Restored { in_main: bool, reads: u8 },
}

/// A fresh hash seed from the standard library's per-process random keys.
fn random_seed() -> (u64, u64) {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    (state.hash_one(1u8), state.hash_one(2u8))
}

impl Cache<SystemClock> {
    /// A cache on the system clock with a random hash seed.
    pub fn new(config: Config) -> Result<Self, CacheError> {
        Cache::with_clock(config, SystemClock)
    }
}

impl<C: Clock> Cache<C> {
    /// A cache on `clock` with a random hash seed.
    pub fn with_clock(config: Config, clock: C) -> Result<Self, CacheError> {
        Cache::with_clock_and_seed(config, clock, random_seed())
    }

    /// A cache on `clock` whose key hashing is keyed by `seed` (take it from a random source).
    pub fn with_clock_and_seed(
        config: Config,
        clock: C,
        seed: (u64, u64),
    ) -> Result<Self, CacheError> {
        config.validate()?;
        let inner = Inner {
            slab: LruSlab::new(),
            index: KeyIndex::new(seed),
            heap: ExpiryHeap::default(),
            entries_bytes: 0,
            default_ttl: config.default_ttl,
            default_ttl_nanos: config.default_ttl.map(|t| secs_to_nanos(t).unwrap_or(0)),
            max_bytes: config.max_size_bytes,
            max_items: config.max_items,
            log: RemovalLog::new(config.removal_log_capacity),
            listener: None,
            stats: Stats::default(),
            queues: (config.policy == EvictionPolicy::S3Fifo).then(Queues::default),
            ghost: GhostSet::default(),
        };
        Ok(Cache { clock, inner })
    }

    /// The settings this cache runs with.
    pub fn config(&self) -> Config {
        Config {
            default_ttl: self.inner.default_ttl,
            max_size_bytes: self.inner.max_bytes,
            max_items: self.inner.max_items,
            removal_log_capacity: self.inner.log.capacity(),
            policy: self.policy(),
        }
    }

    /// The policy this cache evicts by.
    pub fn policy(&self) -> EvictionPolicy {
        match self.inner.queues {
            None => EvictionPolicy::Lru,
            Some(_) => EvictionPolicy::S3Fifo,
        }
    }

    /// The clock this cache reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Calls `listener` for every removal from now on, after the entry has left the cache. A
    /// panicking listener is caught (with unwinding panics) and counted in `stats().listener_panics`.
    pub fn set_removal_listener(&mut self, listener: impl FnMut(&Removal) + 'static) {
        self.inner.listener = Some(Box::new(listener));
    }

    /// The value of a live key (a hit): under LRU moved to the most-recently-used end, under
    /// S3-FIFO its read counter raised. An expired key reads as absent (a miss) and is removed.
    pub fn get(&mut self, key: &str) -> Option<&[u8]> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self.inner.live_or_purge(key, &mut now);
        match idx {
            Some(idx) => {
                self.inner.stats.hits += 1;
                self.inner.touch(idx);
                Some(&self.inner.slab.entry(idx).value)
            }
            None => {
                self.inner.stats.misses += 1;
                None
            }
        }
    }

    /// The value of a live key, without changing LRU order, stats or anything else.
    pub fn peek(&self, key: &str) -> Option<&[u8]> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self.inner.index.find(&self.inner.slab, key)?;
        (!self.inner.is_expired(idx, &mut now)).then(|| &*self.inner.slab.entry(idx).value)
    }

    /// Whether the key is live. Changes nothing.
    pub fn contains(&self, key: &str) -> bool {
        self.peek(key).is_some()
    }

    /// `Some(false)`: live; `Some(true)`: present but expired, not yet purged; `None`: absent.
    /// Never removes anything.
    pub fn is_expired(&self, key: &str) -> Option<bool> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self.inner.index.find(&self.inner.slab, key)?;
        Some(self.inner.is_expired(idx, &mut now))
    }

    /// Stores the value with the default TTL at the most-recently-used end (see
    /// [`Cache::set_with_expiry`]).
    pub fn set(
        &mut self,
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
    ) -> Result<(), CacheError> {
        self.set_with_expiry(key, value, Expiry::DefaultTtl)
    }

    /// Stores the value with `expiry` at the most-recently-used end. Overwriting a live key resets
    /// its expiry, reports the old value as `Replaced` and never evicts for the item limit. Evicts
    /// least recently used entries (expired ones first) until the cache fits its limits. An entry
    /// larger than the whole budget fails with `DataTooLarge` and changes nothing.
    pub fn set_with_expiry(
        &mut self,
        key: impl Into<String>,
        value: impl Into<Vec<u8>>,
        expiry: Expiry,
    ) -> Result<(), CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let written = self
            .inner
            .write(key.into(), value.into(), expiry, Placement::New, &mut now);
        self.inner.maybe_compact();
        written.map(|_| ())
    }

    /// Removes a live key; false if there was none (an expired one is removed as expired).
    pub fn delete(&mut self, key: &str) -> bool {
        let mut now = LazyNow::new(&self.clock);
        match self.inner.live_or_purge(key, &mut now) {
            Some(idx) => {
                self.inner.discard(idx, RemovalCause::Deleted);
                self.inner.maybe_compact();
                true
            }
            None => false,
        }
    }

    /// Removes and returns a live key's value; `None` if there was none.
    pub fn pop(&mut self, key: &str) -> Option<Vec<u8>> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self.inner.live_or_purge(key, &mut now)?;
        let value = self.inner.take_reporting(idx, RemovalCause::Popped).1;
        self.inner.maybe_compact();
        Some(value)
    }

    /// Removes and returns the most recently used live entry (`last`) or the least recently used
    /// one; expired entries met on the way are removed as expired.
    pub fn pop_item(&mut self, last: bool) -> Option<(String, Vec<u8>)> {
        let mut now = LazyNow::new(&self.clock);
        loop {
            let idx = if last {
                self.inner.slab.tail()
            } else {
                self.inner.slab.head()
            }?;
            if self.inner.is_expired(idx, &mut now) {
                self.inner.discard(idx, RemovalCause::Expired);
            } else {
                let item = self.inner.take_reporting(idx, RemovalCause::Popped);
                self.inner.maybe_compact();
                return Some(item);
            }
        }
    }

    /// The live value of `key` (a hit, moved to the MRU end); otherwise stores `value` with the
    /// default TTL (a miss and an insert) and returns it.
    pub fn set_default(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
    ) -> Result<&[u8], CacheError> {
        let idx = self.set_default_slot(key, value)?;
        Ok(&self.inner.slab.entry(idx).value)
    }

    /// As [`Cache::set_default`], returning a copy of the value made without aborting: if the
    /// allocator refuses the copy, other entries are evicted (expired ones first, then least
    /// recently used, as in any refused growth) until it succeeds; `OutOfMemory` if even the
    /// entry alone cannot be copied.
    pub fn set_default_copied(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
    ) -> Result<Vec<u8>, CacheError> {
        let idx = self.set_default_slot(key, value)?;
        loop {
            if let Some(copy) = try_copy(&self.inner.slab.entry(idx).value) {
                return Ok(copy);
            }
            let mut now = LazyNow::new(&self.clock);
            let victim = self
                .inner
                .memory_victim(Some(idx), &mut now)
                .ok_or(CacheError::OutOfMemory)?;
            let cause = self.inner.cause_for_memory(victim, &mut now);
            self.inner.discard(victim, cause);
        }
    }

    fn set_default_slot(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
    ) -> Result<u32, CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let found = self.inner.index.find(&self.inner.slab, key.as_ref());
        if let Some(idx) = found.filter(|&i| !self.inner.is_expired(i, &mut now)) {
            self.inner.stats.hits += 1;
            self.inner.touch(idx);
            return Ok(idx);
        }
        // A miss. Refuse a default that cannot fit before touching anything (a failed call
        // changes nothing, not even the expired entry it would replace).
        let value = value.into();
        self.inner
            .check_fits_alone(key.as_ref().len(), value.len())?;
        let idx = self.inner.write(
            key.into(),
            value,
            Expiry::DefaultTtl,
            Placement::New,
            &mut now,
        )?;
        self.inner.stats.misses += 1;
        Ok(idx)
    }

    /// Moves a live key to the end of the order: under LRU the MRU end (`last`) or the LRU end;
    /// under S3-FIFO the main queue's newest end (`last`, counter kept) or the small queue's
    /// oldest end (counter 0). Absent or expired (removed): `KeyNotFound`.
    pub fn move_to_end(&mut self, key: &str, last: bool) -> Result<(), CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self
            .inner
            .live_or_purge(key, &mut now)
            .ok_or(CacheError::KeyNotFound)?;
        let slab = &mut self.inner.slab;
        match (&mut self.inner.queues, last) {
            (None, true) => slab.move_to_back(idx),
            (None, false) => slab.move_to_front(idx),
            (Some(q), true) => q.move_to_main_newest(slab, idx),
            (Some(q), false) => {
                q.move_to_small_oldest(slab, idx);
                self.inner.ghost.trim(q.main_len());
            }
        }
        Ok(())
    }

    /// Number of live entries (expired ones are purged first).
    pub fn len(&mut self) -> usize {
        self.purge_expired();
        self.inner.slab.len() as usize
    }

    /// Whether no live entry is left.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Live entries from least to most recently used (`.rev()` for the other way). Purges
    /// expired entries first; does not change the order.
    pub fn iter(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&str, &[u8])> + ExactSizeIterator + '_ {
        self.purge_expired();
        let slab = &self.inner.slab;
        slab.iter().map(move |i| {
            let e = slab.entry(i);
            (&*e.key, &*e.value)
        })
    }

    /// Live keys from least to most recently used.
    pub fn keys(&mut self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// Live values from least to most recently used.
    pub fn values(&mut self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Removes every entry, each reported as `Cleared`. Settings and stats stay.
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// Seconds until a live key expires, or `None` if it never does. Absent or expired
    /// (removed): `KeyNotFound`. Does not change LRU order.
    pub fn get_ttl(&mut self, key: &str) -> Result<Option<f64>, CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self
            .inner
            .live_or_purge(key, &mut now)
            .ok_or(CacheError::KeyNotFound)?;
        let deadline = self.inner.slab.entry(idx).deadline;
        Ok(if deadline.is_never() {
            None
        } else {
            deadline.remaining_secs(now.get())
        })
    }

    /// Sets a live key to expire `ttl` seconds from now, or never (`None`). Does not change LRU
    /// order. The TTL is checked before the key, so a bad TTL changes nothing.
    pub fn set_ttl(&mut self, key: &str, ttl: Option<f64>) -> Result<(), CacheError> {
        let ttl_nanos = ttl.map(|t| validate_ttl("ttl", t)).transpose()?;
        let mut now = LazyNow::new(&self.clock);
        let idx = self
            .inner
            .live_or_purge(key, &mut now)
            .ok_or(CacheError::KeyNotFound)?;
        let deadline = match ttl_nanos {
            None => Deadline::NEVER,
            Some(n) => Deadline::after(now.get(), n),
        };
        self.inner.set_deadline(idx, deadline, &mut now)
    }

    /// Sets a live key to expire at `epoch_seconds` (a past time expires it; `+inf` never; NaN is
    /// rejected). Does not change LRU order.
    pub fn expire_at(&mut self, key: &str, epoch_seconds: f64) -> Result<(), CacheError> {
        let deadline = deadline_at(epoch_seconds)?;
        let mut now = LazyNow::new(&self.clock);
        let idx = self
            .inner
            .live_or_purge(key, &mut now)
            .ok_or(CacheError::KeyNotFound)?;
        self.inner.set_deadline(idx, deadline, &mut now)
    }

    /// The default TTL in seconds.
    pub fn default_ttl(&self) -> Option<f64> {
        self.inner.default_ttl
    }

    /// Sets the default TTL for entries written from now on.
    pub fn set_default_ttl(&mut self, ttl: Option<f64>) -> Result<(), CacheError> {
        let nanos = ttl.map(|t| validate_ttl("default-ttl", t)).transpose()?;
        self.inner.default_ttl = ttl;
        self.inner.default_ttl_nanos = nanos;
        Ok(())
    }

    /// The byte limit.
    pub fn max_size_bytes(&self) -> Option<u64> {
        self.inner.max_bytes
    }

    /// Sets the byte limit from a human string (`None` removes it) and evicts until it fits.
    pub fn change_byte_size(&mut self, max_size: Option<&str>) -> Result<(), CacheError> {
        let bytes = max_size.map(parse_size).transpose()?;
        self.set_max_size_bytes(bytes)
    }

    /// Sets the byte limit in bytes (`None` removes it; 0 is rejected) and evicts least recently
    /// used entries, expired ones first, until the cache fits.
    pub fn set_max_size_bytes(&mut self, max: Option<u64>) -> Result<(), CacheError> {
        self.apply_limits(Config {
            max_size_bytes: max,
            ..self.config()
        })
    }

    /// Checks new limits like `create` does, then evicts (expired entries first, then least
    /// recently used) until the cache fits them.
    fn apply_limits(&mut self, config: Config) -> Result<(), CacheError> {
        config.validate()?;
        self.inner.max_bytes = config.max_size_bytes;
        self.inner.max_items = config.max_items;
        let mut now = LazyNow::new(&self.clock);
        self.inner.make_room(0, 0, None, &mut now);
        Ok(())
    }

    /// The item limit.
    pub fn max_items(&self) -> Option<u32> {
        self.inner.max_items
    }

    /// Sets the item limit (`None` removes it; 0 is rejected) and evicts until it fits.
    pub fn change_max_items(&mut self, max_items: Option<u32>) -> Result<(), CacheError> {
        self.apply_limits(Config {
            max_items,
            ..self.config()
        })
    }

    /// Accounted size in bytes: the fixed per-cache overhead plus each stored entry's size.
    pub fn byte_size(&self) -> u64 {
        cache_overhead(self.inner.max_bytes) + self.inner.entries_bytes
    }

    /// Removes expired entries, earliest deadline first; returns how many. O(k log n).
    pub fn purge_expired(&mut self) -> u32 {
        if self.inner.heap.len() == 0 {
            return 0;
        }
        let now = self.clock.now();
        let purged = self.inner.purge_expired(now);
        self.inner.maybe_compact();
        purged
    }

    /// Takes up to `max` removal records, oldest first (fewer if the allocator refuses room for
    /// the result: the rest stay in the log).
    pub fn drain_removals(&mut self, max: u32) -> Vec<Removal> {
        self.inner.log.drain(max)
    }

    /// Drops every removal record without counting them.
    pub(crate) fn clear_removal_log(&mut self) {
        self.inner.log.clear();
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats
    }

    /// Sets every counter to zero.
    pub fn reset_stats(&mut self) {
        self.inner.stats = Stats::default();
    }

    /// One line for logs (purges expired entries first so they are not counted).
    pub fn describe(&mut self) -> String {
        self.purge_expired();
        self.to_string()
    }

    /// Evicts the least recently used entry to give memory back (reported as `EvictedSize`);
    /// with no entry left, drops the oldest removal record. False when there was nothing to free.
    /// Never reads the clock. For embedders that see an allocation fail.
    pub fn evict_for_memory(&mut self) -> bool {
        self.inner.evict_one_for_memory()
    }

    /// Every stored entry in order (LRU, or S3-FIFO's small then main queue) with its deadline,
    /// expired or not, and its S3-FIFO queue and counter (for snapshots).
    pub(crate) fn stored(&self) -> impl Iterator<Item = StoredEntry<'_>> + '_ {
        let slab = &self.inner.slab;
        slab.iter().map(move |i| {
            let e = slab.entry(i);
            StoredEntry {
                key: &e.key,
                value: &e.value,
                deadline: e.deadline,
                in_main: e.in_main,
                reads: e.reads,
            }
        })
    }

    pub(crate) fn now(&self) -> Time {
        self.clock.now()
    }

    /// Stores an entry restored from a snapshot at the end of the order (of its S3-FIFO queue,
    /// with its counter), with its absolute deadline. The caller has dropped expired entries and
    /// restores the small queue before the main one. Evicts for the limits like a write.
    pub(crate) fn restore_entry(
        &mut self,
        key: String,
        value: Vec<u8>,
        deadline: Deadline,
        placement: Placement,
    ) -> Result<(), CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let at = match deadline.to_snapshot() {
            None => Expiry::Never,
            Some(nanos) => Expiry::At(crate::time::nanos_to_secs(nanos)),
        };
        let idx = self.inner.write(key, value, at, placement, &mut now)?;
        // Keep the exact nanosecond deadline rather than its f64 round trip.
        self.inner.set_deadline(idx, deadline, &mut now)
    }

    /// Slots the slab holds in memory, occupied or vacant (for compaction tests).
    #[cfg(test)]
    pub(crate) fn slots_in_memory(&self) -> usize {
        self.inner.slab.slot_count()
    }

    /// Under S3-FIFO, whether a stored key is in the main queue and its read counter; `None`
    /// under LRU or for an absent key. Changes nothing; for tests and diagnostics.
    #[doc(hidden)]
    pub fn s3fifo_standing(&self, key: &str) -> Option<(bool, u8)> {
        self.inner.queues.as_ref()?;
        let idx = self.inner.index.find(&self.inner.slab, key)?;
        let e = self.inner.slab.entry(idx);
        Some((e.in_main, e.reads))
    }

    /// How many keys S3-FIFO's ghost set remembers (0 under LRU); for tests and diagnostics.
    #[doc(hidden)]
    pub fn ghost_len(&self) -> u32 {
        self.inner.ghost.len()
    }

    /// Checks every structural invariant; for tests and fuzzing. O(n).
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        self.inner.check()
    }
}

/// The deadline for an absolute expiry time in epoch seconds.
fn deadline_at(epoch_seconds: f64) -> Result<Deadline, CacheError> {
    if epoch_seconds.is_nan() {
        return Err(CacheError::invalid(
            "expiry time is NaN; it must be seconds since the Unix epoch",
        ));
    }
    if epoch_seconds == f64::INFINITY {
        return Ok(Deadline::NEVER);
    }
    Ok(Deadline::at_nanos(
        secs_to_nanos(epoch_seconds).unwrap_or(i128::MIN),
    ))
}

impl Inner {
    fn available_bytes(&self) -> Option<u64> {
        self.max_bytes.map(|m| m - cache_overhead(Some(m)))
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn is_expired(&self, idx: u32, now: &mut LazyNow) -> bool {
        let d = self.slab.entry(idx).deadline;
        !d.is_never() && d.is_expired_at(now.get())
    }

    /// The slot of a live key; an expired one is removed (as expired) and reads as absent.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn live_or_purge(&mut self, key: &str, now: &mut LazyNow) -> Option<u32> {
        let hash = self.index.hash(key);
        self.live_or_purge_hashed(key, hash, now)
    }

    /// `live_or_purge` with the key's hash already computed (a write hashes once).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn live_or_purge_hashed(&mut self, key: &str, hash: u64, now: &mut LazyNow) -> Option<u32> {
        let idx = self.index.find_hashed(&self.slab, key, hash)?;
        if self.is_expired(idx, now) {
            self.discard(idx, RemovalCause::Expired);
            return None;
        }
        Some(idx)
    }

    fn resolve(&self, expiry: Expiry, now: &mut LazyNow) -> Result<Deadline, CacheError> {
        Ok(match expiry {
            Expiry::DefaultTtl => match self.default_ttl_nanos {
                None => Deadline::NEVER,
                Some(n) => Deadline::after(now.get(), n),
            },
            Expiry::Never => Deadline::NEVER,
            Expiry::Ttl(t) => Deadline::after(now.get(), validate_ttl("ttl", t)?),
            Expiry::At(s) => deadline_at(s)?,
        })
    }

    /// The accounted size of an entry, or `DataTooLarge` if it alone exceeds the budget.
    fn check_fits_alone(&self, key_len: usize, value_len: usize) -> Result<u64, CacheError> {
        let size = entry_bytes(key_len, value_len);
        match self.available_bytes() {
            Some(available) if size > available => Err(CacheError::DataTooLarge {
                entry_bytes: size,
                available_bytes: available,
            }),
            _ => Ok(size),
        }
    }

    /// Stores `key`; returns its slot. See `Cache::set_with_expiry`.
    fn write(
        &mut self,
        key: String,
        value: Vec<u8>,
        expiry: Expiry,
        placement: Placement,
        now: &mut LazyNow,
    ) -> Result<u32, CacheError> {
        let deadline = self.resolve(expiry, now)?;
        let size = self.check_fits_alone(key.len(), value.len())?;
        let hash = self.index.hash(&key);
        match self.live_or_purge_hashed(&key, hash, now) {
            Some(idx) => self.replace(idx, value, deadline, size, now),
            None => self.insert(key, hash, value, deadline, size, placement, now),
        }
    }

    /// A hit on slot `idx`: under LRU it moves to the MRU end, under S3-FIFO its counter goes up.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn touch(&mut self, idx: u32) {
        match self.queues {
            None => self.slab.move_to_back(idx),
            Some(_) => Queues::read(&mut self.slab, idx),
        }
    }

    fn replace(
        &mut self,
        idx: u32,
        value: Vec<u8>,
        deadline: Deadline,
        size: u64,
        now: &mut LazyNow,
    ) -> Result<u32, CacheError> {
        // Reserve first: a refusal fails the write with only evictions done (not a reorder).
        if !deadline.is_never() && self.slab.entry(idx).heap_pos == NIL {
            self.reserve(ReserveFor::Heap, Some(idx), now)?;
        }
        let old_size = {
            let e = self.slab.entry(idx);
            entry_bytes(e.key.len(), e.value.len())
        };
        self.make_room(size.saturating_sub(old_size), 0, Some(idx), now);
        self.touch(idx);
        if let Some(q) = &mut self.queues {
            q.resized(&self.slab, idx, old_size, size);
        }
        let entry = self.slab.entry_mut(idx);
        let old_value = std::mem::replace(&mut entry.value, value.into_boxed_slice());
        entry.deadline = deadline;
        self.heap.update(&mut self.slab, idx);
        self.entries_bytes = self.entries_bytes - old_size + size;
        self.stats.updates += 1;
        if self.wants_records() {
            match try_copy_str(&self.slab.entry(idx).key) {
                Some(key) => self.record(Removal {
                    key,
                    value: old_value.into_vec(),
                    cause: RemovalCause::Replaced,
                }),
                None => self.stats.removals_dropped += 1,
            }
        }
        Ok(idx)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &mut self,
        key: String,
        hash: u64,
        value: Vec<u8>,
        deadline: Deadline,
        size: u64,
        placement: Placement,
        now: &mut LazyNow,
    ) -> Result<u32, CacheError> {
        // S3-FIFO: a key the ghost set remembers when it is written goes to the main queue (the
        // ghost set forgets it). Asked before making room, whose evictions may push it out.
        let to_main =
            self.queues.is_some() && matches!(placement, Placement::New) && self.ghost.take(hash);
        self.make_room(size, 1, None, now);
        self.reserve(
            if deadline.is_never() {
                ReserveFor::Entry
            } else {
                ReserveFor::EntryWithDeadline
            },
            None,
            now,
        )?;
        let entry = Entry::new(key.into_boxed_str(), value.into_boxed_slice(), deadline);
        let idx = match (&mut self.queues, placement) {
            (None, _) => self.slab.push_back(entry),
            (Some(q), Placement::New) => q.push(&mut self.slab, entry, to_main),
            (Some(q), Placement::Restored { in_main, reads }) => {
                let idx = q.push(&mut self.slab, entry, in_main);
                self.slab.entry_mut(idx).reads = reads;
                idx
            }
        };
        self.index.insert_hashed(&self.slab, idx, hash);
        if !deadline.is_never() {
            self.heap.push(&mut self.slab, idx);
        }
        self.entries_bytes += size;
        self.stats.inserts += 1;
        Ok(idx)
    }

    /// Makes sure the structures can take what `what` needs without allocating, evicting entries
    /// (treating refused memory as a full cache) until they can. `OutOfMemory` if nothing is left
    /// to evict.
    fn reserve(
        &mut self,
        what: ReserveFor,
        keep: Option<u32>,
        now: &mut LazyNow,
    ) -> Result<(), CacheError> {
        loop {
            let ok = match what {
                ReserveFor::Heap => self.heap.try_reserve_one(),
                ReserveFor::Entry => {
                    self.slab.try_reserve_one() && self.index.try_reserve_one(&self.slab)
                }
                ReserveFor::EntryWithDeadline => {
                    self.slab.try_reserve_one()
                        && self.index.try_reserve_one(&self.slab)
                        && self.heap.try_reserve_one()
                }
            };
            if ok {
                return Ok(());
            }
            let victim = self
                .memory_victim(keep, now)
                .ok_or(CacheError::OutOfMemory)?;
            let cause = self.cause_for_memory(victim, now);
            self.discard(victim, cause);
        }
    }

    fn cause_for_memory(&self, victim: u32, now: &mut LazyNow) -> RemovalCause {
        if self.is_expired(victim, now) {
            RemovalCause::Expired
        } else {
            RemovalCause::EvictedSize
        }
    }

    /// The entry to give up for memory: the earliest-expiring one if expired, else the policy's
    /// next victim (never `keep`).
    fn memory_victim(&mut self, keep: Option<u32>, now: &mut LazyNow) -> Option<u32> {
        if let Some(top) = self.heap.peek() {
            if Some(top) != keep && self.is_expired(top, now) {
                return Some(top);
            }
        }
        let limits = self.queue_limits();
        if let Some(q) = &mut self.queues {
            return q.next_victim(&mut self.slab, keep, limits).map(|v| v.0);
        }
        let head = self.slab.head()?;
        if Some(head) != keep {
            return Some(head);
        }
        self.slab.next(head)
    }

    /// Evicts the LRU entry (or drops a removal record once empty). Never reads the clock: it
    /// runs inside the allocator, possibly while the host copies arguments in, when calling an
    /// import is forbidden.
    fn evict_one_for_memory(&mut self) -> bool {
        let limits = self.queue_limits();
        let victim = match &mut self.queues {
            None => self.slab.head(),
            Some(q) => q.next_victim(&mut self.slab, None, limits).map(|v| v.0),
        };
        match victim {
            Some(victim) => {
                self.discard(victim, RemovalCause::EvictedSize);
                if self.slab.len() == 0 {
                    // Empty: give the structures' own memory back too, so it can coalesce.
                    self.release_structures();
                }
                true
            }
            None => {
                self.log.drop_oldest() && {
                    self.stats.removals_dropped += 1;
                    true
                }
            }
        }
    }

    fn fits(&self, extra_bytes: u64, extra_items: u32) -> bool {
        let bytes_ok = self
            .available_bytes()
            .is_none_or(|a| self.entries_bytes.saturating_add(extra_bytes) <= a);
        bytes_ok && self.items_fit(extra_items)
    }

    fn items_fit(&self, extra_items: u32) -> bool {
        self.max_items
            .is_none_or(|m| self.slab.len() as u64 + extra_items as u64 <= m as u64)
    }

    /// Evicts until `extra_bytes` more bytes and `extra_items` more entries fit: all expired
    /// entries first, then least recently used ones (never `keep`).
    fn make_room(
        &mut self,
        extra_bytes: u64,
        extra_items: u32,
        keep: Option<u32>,
        now: &mut LazyNow,
    ) {
        if self.fits(extra_bytes, extra_items) {
            return;
        }
        if self.heap.len() > 0 {
            self.purge_expired(now.get());
        }
        if self.queues.is_some() {
            self.make_room_s3fifo(extra_bytes, extra_items, keep);
            return;
        }
        while !self.fits(extra_bytes, extra_items) {
            let Some(mut victim) = self.slab.head() else {
                return;
            };
            if Some(victim) == keep {
                match self.slab.next(victim) {
                    Some(v) => victim = v,
                    None => return,
                }
            }
            let cause = if self.items_fit(extra_items) {
                RemovalCause::EvictedSize
            } else {
                RemovalCause::EvictedCount
            };
            self.discard(victim, cause);
        }
    }

    /// S3-FIFO's part of `make_room` (expired entries are gone already): evicts the queues' next
    /// victims, remembering keys evicted from the small queue in the ghost set.
    fn make_room_s3fifo(&mut self, extra_bytes: u64, extra_items: u32, keep: Option<u32>) {
        let limits = self.queue_limits();
        while !self.fits(extra_bytes, extra_items) {
            let Some(q) = &mut self.queues else { return };
            let Some((victim, from_small)) = q.next_victim(&mut self.slab, keep, limits) else {
                return;
            };
            let cause = if self.items_fit(extra_items) {
                RemovalCause::EvictedSize
            } else {
                RemovalCause::EvictedCount
            };
            // One hash for the index and, for a victim from the small queue, the ghost set.
            let hash = self.index.hash(&self.slab.entry(victim).key);
            self.discard_hashed(victim, cause, hash);
            // (With an empty main queue the ghost set may remember nothing.)
            if let (true, Some(q)) = (from_small, &self.queues) {
                if q.main_len() > 0 {
                    self.ghost.insert(hash, q.main_len());
                }
            }
        }
    }

    /// What S3-FIFO's small queue aims at.
    fn queue_limits(&self) -> Limits {
        Limits {
            bytes: self.available_bytes(),
            items: self.max_items,
        }
    }

    fn purge_expired(&mut self, now: Time) -> u32 {
        let mut purged = 0;
        while let Some(top) = self.heap.peek() {
            if !self.slab.entry(top).deadline.is_expired_at(now) {
                break;
            }
            self.discard(top, RemovalCause::Expired);
            purged += 1;
        }
        purged
    }

    fn set_deadline(
        &mut self,
        idx: u32,
        deadline: Deadline,
        now: &mut LazyNow,
    ) -> Result<(), CacheError> {
        if !deadline.is_never() && self.slab.entry(idx).heap_pos == NIL {
            // If the expiry index cannot grow, give up memory like a full cache, never this key.
            self.reserve(ReserveFor::Heap, Some(idx), now)?;
        }
        self.slab.entry_mut(idx).deadline = deadline;
        self.heap.update(&mut self.slab, idx);
        Ok(())
    }

    /// Detaches a slot from every structure and updates bytes and stats; the caller reports it.
    fn take(&mut self, idx: u32, cause: RemovalCause) -> Entry {
        let hash = self.index.hash(&self.slab.entry(idx).key);
        self.take_hashed(idx, cause, hash)
    }

    /// `take` for a slot whose key hashes to `hash` (computed once by the caller).
    fn take_hashed(&mut self, idx: u32, cause: RemovalCause, hash: u64) -> Entry {
        if let Some(q) = &mut self.queues {
            q.detach(&self.slab, idx);
            if self.ghost.len() > q.main_len() {
                self.ghost.trim(q.main_len());
            }
        }
        self.index.remove_hashed(idx, hash);
        if self.slab.entry(idx).heap_pos != NIL {
            self.heap.remove(&mut self.slab, idx);
        }
        let entry = self.slab.remove(idx);
        self.entries_bytes -= entry_bytes(entry.key.len(), entry.value.len());
        self.count(cause, 1);
        entry
    }

    fn count(&mut self, cause: RemovalCause, n: u64) {
        let s = &mut self.stats;
        match cause {
            RemovalCause::Deleted | RemovalCause::Popped | RemovalCause::Cleared => s.removed += n,
            RemovalCause::EvictedSize => s.evicted_size += n,
            RemovalCause::EvictedCount => s.evicted_count += n,
            RemovalCause::Expired => s.expired += n,
            RemovalCause::Replaced => {}
        }
    }

    /// Removes a slot and reports it, handing the key and value to the record.
    fn discard(&mut self, idx: u32, cause: RemovalCause) {
        let hash = self.index.hash(&self.slab.entry(idx).key);
        self.discard_hashed(idx, cause, hash);
    }

    /// `discard` for a slot whose key hashes to `hash`.
    fn discard_hashed(&mut self, idx: u32, cause: RemovalCause, hash: u64) {
        let entry = self.take_hashed(idx, cause, hash);
        self.record(Removal {
            key: entry.key.into_string(),
            value: entry.value.into_vec(),
            cause,
        });
    }

    /// Removes a slot, reports a copy and returns the key and value to the caller.
    fn take_reporting(&mut self, idx: u32, cause: RemovalCause) -> (String, Vec<u8>) {
        let entry = self.take(idx, cause);
        let (key, value) = (entry.key.into_string(), entry.value.into_vec());
        if self.wants_records() {
            match (try_copy_str(&key), try_copy(&value)) {
                (Some(key), Some(value)) => self.record(Removal { key, value, cause }),
                _ => self.stats.removals_dropped += 1,
            }
        }
        (key, value)
    }

    /// Whether anyone sees removal records (a listener or a log with room).
    fn wants_records(&self) -> bool {
        self.listener.is_some() || self.log.capacity() > 0
    }

    /// Hands a removal to the listener (panics caught) and then to the log.
    fn record(&mut self, removal: Removal) {
        if let Some(listener) = self.listener.as_mut() {
            if catch_unwind(AssertUnwindSafe(|| listener(&removal))).is_err() {
                self.stats.listener_panics += 1;
            }
        }
        self.stats.removals_dropped += self.log.push(removal);
    }

    /// Rebuilds the structures at the size of the live entries when most slots are vacant (see
    /// `compact`). Call only between operations: it renumbers slots.
    fn maybe_compact(&mut self) {
        if crate::compact::worthwhile(&self.slab) {
            let mut no_marker = NIL;
            let marker = match &mut self.queues {
                Some(q) => q.main_head_mut(),
                None => &mut no_marker,
            };
            crate::compact::compact(&mut self.slab, &mut self.index, &mut self.heap, marker);
        }
    }

    /// Frees the slab, index, heap and ghost set of an empty cache.
    fn release_structures(&mut self) {
        self.slab = LruSlab::new();
        self.index.clear();
        self.heap.clear();
        self.ghost.clear();
        if let Some(q) = &mut self.queues {
            *q = Queues::default();
        }
    }

    fn clear(&mut self) {
        let mut slab = std::mem::replace(&mut self.slab, LruSlab::new());
        self.release_structures();
        self.entries_bytes = 0;
        let mut n = 0;
        while let Some(idx) = slab.head() {
            let entry = slab.remove(idx);
            n += 1;
            self.record(Removal {
                key: entry.key.into_string(),
                value: entry.value.into_vec(),
                cause: RemovalCause::Cleared,
            });
        }
        self.count(RemovalCause::Cleared, n);
    }

    fn check(&self) -> Result<(), String> {
        let n = self.slab.len() as usize;
        let walked: Vec<u32> = self.slab.iter().collect();
        if walked.len() != n || self.slab.iter().rev().count() != n {
            return Err(format!(
                "list walk found {} entries, len is {n}",
                walked.len()
            ));
        }
        if self.index.len() != n {
            return Err(format!("index holds {}, slab {n}", self.index.len()));
        }
        let mut bytes = 0;
        let mut with_deadline = 0;
        for &idx in &walked {
            let e = self.slab.entry(idx);
            if self.index.find(&self.slab, &e.key) != Some(idx) {
                return Err(format!("key {:?} not indexed at its slot", e.key));
            }
            bytes += entry_bytes(e.key.len(), e.value.len());
            if !e.deadline.is_never() {
                with_deadline += 1;
            } else if e.heap_pos != NIL {
                return Err(format!("key {:?} never expires but is in the heap", e.key));
            }
        }
        if bytes != self.entries_bytes {
            return Err(format!(
                "entries account for {bytes} bytes, total says {}",
                self.entries_bytes
            ));
        }
        if with_deadline != self.heap.len() {
            return Err(format!(
                "{with_deadline} entries expire, heap holds {}",
                self.heap.len()
            ));
        }
        self.heap.check(&self.slab)?;
        self.ghost.check()?;
        match &self.queues {
            Some(q) => {
                q.check(&self.slab)?;
                if self.ghost.len() > q.main_len() {
                    return Err(format!(
                        "ghost remembers {} keys, main queue holds {}",
                        self.ghost.len(),
                        q.main_len()
                    ));
                }
            }
            None => {
                if self.ghost.len() > 0
                    || walked.iter().any(|&i| {
                        let e = self.slab.entry(i);
                        e.in_main || e.reads > 0
                    })
                {
                    return Err("S3-FIFO state in an LRU cache".into());
                }
            }
        }
        if !self.fits(0, 0) {
            return Err("over a limit".into());
        }
        Ok(())
    }
}

/// One stored entry as a snapshot writes it.
pub(crate) struct StoredEntry<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: &'a [u8],
    pub(crate) deadline: Deadline,
    pub(crate) in_main: bool,
    pub(crate) reads: u8,
}

/// What a write must be able to add without allocating.
#[derive(Clone, Copy)]
enum ReserveFor {
    Heap,
    Entry,
    EntryWithDeadline,
}

/// A copy of `s`, or `None` if the allocator refused.
pub fn try_copy_str(s: &str) -> Option<String> {
    let mut copy = String::new();
    copy.try_reserve_exact(s.len()).ok()?;
    copy.push_str(s);
    Some(copy)
}

/// A copy of `bytes`, or `None` if the allocator refused.
pub fn try_copy(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes.len()).ok()?;
    v.extend_from_slice(bytes);
    Some(v)
}

impl<C: Clock> fmt::Display for Cache<C> {
    /// `FaaSCacheDict(default_ttl=10, max_memory=128M, max_items=10, current_memory_bytes=1234, current_items=1)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "None".into());
        write!(
            f,
            "FaaSCacheDict(default_ttl={}, max_memory={}, max_items={}, current_memory_bytes={}, current_items={})",
            opt(self.inner.default_ttl.map(format_secs)),
            opt(self.inner.max_bytes.map(format_size)),
            opt(self.inner.max_items.map(|m| m.to_string())),
            self.byte_size(),
            self.inner.slab.len(),
        )
    }
}

impl<C: Clock> fmt::Debug for Cache<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
