//! The write path: storing a new entry, overwriting a live one and changing a deadline.
//! Invariants: a bad TTL or expiry time and an entry larger than the whole budget are refused
//! before anything is touched; a write refused memory (`OutOfMemory`) changes nothing but the
//! removals made on the way; a key is hashed once per write; room is made and the
//! structures' growth reserved before an entry is linked in, so linking never grows them;
//! overwriting a live key reports the old value as `Replaced` and never evicts for the item
//! limit; an entry is in the expiry heap exactly when its deadline is finite. Builds on making
//! room (`room`), removal (`remove`) and the engine's state (`engine`); only the facade calls in.

use super::engine::Inner;
use super::room::ReserveFor;
use crate::accounting::entry_bytes;
use crate::error::CacheError;
use crate::fallible::try_copy_str;
use crate::removal::{Removal, RemovalCause};
use crate::slab::Entry;
use crate::time::{secs_to_nanos, validate_ttl, Deadline, Expiry, LazyNow};

/// Where a stored entry goes: by the policy's rule for a new key, or back where a snapshot had it.
#[derive(Clone, Copy)]
pub(crate) enum Placement {
    New,
    Restored { in_main: bool, reads: u8 },
}

/// The deadline for an absolute expiry time in epoch seconds.
pub(super) fn deadline_at(epoch_seconds: f64) -> Result<Deadline, CacheError> {
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
    pub(super) fn check_fits_alone(
        &self,
        key_len: usize,
        value_len: usize,
    ) -> Result<u64, CacheError> {
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
    pub(super) fn write(
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

    fn replace(
        &mut self,
        idx: u32,
        value: Vec<u8>,
        deadline: Deadline,
        size: u64,
        now: &mut LazyNow,
    ) -> Result<u32, CacheError> {
        // Reserve first: a refusal fails the write with only evictions done (not a reorder).
        if !deadline.is_never() && !self.heap.holds(&self.slab, idx) {
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

    /// Gives slot `idx` a new deadline (`NEVER` takes it out of the expiry heap).
    pub(super) fn set_deadline(
        &mut self,
        idx: u32,
        deadline: Deadline,
        now: &mut LazyNow,
    ) -> Result<(), CacheError> {
        if !deadline.is_never() && !self.heap.holds(&self.slab, idx) {
            // If the expiry index cannot grow, give up memory like a full cache, never this key.
            self.reserve(ReserveFor::Heap, Some(idx), now)?;
        }
        self.slab.entry_mut(idx).deadline = deadline;
        self.heap.update(&mut self.slab, idx);
        Ok(())
    }
}
