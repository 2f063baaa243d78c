//! The cache's public face: [`Cache`], a dictionary bounded by a byte budget, an item count and
//! per-key deadlines that evicts by its [`EvictionPolicy`] (in LRU order, or by S3-FIFO's queues,
//! see `queues`, `ghost`), and its settings, [`Config`]. Every method checks its arguments, reads
//! the clock (once at most, through `LazyNow`) and hands the work to the engine, `Inner`
//! (`engine`), whose parts are the write path (`write`), making room and purging expired entries
//! (`room`), the removal path (`remove`) and the invariant checker (`check`); dependencies point
//! that way only: facade, then write, room, remove, then the engine's state and the structures.
//! Invariants: after every public call the byte and item limits hold; no expired entry is ever
//! returned or counted by a read; every terminal removal is recorded once (listener, log, stats);
//! compaction runs in one place, `Cache::mutate`, between operations only, after the calls that
//! ran it before this split (a write, a removal of a live entry, a purge), never from inside the
//! engine or the allocator.

mod check;
mod engine;
mod remove;
mod room;
mod write;

use std::fmt;

use crate::accounting::cache_overhead;
use crate::error::CacheError;
use crate::expiry_heap::ExpiryHeap;
use crate::fallible::try_copy;
use crate::ghost::GhostSet;
use crate::index::KeyIndex;
use crate::policy::EvictionPolicy;
use crate::queues::Queues;
use crate::removal::{Removal, RemovalCause, RemovalLog};
use crate::size::{format_size, parse_size};
use crate::slab::LruSlab;
use crate::stats::Stats;
use crate::time::{
    format_secs, secs_to_nanos, validate_ttl, Clock, Deadline, Expiry, LazyNow, SystemClock, Time,
};
use engine::Inner;
pub use engine::RemovalListener;
use write::deadline_at;
pub(crate) use write::Placement;

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
    /// How many removals [`Cache::drain_removals`] keeps; 0 keeps none. The records' keys and
    /// values together are also kept within `max_size_bytes`, when there is one (records hold
    /// values outside the budget). Past either bound the oldest record is dropped and counted in
    /// `stats().removals_dropped`.
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

    /// `Ok` when every setting is valid; otherwise `invalid-argument` naming the first bad one.
    pub fn validate(&self) -> Result<(), CacheError> {
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

/// The cache. Single-threaded: no locks, no background work; time comes from the `Clock`. It is
/// `Send` whenever its clock is (removal listeners must be `Send`), so several threads can share
/// it behind a `Mutex`.
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
            log: RemovalLog::new(config.removal_log_capacity, config.max_size_bytes),
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
    /// The listener must be `Send`, so that the cache can move between threads (behind a `Mutex`).
    pub fn set_removal_listener(&mut self, listener: impl FnMut(&Removal) + Send + 'static) {
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
        let (key, value) = (key.into(), value.into());
        self.mutate(|inner, clock| {
            let mut now = LazyNow::new(clock);
            inner.write(key, value, expiry, Placement::New, &mut now)
        })
        .map(|_| ())
    }

    /// Removes a live key; false if there was none (an expired one is removed as expired).
    pub fn delete(&mut self, key: &str) -> bool {
        let mut now = LazyNow::new(&self.clock);
        match self.inner.live_or_purge(key, &mut now) {
            Some(idx) => {
                self.mutate(|inner, _| inner.discard(idx, RemovalCause::Deleted));
                true
            }
            None => false,
        }
    }

    /// Removes and returns a live key's value; `None` if there was none.
    pub fn pop(&mut self, key: &str) -> Option<Vec<u8>> {
        let mut now = LazyNow::new(&self.clock);
        let idx = self.inner.live_or_purge(key, &mut now)?;
        Some(self.mutate(|inner, _| inner.take_reporting(idx, RemovalCause::Popped).1))
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
                return Some(
                    self.mutate(|inner, _| inner.take_reporting(idx, RemovalCause::Popped)),
                );
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
    /// entry alone cannot be copied. The copy is made before anything else changes: a call that
    /// fails stores nothing and moves nothing, and counts no hit or miss.
    pub fn set_default_copied(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
    ) -> Result<Vec<u8>, CacheError> {
        let (_, copy) = self.set_default_with(key, value, |inner, hit, value, now| match hit {
            Some(idx) => inner.copy_evicting(Some(idx), now, |inner| {
                try_copy(&inner.slab.entry(idx).value)
            }),
            None => inner.copy_evicting(None, now, |_| try_copy(value)),
        })?;
        Ok(copy)
    }

    fn set_default_slot(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
    ) -> Result<u32, CacheError> {
        let (idx, ()) = self.set_default_with(key, value, |_, _, _, _| Ok(()))?;
        Ok(idx)
    }

    /// `set-default`'s one path. `answer` runs before anything changes, on the live entry's slot
    /// (a hit) or on the value about to be stored (a miss); if it fails, so does the call, and
    /// nothing was stored, moved or counted. Returns the entry's slot and the answer.
    fn set_default_with<R>(
        &mut self,
        key: impl Into<String> + AsRef<str>,
        value: impl Into<Vec<u8>>,
        answer: impl FnOnce(&mut Inner, Option<u32>, &[u8], &mut LazyNow) -> Result<R, CacheError>,
    ) -> Result<(u32, R), CacheError> {
        let mut now = LazyNow::new(&self.clock);
        let found = self.inner.index.find(&self.inner.slab, key.as_ref());
        if let Some(idx) = found.filter(|&i| !self.inner.is_expired(i, &mut now)) {
            let answered = answer(&mut self.inner, Some(idx), &[], &mut now)?;
            self.inner.stats.hits += 1;
            self.inner.touch(idx);
            return Ok((idx, answered));
        }
        // A miss. Refuse a default that cannot fit before touching anything (a failed call
        // changes nothing, not even the expired entry it would replace).
        let value = value.into();
        self.inner
            .check_fits_alone(key.as_ref().len(), value.len())?;
        let answered = answer(&mut self.inner, None, &value, &mut now)?;
        let idx = self.inner.write(
            key.into(),
            value,
            Expiry::DefaultTtl,
            Placement::New,
            &mut now,
        )?;
        self.inner.stats.misses += 1;
        Ok((idx, answered))
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
            // Both queues together hold as many entries as before: the ghost set's bound holds.
            (Some(q), false) => q.move_to_small_oldest(slab, idx),
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
        // The removal log's byte bound follows the byte limit (before the evictions it records).
        self.inner.stats.removals_dropped += self.inner.log.set_byte_limit(config.max_size_bytes);
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

    /// Accounted size in bytes of the live cache: the fixed per-cache overhead plus each live
    /// entry's size. Expired entries are purged first, so they are never counted (as in `len`
    /// and `describe`).
    pub fn byte_size(&mut self) -> u64 {
        self.purge_expired();
        self.accounted_bytes()
    }

    /// Accounted size in bytes now, without purging: expired entries not purged yet still count.
    /// Never above the byte limit.
    pub fn accounted_bytes(&self) -> u64 {
        cache_overhead(self.inner.max_bytes) + self.inner.entries_bytes
    }

    /// Removes expired entries, earliest deadline first; returns how many. O(k log n).
    pub fn purge_expired(&mut self) -> u32 {
        if self.inner.heap.len() == 0 {
            return 0;
        }
        self.mutate(|inner, clock| inner.purge_expired(clock.now()))
    }

    /// Runs a mutating call `f` on the engine, then compacts if most slots fell vacant: the one
    /// place compaction runs, between operations. Goes through here: `set_with_expiry` (hence
    /// `set`), `delete` and `pop` of a live key, `pop_item` when it returns an entry, and
    /// `purge_expired` with deadlines to check (hence `len`, `iter`, `describe`). Not the others:
    /// `evict_for_memory` runs inside the allocator, where compaction (which allocates) must not
    /// run, and the rest keep their behaviour of never compacting.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn mutate<R>(&mut self, f: impl FnOnce(&mut Inner, &C) -> R) -> R {
        let r = f(&mut self.inner, &self.clock);
        self.inner.maybe_compact();
        r
    }

    /// Takes up to `max` removal records, oldest first (fewer if the allocator refuses room for
    /// the result: the rest stay in the log).
    pub fn drain_removals(&mut self, max: u32) -> Vec<Removal> {
        self.inner.log.drain(max)
    }

    /// [`Cache::drain_removals`], stopping early once the records taken hold `max_bytes` of
    /// keys and values (the first record is always taken): a host that copies them across a
    /// boundary with a per-call limit drains a large log in several calls.
    pub fn drain_removals_within(&mut self, max: u32, max_bytes: u64) -> Vec<Removal> {
        self.inner.log.drain_within(max, max_bytes)
    }

    /// The bytes of keys and values the removal log holds (never above the byte limit, when the
    /// cache has one); for tests and diagnostics.
    #[doc(hidden)]
    pub fn removal_log_bytes(&self) -> u64 {
        self.inner.log.bytes()
    }

    /// Drops the oldest removal record, counted in `removals-dropped`, to give memory back; false
    /// when the log is empty. For embedders that bound the log's memory themselves (a host's
    /// ceiling over several caches).
    pub fn drop_oldest_removal(&mut self) -> bool {
        self.inner.log.drop_oldest() && {
            self.inner.stats.removals_dropped += 1;
            true
        }
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

/// One stored entry as a snapshot writes it.
pub(crate) struct StoredEntry<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: &'a [u8],
    pub(crate) deadline: Deadline,
    pub(crate) in_main: bool,
    pub(crate) reads: u8,
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
            self.accounted_bytes(),
            self.inner.slab.len(),
        )
    }
}

impl<C: Clock> fmt::Debug for Cache<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
