//! Removal events and the bounded removal log. Invariant: the log never holds more than its
//! capacity; when full, the oldest record makes way for the newest and is counted as dropped; a
//! record that cannot be stored (capacity 0, or memory refused) is counted as dropped, never lost
//! silently.

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

/// The newest `capacity` removals, oldest first.
#[derive(Debug, Default)]
pub(crate) struct RemovalLog {
    records: VecDeque<Removal>,
    capacity: u32,
}

impl RemovalLog {
    pub(crate) fn new(capacity: u32) -> Self {
        RemovalLog {
            records: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Stores the record; returns how many records were dropped to do so (0 or 1). With
    /// capacity 0 nothing is kept and nothing counts as dropped.
    pub(crate) fn push(&mut self, record: Removal) -> u64 {
        if self.capacity == 0 {
            return 0;
        }
        let mut dropped = 0;
        if self.records.len() >= self.capacity as usize {
            self.records.pop_front();
            dropped += 1;
        } else if self.records.len() == self.records.capacity()
            && self.records.try_reserve(1).is_err()
        {
            // Memory refused: make way by dropping the oldest, or drop this one.
            if self.records.pop_front().is_none() {
                return 1;
            }
            dropped += 1;
        }
        self.records.push_back(record);
        dropped
    }

    /// Takes up to `max` records, oldest first.
    pub(crate) fn drain(&mut self, max: u32) -> Vec<Removal> {
        let mut n = self.records.len().min(max as usize);
        let mut out = Vec::new();
        while n > 0 && out.try_reserve_exact(n).is_err() {
            n /= 2;
        }
        out.extend(self.records.drain(..n));
        out
    }

    /// Drops every record.
    pub(crate) fn clear(&mut self) {
        self.records = VecDeque::new();
    }

    /// Drops the oldest record to free memory; false if the log is empty.
    pub(crate) fn drop_oldest(&mut self) -> bool {
        self.records.pop_front().is_some()
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
    fn keeps_the_newest_and_counts_the_dropped() {
        let mut log = RemovalLog::new(2);
        assert_eq!(log.push(rec("a")), 0);
        assert_eq!(log.push(rec("b")), 0);
        assert_eq!(log.push(rec("c")), 1);
        let keys: Vec<_> = log.drain(10).into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["b", "c"]);
        let mut none = RemovalLog::new(0);
        assert_eq!(none.push(rec("a")), 0);
        assert_eq!(none.len(), 0);
    }

    #[test]
    fn drain_takes_oldest_first_up_to_max() {
        let mut log = RemovalLog::new(10);
        for k in ["a", "b", "c"] {
            log.push(rec(k));
        }
        assert_eq!(log.drain(2).len(), 2);
        assert_eq!(log.drain(0).len(), 0);
        assert_eq!(log.drain(5)[0].key, "c");
    }
}
