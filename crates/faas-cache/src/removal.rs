//! Removal events and the bounded removal log. Invariants: the log never holds more records than
//! its capacity, nor (when the cache has a byte limit) more bytes of keys and values together than
//! that limit (`bytes` is their exact sum); past either bound the oldest records make way for the
//! newest and are counted as dropped; a record that cannot be stored (larger than the whole byte
//! bound, or memory refused) is counted as dropped, never lost silently; with capacity 0 nothing is
//! kept or counted. Every operation is O(1) amortised (a record is dropped at most once), never
//! panics and only grows with `try_reserve`.

use std::collections::VecDeque;

/// Why an entry left the cache (mirrors the WIT `removal-cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemovalCause {
    /// `delete` / `delete_many`.
    Deleted,
    /// `pop` / `pop_item`.
    Popped,
    /// `clear`.
    Cleared,
    /// Evicted, least recently used first, for the byte budget (or because memory ran out).
    EvictedSize,
    /// Evicted, least recently used first, for the item limit.
    EvictedCount,
    /// Its expiry time passed.
    Expired,
    /// Overwritten by a write of the same key (`value` is the old value). Not terminal.
    Replaced,
}

impl RemovalCause {
    /// Whether the key left the cache (everything but `Replaced`).
    pub fn is_terminal(self) -> bool {
        self != RemovalCause::Replaced
    }
}

/// One entry that left the cache (or, for `Replaced`, one value that was overwritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub key: String,
    pub value: Vec<u8>,
    pub cause: RemovalCause,
}

/// The bytes a record holds outside the cache's budget: its key and value.
fn record_bytes(r: &Removal) -> u64 {
    r.key.len() as u64 + r.value.len() as u64
}

/// The newest removals, oldest first: at most `capacity` of them, holding at most `max_bytes` of
/// keys and values together.
#[derive(Debug, Default)]
pub(crate) struct RemovalLog {
    records: VecDeque<Removal>,
    capacity: u32,
    /// The byte bound: the cache's byte limit; `None`: no byte bound.
    max_bytes: Option<u64>,
    /// The sum of [`record_bytes`] over `records`.
    bytes: u64,
}

impl RemovalLog {
    pub(crate) fn new(capacity: u32, max_bytes: Option<u64>) -> Self {
        RemovalLog {
            records: VecDeque::new(),
            capacity,
            max_bytes,
            bytes: 0,
        }
    }

    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The bytes of keys and values the records hold together.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether `extra` more bytes of records fit the byte bound.
    fn fits(&self, extra: u64) -> bool {
        self.max_bytes
            .is_none_or(|max| self.bytes.saturating_add(extra) <= max)
    }

    /// Drops the oldest record; false if the log is empty.
    fn pop_oldest(&mut self) -> bool {
        match self.records.pop_front() {
            Some(r) => {
                self.bytes -= record_bytes(&r);
                true
            }
            None => false,
        }
    }

    /// Stores the record; returns how many records were dropped to do so, this one included if
    /// it could not be kept (larger than the whole byte bound, or memory refused with nothing to
    /// give up). With capacity 0 nothing is kept and nothing counts as dropped.
    pub(crate) fn push(&mut self, record: Removal) -> u64 {
        if self.capacity == 0 {
            return 0;
        }
        let size = record_bytes(&record);
        if self.max_bytes.is_some_and(|max| size > max) {
            // It could only be kept alone, and not even then: keep the older records instead.
            return 1;
        }
        let mut dropped = 0;
        while self.records.len() >= self.capacity as usize || !self.fits(size) {
            if !self.pop_oldest() {
                break;
            }
            dropped += 1;
        }
        if self.records.len() == self.records.capacity() && self.records.try_reserve(1).is_err() {
            // Memory refused: make way by dropping the oldest, or drop this one.
            if !self.pop_oldest() {
                return dropped + 1;
            }
            dropped += 1;
        }
        self.records.push_back(record);
        self.bytes += size;
        dropped
    }

    /// Follows the cache's new byte limit (`None`: no byte bound), dropping the oldest records
    /// until the rest fit; returns how many were dropped.
    pub(crate) fn set_byte_limit(&mut self, max_bytes: Option<u64>) -> u64 {
        self.max_bytes = max_bytes;
        let mut dropped = 0;
        while !self.fits(0) && self.pop_oldest() {
            dropped += 1;
        }
        dropped
    }

    /// Takes up to `max` records, oldest first.
    pub(crate) fn drain(&mut self, max: u32) -> Vec<Removal> {
        self.drain_within(max, u64::MAX)
    }

    /// The oldest records, at most `max` of them and, beyond the first, at most `max_bytes` of
    /// keys and values in all.
    pub(crate) fn drain_within(&mut self, max: u32, max_bytes: u64) -> Vec<Removal> {
        let mut n = 0;
        let mut bytes = 0u64;
        for r in self.records.iter().take(max as usize) {
            bytes = bytes.saturating_add(record_bytes(r));
            if n > 0 && bytes > max_bytes {
                break;
            }
            n += 1;
        }
        let mut out = Vec::new();
        while n > 0 && out.try_reserve_exact(n).is_err() {
            n /= 2;
        }
        for r in self.records.drain(..n) {
            self.bytes -= record_bytes(&r);
            out.push(r);
        }
        out
    }

    /// Drops every record.
    pub(crate) fn clear(&mut self) {
        self.records = VecDeque::new();
        self.bytes = 0;
    }

    /// Drops the oldest record to free memory; false if the log is empty.
    pub(crate) fn drop_oldest(&mut self) -> bool {
        self.pop_oldest()
    }

    /// Checks the invariants; for tests. O(n).
    pub(crate) fn check(&self) -> Result<(), String> {
        let sum: u64 = self.records.iter().map(record_bytes).sum();
        if sum != self.bytes {
            return Err(format!(
                "removal log: records hold {sum} bytes, count says {}",
                self.bytes
            ));
        }
        if self.records.len() > self.capacity as usize || !self.fits(0) {
            return Err(format!(
                "removal log: {} records of {} bytes, bounds {} records, {:?} bytes",
                self.records.len(),
                self.bytes,
                self.capacity,
                self.max_bytes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(k: &str) -> Removal {
        Removal {
            key: k.into(),
            value: vec![],
            cause: RemovalCause::Deleted,
        }
    }

    #[test]
    fn a_drain_within_bytes_stops_early_but_always_takes_one() {
        let mut log = RemovalLog::new(10, None);
        for k in ["a", "b", "c"] {
            log.push(Removal {
                value: vec![0; 100],
                ..rec(k)
            });
        }
        let one = record_bytes(&log.records[0]);
        let keys = |v: Vec<Removal>| v.into_iter().map(|r| r.key).collect::<Vec<_>>();
        assert_eq!(
            keys(log.drain_within(10, 1)),
            ["a"],
            "the first even past the bound"
        );
        assert_eq!(keys(log.drain_within(10, 2 * one)), ["b", "c"]);
        assert_eq!(log.len(), 0);
        assert_eq!(log.bytes(), 0);
    }

    #[test]
    fn keeps_the_newest_and_counts_the_dropped() {
        let mut log = RemovalLog::new(2, None);
        assert_eq!(log.push(rec("a")), 0);
        assert_eq!(log.push(rec("b")), 0);
        assert_eq!(log.push(rec("c")), 1);
        let keys: Vec<_> = log.drain(10).into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["b", "c"]);
        let mut none = RemovalLog::new(0, Some(10));
        assert_eq!(none.push(rec("a")), 0);
        assert_eq!(none.len(), 0);
    }

    #[test]
    fn drain_takes_oldest_first_up_to_max() {
        let mut log = RemovalLog::new(10, None);
        for k in ["a", "b", "c"] {
            log.push(rec(k));
        }
        assert_eq!(log.drain(2).len(), 2);
        assert_eq!(log.drain(0).len(), 0);
        assert_eq!(log.drain(5)[0].key, "c");
    }

    fn sized(k: &str, value_len: usize) -> Removal {
        Removal {
            key: k.into(),
            value: vec![7; value_len],
            cause: RemovalCause::EvictedSize,
        }
    }

    fn keys(log: &RemovalLog) -> Vec<&str> {
        log.records.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn keys_and_values_stay_within_the_byte_bound_oldest_dropped_first() {
        let mut log = RemovalLog::new(100, Some(100));
        assert_eq!(log.push(sized("a", 39)), 0);
        assert_eq!(log.push(sized("b", 39)), 0);
        assert_eq!(log.bytes(), 80);
        // 80 + 30 > 100: "a" makes way.
        assert_eq!(log.push(sized("c", 29)), 1);
        assert_eq!(keys(&log), ["b", "c"]);
        assert_eq!(log.bytes(), 70);
        // Exactly at the bound is within it.
        assert_eq!(log.push(sized("d", 29)), 0);
        assert_eq!(log.bytes(), 100);
        log.check().unwrap();
        // A record needing everything drops every older one.
        assert_eq!(log.push(sized("e", 99)), 3);
        assert_eq!(keys(&log), ["e"]);
        assert_eq!(log.bytes(), 100);
        log.check().unwrap();
    }

    #[test]
    fn a_record_larger_than_the_whole_bound_is_dropped_and_the_older_ones_kept() {
        let mut log = RemovalLog::new(10, Some(100));
        log.push(sized("a", 9));
        assert_eq!(
            log.push(sized("big", 98)),
            1,
            "101 bytes > 100: dropped itself"
        );
        assert_eq!(keys(&log), ["a"]);
        assert_eq!(log.bytes(), 10);
        log.check().unwrap();
        // Without a byte bound only the count bounds the log.
        let mut unbounded = RemovalLog::new(2, None);
        assert_eq!(unbounded.push(sized("big", 1 << 20)), 0);
        assert_eq!(unbounded.bytes(), (1 << 20) + 3);
    }

    #[test]
    fn the_count_and_the_byte_bound_both_hold() {
        let mut log = RemovalLog::new(3, Some(1000));
        let mut dropped = 0;
        for n in 0..100usize {
            dropped += log.push(sized("k", n % 7 * 100));
            assert!(
                log.len() <= 3 && log.bytes() <= 1000,
                "{} {}",
                log.len(),
                log.bytes()
            );
            log.check().unwrap();
        }
        let kept = log.drain(u32::MAX).len() as u64;
        assert_eq!(kept + dropped, 100, "every record is kept or counted");
        assert_eq!(log.bytes(), 0);
    }

    #[test]
    fn a_new_byte_limit_drops_the_oldest_records_until_the_rest_fit() {
        let mut log = RemovalLog::new(10, None);
        for k in ["a", "b", "c", "d"] {
            log.push(sized(k, 49));
        }
        assert_eq!(log.bytes(), 200);
        assert_eq!(log.set_byte_limit(Some(120)), 2);
        assert_eq!(keys(&log), ["c", "d"]);
        assert_eq!(log.bytes(), 100);
        assert_eq!(log.set_byte_limit(Some(100)), 0, "exactly at the bound");
        assert_eq!(
            log.set_byte_limit(Some(10)),
            2,
            "each record alone is too large"
        );
        assert_eq!(log.bytes(), 0);
        assert_eq!(log.set_byte_limit(None), 0);
        assert_eq!(log.push(sized("e", 1000)), 0, "no byte bound any more");
        log.check().unwrap();
    }

    #[test]
    fn drain_clear_and_drop_oldest_give_the_bytes_back() {
        let mut log = RemovalLog::new(10, Some(100));
        for k in ["a", "b", "c"] {
            log.push(sized(k, 19));
        }
        assert_eq!(log.drain(1)[0].key, "a");
        assert_eq!(log.bytes(), 40);
        assert!(log.drop_oldest());
        assert_eq!(log.bytes(), 20);
        log.check().unwrap();
        log.clear();
        assert_eq!(log.bytes(), 0);
        assert!(!log.drop_oldest());
        // Room freed by draining is usable again.
        assert_eq!(log.push(sized("d", 99)), 0);
        log.check().unwrap();
    }
}
