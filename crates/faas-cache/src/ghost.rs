//! The S3-FIFO ghost set: keys (as 32-bit fingerprints of their seeded hash, never the keys or
//! values themselves) recently evicted from the small queue, oldest first: a FIFO of at most
//! `limit` keys in which a key inserted again moves to the newest end. Invariants: `table` holds
//! exactly one ring position for every ring slot that is not a tombstone; `live` counts them;
//! after `insert` or `trim(limit)` at most `limit` keys are remembered and the ring (live slots
//! plus tombstones) holds at most `2 * live + SLACK` slots (it is compacted in place, amortized
//! O(1)). Nothing here allocates but `insert`, which only grows with `try_reserve` and otherwise
//! forgets its oldest key, so a refused allocation costs hit ratio, never a trap.
//!
//! Memory: 4 bytes of ring and about 6 bytes of table (4-byte position plus a control byte at
//! 7/8 load) per remembered key, twice that at most while a vector doubles; the accounting's
//! per-entry overhead covers it because the ghost never remembers more keys than the cache holds
//! entries, both queues together (see `accounting`).

use std::collections::VecDeque;

use hashbrown::HashTable;

/// A ring slot whose key left the set (a ghost hit), kept until it reaches the front.
const TOMBSTONE: u32 = 0;

/// Slots the ring may hold beyond twice its live keys before it is compacted.
const SLACK: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct GhostSet {
    /// Fingerprints, oldest first; `TOMBSTONE` where the key was taken out.
    ring: VecDeque<u32>,
    /// Sequence number of `ring[0]` (wrapping); slot `s` is `ring[s - first]`.
    first: u32,
    /// Sequence numbers of the live slots, hashed by their fingerprint.
    table: HashTable<u32>,
    live: u32,
}

/// The fingerprint of a key hash: never `TOMBSTONE`.
fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32).max(1)
}

/// Spreads a fingerprint over 64 bits for the table (which takes its control bits from the top).
fn table_hash(fp: u32) -> u64 {
    u64::from(fp).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl GhostSet {
    /// How many keys it remembers.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn len(&self) -> u32 {
        self.live
    }

    fn at(&self, seq: u32) -> u32 {
        self.ring[seq.wrapping_sub(self.first) as usize]
    }

    /// Forgets the key hashing to `hash`; true if it was remembered (a ghost hit).
    pub(crate) fn take(&mut self, hash: u64) -> bool {
        if self.live == 0 {
            return false;
        }
        let fp = fingerprint(hash);
        let (ring, first) = (&self.ring, self.first);
        let found = self.table.find_entry(table_hash(fp), |&seq| {
            ring[seq.wrapping_sub(first) as usize] == fp
        });
        let Ok(found) = found else {
            return false;
        };
        let (seq, _) = found.remove();
        self.ring[seq.wrapping_sub(self.first) as usize] = TOMBSTONE;
        self.live -= 1;
        true
    }

    /// Remembers the key hashing to `hash` as the newest, then forgets the oldest keys until at
    /// most `limit` are left. Without memory for it, the oldest key makes room or the key is
    /// not remembered.
    pub(crate) fn insert(&mut self, hash: u64, limit: u32) {
        if limit == 0 {
            self.trim(0);
            return;
        }
        let fp = fingerprint(hash);
        // A key already remembered moves to the newest end (its old slot becomes a tombstone).
        self.take(hash);
        self.trim(limit - 1);
        if self.ring.len() == self.ring.capacity() && self.ring.try_reserve(1).is_err() {
            if self.ring.is_empty() {
                return;
            }
            self.pop_front();
        }
        if self.table.len() == self.table.capacity() {
            let (ring, first) = (&self.ring, self.first);
            let grown = self
                .table
                .try_reserve(1, |&seq| table_hash(ring[seq.wrapping_sub(first) as usize]));
            if grown.is_err() {
                return;
            }
        }
        let seq = self.first.wrapping_add(self.ring.len() as u32);
        self.ring.push_back(fp);
        let (ring, first) = (&self.ring, self.first);
        self.table.insert_unique(table_hash(fp), seq, |&s| {
            table_hash(ring[s.wrapping_sub(first) as usize])
        });
        self.live += 1;
    }

    /// Forgets the oldest keys until at most `limit` are left, and compacts a ring that is
    /// mostly tombstones. Never allocates.
    pub(crate) fn trim(&mut self, limit: u32) {
        while self.live > limit {
            self.pop_front();
        }
        if self.ring.len() > 2 * self.live as usize + SLACK {
            self.compact_ring();
        }
    }

    /// Drops every tombstone, in place, and renumbers the table (whose capacity already holds
    /// every live slot, so nothing allocates). O(ring), paid for by the tombstones it drops.
    fn compact_ring(&mut self) {
        self.ring.retain(|&fp| fp != TOMBSTONE);
        self.first = 0;
        self.table.clear();
        let ring = &self.ring;
        for (seq, &fp) in ring.iter().enumerate() {
            self.table.insert_unique(table_hash(fp), seq as u32, |&s| {
                table_hash(ring[s as usize])
            });
        }
    }

    fn pop_front(&mut self) {
        let Some(fp) = self.ring.pop_front() else {
            return;
        };
        let seq = self.first;
        self.first = self.first.wrapping_add(1);
        if fp != TOMBSTONE {
            if let Ok(found) = self.table.find_entry(table_hash(fp), |&s| s == seq) {
                found.remove();
            }
            self.live -= 1;
        }
    }

    /// Forgets everything and gives the memory back.
    pub(crate) fn clear(&mut self) {
        *self = GhostSet::default();
    }

    /// Checks the invariants; for tests. O(n).
    pub(crate) fn check(&self) -> Result<(), String> {
        let live_slots = self.ring.iter().filter(|&&fp| fp != TOMBSTONE).count();
        if live_slots != self.live as usize || self.table.len() != live_slots {
            return Err(format!(
                "ghost: {} live slots, live {}, table {}",
                live_slots,
                self.live,
                self.table.len()
            ));
        }
        for &seq in self.table.iter() {
            let offset = seq.wrapping_sub(self.first) as usize;
            if offset >= self.ring.len() || self.at(seq) == TOMBSTONE {
                return Err(format!("ghost: table points at dead slot {seq}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u64) -> u64 {
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (n << 40)
    }

    #[test]
    fn remembers_up_to_the_limit_oldest_forgotten_first() {
        let mut g = GhostSet::default();
        for n in 0..10 {
            g.insert(h(n), 4);
            g.check().unwrap();
        }
        assert_eq!(g.len(), 4);
        assert!((0..6).all(|n| !g.take(h(n))));
        assert!(g.take(h(7)), "a hit forgets the key");
        assert!(!g.take(h(7)));
        assert_eq!(g.len(), 3);
        g.check().unwrap();
        g.trim(1);
        assert_eq!(g.len(), 1);
        assert!(g.take(h(9)), "the newest key is kept");
        g.check().unwrap();
    }

    #[test]
    fn reinserting_a_key_moves_it_to_the_newest_end_and_tombstones_stay_bounded() {
        let mut g = GhostSet::default();
        g.insert(h(1), 2);
        g.insert(h(2), 2);
        g.insert(h(1), 2);
        g.insert(h(3), 2);
        assert!(!g.take(h(2)), "2 was the oldest after 1 moved");
        assert!(g.take(h(1)) && g.take(h(3)));
        g.insert(h(1 << 40), 8);
        for n in 0..10_000 {
            g.insert(h(n), 8);
            assert!(g.take(h(n)));
            g.trim(8);
            assert!(g.ring.len() <= 2 + SLACK, "{}", g.ring.len());
        }
        g.check().unwrap();
        assert!(g.take(h(1 << 40)), "compaction keeps the live keys");
        g.insert(h(5), 0);
        assert_eq!(g.len(), 0);
        g.clear();
        assert_eq!(g.ring.capacity(), 0);
    }
}
