//! The invariant checker behind `Cache::check_invariants`, for tests and fuzzing. Invariant: it
//! only reads (O(n), allocating only for its walk and its message), and `Ok` means every rule
//! stated in `engine` holds: the slab's list, the key index and the expiry heap describe the same
//! entries, `entries_bytes` is their accounted total, S3-FIFO state exists only under S3-FIFO with
//! the ghost set remembering no more keys than both queues hold entries, and the cache fits its
//! limits; otherwise `Err` names the first rule found broken. Builds only on the engine's state
//! and the structures' own checks.

use super::engine::Inner;
use crate::accounting::entry_bytes;

impl Inner {
    pub(super) fn check(&self) -> Result<(), String> {
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
            } else if self.heap.holds(&self.slab, idx) {
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
        self.log.check()?;
        match &self.queues {
            Some(q) => {
                q.check(&self.slab)?;
                if self.ghost.len() > q.len() || q.len() != self.slab.len() {
                    return Err(format!(
                        "ghost remembers {} keys, the queues hold {} entries (slab {n})",
                        self.ghost.len(),
                        q.len()
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
