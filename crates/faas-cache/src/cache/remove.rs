//! The removal path: taking an entry out of every structure and reporting it (the removal log's
//! only feed). Invariants: a slot leaves the queues, the key index, the expiry heap and the slab
//! together, and `entries_bytes` drops by exactly its accounted size; every terminal removal is
//! counted once in the stats by its cause and recorded once (listener first, panics caught, then
//! the log); a record that cannot be copied without aborting is counted as dropped instead. Builds
//! only on the engine's state (`engine`); the write path and making room call into it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::engine::Inner;
use crate::accounting::entry_bytes;
use crate::fallible::{try_copy, try_copy_str};
use crate::removal::{Removal, RemovalCause};
use crate::slab::{Entry, LruSlab};

impl Inner {
    /// Detaches a slot from every structure and updates bytes and stats; the caller reports it.
    fn take(&mut self, idx: u32, cause: RemovalCause) -> Entry {
        let hash = self.index.hash(&self.slab.entry(idx).key);
        self.take_hashed(idx, cause, hash)
    }

    /// `take` for a slot whose key hashes to `hash` (computed once by the caller).
    fn take_hashed(&mut self, idx: u32, cause: RemovalCause, hash: u64) -> Entry {
        if let Some(q) = &mut self.queues {
            q.detach(&self.slab, idx);
            // One entry fewer: the ghost set forgets its oldest key if it is now over its bound.
            if self.ghost.len() > q.len() {
                self.ghost.trim(q.len());
            }
        }
        self.index.remove_hashed(idx, hash);
        if self.heap.holds(&self.slab, idx) {
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
    pub(super) fn discard(&mut self, idx: u32, cause: RemovalCause) {
        let hash = self.index.hash(&self.slab.entry(idx).key);
        self.discard_hashed(idx, cause, hash);
    }

    /// `discard` for a slot whose key hashes to `hash`.
    pub(super) fn discard_hashed(&mut self, idx: u32, cause: RemovalCause, hash: u64) {
        let entry = self.take_hashed(idx, cause, hash);
        self.record(Removal {
            key: entry.key.into_string(),
            value: entry.value.into_vec(),
            cause,
        });
    }

    /// Removes a slot, reports a copy and returns the key and value to the caller.
    pub(super) fn take_reporting(&mut self, idx: u32, cause: RemovalCause) -> (String, Vec<u8>) {
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
    pub(super) fn wants_records(&self) -> bool {
        self.listener.is_some() || self.log.capacity() > 0
    }

    /// Hands a removal to the listener (panics caught) and then to the log.
    pub(super) fn record(&mut self, removal: Removal) {
        if let Some(listener) = self.listener.as_mut() {
            if catch_unwind(AssertUnwindSafe(|| listener(&removal))).is_err() {
                self.stats.listener_panics += 1;
            }
        }
        self.stats.removals_dropped += self.log.push(removal);
    }

    /// Removes every entry, each reported as `Cleared`.
    pub(super) fn clear(&mut self) {
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
}
