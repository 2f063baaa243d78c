//! The engine's state: everything a cache holds but its clock ([`Inner`]), and what every part of
//! the engine reads or does to the structures without removing anything: the limits, the expiry
//! test, a hit (`touch`), releasing the structures and compaction. Invariants: the slab, the key
//! index and the expiry heap describe the same entries; `entries_bytes` is the sum of their
//! accounted sizes; `queues` is `Some` exactly under S3-FIFO, and the ghost set (empty under LRU)
//! never remembers more keys than both queues hold entries. Nothing here calls another part of the
//! engine: the write path, making room and removal build on this file, never the other way.

use crate::accounting::cache_overhead;
use crate::expiry_heap::ExpiryHeap;
use crate::ghost::GhostSet;
use crate::index::KeyIndex;
use crate::queues::{Limits, Queues};
use crate::removal::{Removal, RemovalLog};
use crate::slab::{LruSlab, NIL};
use crate::stats::Stats;
use crate::time::LazyNow;

/// A callback that sees every removal as it happens (after the entry is gone). `Send`, so that
/// a cache on a `Send` clock is `Send` too.
pub type RemovalListener = Box<dyn FnMut(&Removal) + Send>;

/// Everything but the clock, so that a call can hold the clock and mutate the rest.
pub(super) struct Inner {
    pub(super) slab: LruSlab,
    pub(super) index: KeyIndex,
    pub(super) heap: ExpiryHeap,
    pub(super) entries_bytes: u64,
    pub(super) default_ttl: Option<f64>,
    pub(super) default_ttl_nanos: Option<i128>,
    pub(super) max_bytes: Option<u64>,
    pub(super) max_items: Option<u32>,
    pub(super) log: RemovalLog,
    pub(super) listener: Option<RemovalListener>,
    pub(super) stats: Stats,
    /// S3-FIFO's queues over the slab's list; `None` under LRU.
    pub(super) queues: Option<Queues>,
    /// S3-FIFO's ghost set; always empty under LRU.
    pub(super) ghost: GhostSet,
}

impl Inner {
    pub(super) fn available_bytes(&self) -> Option<u64> {
        self.max_bytes.map(|m| m - cache_overhead(Some(m)))
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(super) fn is_expired(&self, idx: u32, now: &mut LazyNow) -> bool {
        let d = self.slab.entry(idx).deadline;
        !d.is_never() && d.is_expired_at(now.get())
    }

    /// A hit on slot `idx`: under LRU it moves to the MRU end, under S3-FIFO its counter goes up.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(super) fn touch(&mut self, idx: u32) {
        match self.queues {
            None => self.slab.move_to_back(idx),
            Some(_) => Queues::read(&mut self.slab, idx),
        }
    }

    pub(super) fn fits(&self, extra_bytes: u64, extra_items: u32) -> bool {
        let bytes_ok = self
            .available_bytes()
            .is_none_or(|a| self.entries_bytes.saturating_add(extra_bytes) <= a);
        bytes_ok && self.items_fit(extra_items)
    }

    pub(super) fn items_fit(&self, extra_items: u32) -> bool {
        self.max_items
            .is_none_or(|m| self.slab.len() as u64 + extra_items as u64 <= m as u64)
    }

    /// What S3-FIFO's small queue aims at.
    pub(super) fn queue_limits(&self) -> Limits {
        Limits {
            bytes: self.available_bytes(),
            items: self.max_items,
        }
    }

    /// Rebuilds the structures at the size of the live entries when most slots are vacant (see
    /// `compact`). Call only between operations: it renumbers slots.
    pub(super) fn maybe_compact(&mut self) {
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
    pub(super) fn release_structures(&mut self) {
        self.slab = LruSlab::new();
        self.index.clear();
        self.heap.clear();
        self.ghost.clear();
        if let Some(q) = &mut self.queues {
            *q = Queues::default();
        }
    }
}
