//! Snapshots: a cache's settings, policy and live entries, in order with absolute deadlines (and
//! under S3-FIFO each entry's queue and read counter), as platform-independent bytes. Invariant:
//! `restore(snapshot(c))` at the same instant gives a cache with the same settings, policy,
//! entries, order, deadlines, queues and counters (not the ghost set); any other input gives a
//! cache or a `CorruptSnapshot` error, never a panic, and never allocates more than the input
//! justifies.
//!
//! Format (postcard throughout; integers are varints, `i128` zigzag):
//! `magic "FCDS"`, `version: u32` (= 2), then the settings `default_ttl: Option<f64>`,
//! `max_size_bytes: Option<u64>`, `max_items: Option<u32>`, `removal_log_capacity: u32`, then
//! `policy: u8` (0 LRU, 1 S3-FIFO), then `count: u64` and `count` entries `(key: str, value: bytes,
//! deadline: Option<i128>)`, where the deadline is nanoseconds since the Unix epoch and `None`
//! means never; under S3-FIFO each entry has one more byte, `standing: u8` = read counter (0..=3)
//! plus 4 if the entry is in the main queue, and the small queue's entries come first. Last, in
//! version 2, `checksum`: the CRC-32 (IEEE, `crc32fast`) of every byte before it, as 4 bytes
//! little-endian; it is checked before anything else is read past the header, so a flipped bit
//! or a truncation anywhere is `CorruptSnapshot`, never a cache with altered data. Nothing may
//! follow. Version 1 is the same without `policy`, `standing` and `checksum`, and restores as LRU.

use hashbrown::HashTable;
use serde::{Deserialize, Serialize, Serializer};

use crate::accounting::encoded_len;
use crate::cache::{Cache, Config, Placement, StoredEntry};
use crate::fallible::{try_copy, try_copy_str};
use crate::policy::EvictionPolicy;
use crate::queues::MAX_READS;
use crate::time::{Clock, Deadline};
use crate::CacheError;

/// The first bytes of every snapshot.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"FCDS";
/// The format version this build writes and the newest it reads.
pub const SNAPSHOT_VERSION: u32 = 2;

/// The `standing` bit of an entry in the main queue.
const IN_MAIN: u8 = 4;

/// Bytes of the checksum that ends a version 2 snapshot.
const CHECKSUM_LEN: usize = 4;

/// The checksum of a snapshot's bytes before the checksum.
fn checksum(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    crc32fast::hash(bytes).to_le_bytes()
}

/// Rewrites the checksum that ends `snapshot` (a version 2 snapshot) to match the bytes before
/// it: for tests and fuzz targets that craft hostile snapshots and want them to reach the parser.
#[doc(hidden)]
pub fn reseal(snapshot: &mut [u8]) {
    if let Some(body_len) = snapshot.len().checked_sub(CHECKSUM_LEN) {
        let sum = checksum(&snapshot[..body_len]);
        snapshot[body_len..].copy_from_slice(&sum);
    }
}

/// `body` followed by its checksum: a crafted version 2 snapshot that reaches the parser.
#[doc(hidden)]
pub fn sealed(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&checksum(body));
    out
}

/// The bytes of a snapshot after its header and before its checksum, once the checksum matches.
fn verified(bytes: &[u8], header_len: usize) -> Result<&[u8], CacheError> {
    let body_len = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .filter(|&n| n >= header_len)
        .ok_or_else(|| CacheError::corrupt("truncated: no checksum"))?;
    let (body, sum) = bytes.split_at(body_len);
    if checksum(body) != sum {
        return Err(CacheError::corrupt(
            "checksum mismatch: the snapshot is damaged or truncated",
        ));
    }
    Ok(&body[header_len..])
}

#[derive(Serialize, Deserialize)]
struct Header {
    magic: [u8; 4],
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Settings {
    default_ttl: Option<f64>,
    max_size_bytes: Option<u64>,
    max_items: Option<u32>,
    removal_log_capacity: u32,
}

/// A byte string written with `serialize_bytes` (length + bytes, read back borrowed as `&[u8]`).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

fn deadline_len(d: Deadline) -> u64 {
    match d.to_snapshot() {
        None => 1,
        Some(n) => {
            let zigzag = ((n << 1) ^ (n >> 127)) as u128;
            let bits = 128 - zigzag.max(1).leading_zeros() as u64;
            1 + bits.div_ceil(7)
        }
    }
}

fn prefix<C: Clock>(cache: &Cache<C>, count: u64) -> Result<Vec<u8>, postcard::Error> {
    let config = cache.config();
    let mut out = postcard::to_allocvec(&Header {
        magic: SNAPSHOT_MAGIC,
        version: SNAPSHOT_VERSION,
    })?;
    out = postcard::to_extend(
        &Settings {
            default_ttl: config.default_ttl,
            max_size_bytes: config.max_size_bytes,
            max_items: config.max_items,
            removal_log_capacity: config.removal_log_capacity,
        },
        out,
    )?;
    let policy: u8 = match config.policy {
        EvictionPolicy::Lru => 0,
        EvictionPolicy::S3Fifo => 1,
    };
    out = postcard::to_extend(&policy, out)?;
    postcard::to_extend(&count, out)
}

/// Encoded size of one entry.
fn entry_len(e: &StoredEntry<'_>, with_standing: bool) -> u64 {
    encoded_len(e.key.len())
        + encoded_len(e.value.len())
        + deadline_len(e.deadline)
        + u64::from(with_standing)
}

/// The keys a restore has read so far, as 64-bit fingerprints (8 bytes a key, reserved without
/// aborting): a key read twice is corruption even when its first copy expired or was evicted
/// while restoring. A fingerprint match is confirmed against the earlier entries' keys, so a
/// collision never rejects a good snapshot.
struct SeenKeys {
    fingerprints: HashTable<u64>,
    hasher: ahash::RandomState,
}

impl SeenKeys {
    fn new(seed: (u64, u64)) -> SeenKeys {
        SeenKeys {
            fingerprints: HashTable::new(),
            hasher: ahash::RandomState::with_seeds(seed.1, seed.0, 0x5851_f42d, 0x4c95_7f2d),
        }
    }

    /// Records `key`; true if an earlier entry of `entries` (the first `read` of them) has it.
    fn seen_before(
        &mut self,
        key: &str,
        entries: &[u8],
        read: u64,
        with_standing: bool,
    ) -> Result<bool, CacheError> {
        let hash = self.hasher.hash_one(key);
        if self.fingerprints.find(hash, |&h| h == hash).is_some() {
            return Ok(earlier_keys(entries, read, with_standing).any(|k| k == key));
        }
        self.fingerprints
            .try_reserve(1, |&h| h)
            .map_err(|_| CacheError::OutOfMemory)?;
        self.fingerprints.insert_unique(hash, hash, |&h| h);
        Ok(false)
    }
}

/// The keys of the first `count` entries of `entries` (already parsed once, so well formed).
fn earlier_keys(entries: &[u8], count: u64, with_standing: bool) -> impl Iterator<Item = &str> {
    let mut rest = entries;
    (0..count).map_while(move |_| {
        let ((key, _, _), tail) =
            postcard::take_from_bytes::<(&str, &[u8], Option<i128>)>(rest).ok()?;
        rest = tail.get(usize::from(with_standing)..)?;
        Some(key)
    })
}

fn truncated(what: &str, e: postcard::Error) -> CacheError {
    CacheError::corrupt(format!("{what}: {e}"))
}

impl<C: Clock> Cache<C> {
    /// Settings and live entries as versioned bytes that [`Cache::restore`] reads.
    pub fn snapshot(&self) -> Vec<u8> {
        match self.try_snapshot() {
            Ok(bytes) => bytes,
            Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<u8>()),
        }
    }

    /// As [`Cache::snapshot`], but `OutOfMemory` instead of aborting if the allocator refuses
    /// the buffer (its exact size is computed first, so it is allocated once).
    pub fn try_snapshot(&self) -> Result<Vec<u8>, CacheError> {
        let now = self.now();
        let with_standing = self.policy() == EvictionPolicy::S3Fifo;
        let live = || {
            self.stored()
                .filter(move |e| e.deadline.is_never() || !e.deadline.is_expired_at(now))
        };
        let (count, body) = live().fold((0u64, 0u64), |(n, b), e| {
            (n + 1, b + entry_len(&e, with_standing))
        });
        let head = prefix(self, count).map_err(|_| CacheError::OutOfMemory)?;
        let total = usize::try_from(head.len() as u64 + body + CHECKSUM_LEN as u64)
            .map_err(|_| CacheError::OutOfMemory)?;
        let mut out = Vec::new();
        out.try_reserve_exact(total)
            .map_err(|_| CacheError::OutOfMemory)?;
        out.extend_from_slice(&head);
        for e in live() {
            out = postcard::to_extend(&(e.key, Bytes(e.value), e.deadline.to_snapshot()), out)
                .map_err(|_| CacheError::OutOfMemory)?;
            if with_standing {
                out.push(e.reads | if e.in_main { IN_MAIN } else { 0 });
            }
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum);
        debug_assert_eq!(out.len(), total);
        Ok(out)
    }

    /// A cache rebuilt from snapshot bytes on `clock`, with its hash keyed by `seed`: settings,
    /// policy, entries in order with absolute deadlines, and under S3-FIFO their queues and read
    /// counters (the ghost set starts empty). A version 1 snapshot restores as LRU. Entries that
    /// expired since are dropped and the limits are applied again (evicting as the policy does). Stats start at zero
    /// and the removal log empty. Truncated, corrupt (a checksum mismatch, a duplicate key) or
    /// newer-version input: `CorruptSnapshot`.
    pub fn restore(bytes: &[u8], clock: C, seed: (u64, u64)) -> Result<Self, CacheError> {
        let (header, rest) =
            postcard::take_from_bytes::<Header>(bytes).map_err(|e| truncated("header", e))?;
        if header.magic != SNAPSHOT_MAGIC {
            return Err(CacheError::corrupt(
                "not a faas-cache snapshot (bad magic bytes)",
            ));
        }
        if header.version == 0 || header.version > SNAPSHOT_VERSION {
            return Err(CacheError::corrupt(format!(
                "unreadable format version {} (this build reads 1 to {SNAPSHOT_VERSION})",
                header.version
            )));
        }
        let rest = if header.version >= 2 {
            verified(bytes, bytes.len() - rest.len())?
        } else {
            rest
        };
        let (settings, mut rest) =
            postcard::take_from_bytes::<Settings>(rest).map_err(|e| truncated("settings", e))?;
        let mut policy = EvictionPolicy::Lru;
        if header.version >= 2 {
            let (tag, tail) =
                postcard::take_from_bytes::<u8>(rest).map_err(|e| truncated("policy", e))?;
            policy = match tag {
                0 => EvictionPolicy::Lru,
                1 => EvictionPolicy::S3Fifo,
                other => {
                    return Err(CacheError::corrupt(format!(
                        "unknown eviction policy {other}"
                    )))
                }
            };
            rest = tail;
        }
        let with_standing = policy == EvictionPolicy::S3Fifo;
        let config = Config {
            default_ttl: settings.default_ttl,
            max_size_bytes: settings.max_size_bytes,
            max_items: settings.max_items,
            removal_log_capacity: settings.removal_log_capacity,
            policy,
        };
        let mut cache = Cache::with_clock_and_seed(config, clock, seed).map_err(|e| match e {
            CacheError::InvalidArgument(m) => CacheError::corrupt(format!("bad settings: {m}")),
            other => other,
        })?;
        let (count, mut rest) =
            postcard::take_from_bytes::<u64>(rest).map_err(|e| truncated("entry count", e))?;
        let now = cache.now();
        let mut seen_main = false;
        let entries = rest;
        let mut seen = SeenKeys::new(seed);
        for i in 0..count {
            let ((key, value, deadline), tail) =
                postcard::take_from_bytes::<(&str, &[u8], Option<i128>)>(rest)
                    .map_err(|e| truncated(&format!("entry {i} of {count}"), e))?;
            rest = tail;
            let placement = if with_standing {
                let (&standing, tail) = rest.split_first().ok_or_else(|| {
                    CacheError::corrupt(format!("entry {i} of {count}: no queue byte"))
                })?;
                rest = tail;
                let (in_main, reads) = (standing & IN_MAIN != 0, standing & !IN_MAIN);
                if reads > MAX_READS || (seen_main && !in_main) {
                    return Err(CacheError::corrupt(format!(
                        "entry {i}: bad queue byte {standing}"
                    )));
                }
                seen_main |= in_main;
                Placement::Restored { in_main, reads }
            } else {
                Placement::New
            };
            let deadline = Deadline::from_snapshot(deadline);
            if seen.seen_before(key, entries, i, with_standing)? {
                return Err(CacheError::corrupt(format!(
                    "entry {i}: duplicate key \"{}\"",
                    crate::error::excerpt(key)
                )));
            }
            if !deadline.is_never() && deadline.is_expired_at(now) {
                continue;
            }
            let (Some(key), Some(value)) = (try_copy_str(key), try_copy(value)) else {
                return Err(CacheError::OutOfMemory);
            };
            match cache.restore_entry(key, value, deadline, placement) {
                Ok(()) | Err(CacheError::DataTooLarge { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if !rest.is_empty() {
            return Err(CacheError::corrupt(format!(
                "{} unexpected bytes after the last entry",
                rest.len()
            )));
        }
        cache.clear_removal_log();
        cache.reset_stats();
        Ok(cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Expiry, ManualClock};

    fn cache(clock: &ManualClock) -> Cache<ManualClock> {
        let config = Config {
            default_ttl: Some(30.0),
            max_items: Some(10),
            removal_log_capacity: 8,
            ..Config::default()
        }
        .with_max_size("64K")
        .unwrap();
        Cache::with_clock_and_seed(config, clock.clone(), (1, 2)).unwrap()
    }

    #[test]
    fn o3_round_trip_keeps_settings_order_and_deadlines() {
        let clock = ManualClock::default();
        let mut c = cache(&clock);
        c.set("a", b"1".to_vec()).unwrap();
        c.set_with_expiry("b", vec![2; 300], Expiry::Never).unwrap();
        c.set_with_expiry("c", b"3".to_vec(), Expiry::Ttl(0.25))
            .unwrap();
        c.get("a");
        let bytes = c.snapshot();
        assert_eq!(&bytes[..4], b"FCDS");
        let mut r = Cache::restore(&bytes, clock.clone(), (3, 4)).unwrap();
        assert_eq!(r.config(), c.config());
        assert_eq!(r.keys().collect::<Vec<_>>(), ["b", "c", "a"]);
        assert_eq!(r.get_ttl("a").unwrap(), Some(30.0));
        assert_eq!(r.get_ttl("b").unwrap(), None);
        assert_eq!(r.get_ttl("c").unwrap(), Some(0.25));
        assert_eq!(r.byte_size(), c.byte_size());
        assert_eq!(r.snapshot(), bytes);
    }

    #[test]
    fn o3_restore_later_drops_what_expired_meanwhile() {
        let clock = ManualClock::default();
        let mut c = cache(&clock);
        c.set_with_expiry("short", b"x".to_vec(), Expiry::Ttl(1.0))
            .unwrap();
        c.set_with_expiry("long", b"y".to_vec(), Expiry::Ttl(100.0))
            .unwrap();
        let bytes = c.snapshot();
        clock.advance_secs(50.0);
        let mut r = Cache::restore(&bytes, clock.clone(), (0, 0)).unwrap();
        assert_eq!(r.keys().collect::<Vec<_>>(), ["long"]);
        assert_eq!(r.get_ttl("long").unwrap(), Some(50.0));
        assert_eq!(r.stats(), crate::Stats::default());
    }

    #[test]
    fn snapshot_leaves_out_expired_entries() {
        let clock = ManualClock::default();
        let mut c = cache(&clock);
        c.set_with_expiry("gone", b"x".to_vec(), Expiry::Ttl(1.0))
            .unwrap();
        clock.advance_secs(2.0);
        let r = Cache::restore(&c.snapshot(), clock.clone(), (0, 0)).unwrap();
        assert_eq!(r.is_expired("gone"), None);
    }

    #[test]
    fn truncated_corrupt_and_future_input_is_rejected() {
        let clock = ManualClock::default();
        let mut c = cache(&clock);
        c.set("key", b"value".to_vec()).unwrap();
        let bytes = c.snapshot();
        for cut in 0..bytes.len() {
            let e = Cache::restore(&bytes[..cut], clock.clone(), (0, 0)).unwrap_err();
            assert!(
                matches!(e, CacheError::CorruptSnapshot(_)),
                "cut {cut}: {e}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(matches!(
            Cache::restore(&extra, clock.clone(), (0, 0)),
            Err(CacheError::CorruptSnapshot(_))
        ));
        let mut future = bytes.clone();
        future[4] = 3;
        let e = Cache::restore(&future, clock.clone(), (0, 0)).unwrap_err();
        assert!(e.to_string().contains("version 3"), "{e}");
        let mut magic = bytes;
        magic[0] = b'X';
        assert!(matches!(
            Cache::restore(&magic, clock, (0, 0)),
            Err(CacheError::CorruptSnapshot(_))
        ));
    }

    #[test]
    fn hostile_counts_and_lengths_allocate_nothing_big() {
        let clock = ManualClock::default();
        let c = cache(&clock);
        let mut bytes = c.snapshot();
        bytes.pop(); // count 0
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(
            Cache::restore(&bytes, clock.clone(), (0, 0)),
            Err(CacheError::CorruptSnapshot(_))
        ));
        assert!(matches!(
            Cache::restore(&[], clock, (0, 0)),
            Err(CacheError::CorruptSnapshot(_))
        ));
    }
}
