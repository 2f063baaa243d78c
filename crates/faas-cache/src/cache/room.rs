//! Making room and purging expired entries: the eviction loops (LRU order or S3-FIFO's queues),
//! the victims given up when the allocator refuses memory, the purge of expired entries (all of
//! them by deadline, or one found on access). Invariants: expired entries go before live ones;
//! `keep` (the slot being written) is never evicted; after `make_room(b, n)` `b` more bytes and
//! `n` more entries fit unless nothing evictable is left; a key evicted from S3-FIFO's small queue
//! is remembered by the ghost set, which keeps at most as many keys as the cache holds entries
//! (both queues together, the oldest key forgotten first); nothing here reads the clock more than
//! once per call (`LazyNow`), and `evict_one_for_memory` never reads it. Every entry leaves
//! through the removal path (`remove`); the write path calls in here, never the other way.

use super::engine::Inner;
use crate::error::CacheError;
use crate::removal::RemovalCause;
use crate::time::{LazyNow, Time};

/// What a write must be able to add without allocating.
#[derive(Clone, Copy)]
pub(super) enum ReserveFor {
    Heap,
    Entry,
    EntryWithDeadline,
}

impl Inner {
    /// The slot of a live key; an expired one is removed (as expired) and reads as absent.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(super) fn live_or_purge(&mut self, key: &str, now: &mut LazyNow) -> Option<u32> {
        let hash = self.index.hash(key);
        self.live_or_purge_hashed(key, hash, now)
    }

    /// `live_or_purge` with the key's hash already computed (a write hashes once).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(super) fn live_or_purge_hashed(
        &mut self,
        key: &str,
        hash: u64,
        now: &mut LazyNow,
    ) -> Option<u32> {
        let idx = self.index.find_hashed(&self.slab, key, hash)?;
        if self.is_expired(idx, now) {
            self.discard(idx, RemovalCause::Expired);
            return None;
        }
        Some(idx)
    }

    /// Makes sure the structures can take what `what` needs without allocating, evicting entries
    /// (treating refused memory as a full cache) until they can. `OutOfMemory` if nothing is left
    /// to evict.
    pub(super) fn reserve(
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
            self.give_up_one_for_memory(keep, now)?;
        }
    }

    /// `copy(self)` until the allocator grants it, giving up one entry (never `keep`) for memory
    /// after each refusal; `OutOfMemory` when nothing is left to give up.
    pub(super) fn copy_evicting<T>(
        &mut self,
        keep: Option<u32>,
        now: &mut LazyNow,
        mut copy: impl FnMut(&Self) -> Option<T>,
    ) -> Result<T, CacheError> {
        loop {
            if let Some(copied) = copy(self) {
                return Ok(copied);
            }
            self.give_up_one_for_memory(keep, now)?;
        }
    }

    /// Removes [`Inner::memory_victim`] for memory; `OutOfMemory` if there is none.
    fn give_up_one_for_memory(
        &mut self,
        keep: Option<u32>,
        now: &mut LazyNow,
    ) -> Result<(), CacheError> {
        let victim = self
            .memory_victim(keep, now)
            .ok_or(CacheError::OutOfMemory)?;
        let cause = self.cause_for_memory(victim, now);
        self.discard(victim, cause);
        Ok(())
    }

    pub(super) fn cause_for_memory(&self, victim: u32, now: &mut LazyNow) -> RemovalCause {
        if self.is_expired(victim, now) {
            RemovalCause::Expired
        } else {
            RemovalCause::EvictedSize
        }
    }

    /// The entry to give up for memory: the earliest-expiring one if expired, else the policy's
    /// next victim (never `keep`).
    pub(super) fn memory_victim(&mut self, keep: Option<u32>, now: &mut LazyNow) -> Option<u32> {
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
    pub(super) fn evict_one_for_memory(&mut self) -> bool {
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

    /// Evicts until `extra_bytes` more bytes and `extra_items` more entries fit: all expired
    /// entries first, then least recently used ones (never `keep`).
    pub(super) fn make_room(
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
            // The ghost set keeps at most as many keys as both queues hold entries (none in an
            // empty cache), forgetting its oldest first.
            if let (true, Some(q)) = (from_small, &self.queues) {
                self.ghost.insert(hash, q.len());
            }
        }
    }

    /// Removes expired entries, earliest deadline first; returns how many.
    pub(super) fn purge_expired(&mut self, now: Time) -> u32 {
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
}
