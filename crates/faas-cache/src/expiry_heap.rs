//! The expiry index: a binary min-heap of slot indices ordered by deadline, so the next entry to
//! expire is found in O(1) and any entry's deadline is added, changed or removed in O(log n).
//! Invariants: it holds exactly the entries whose deadline is not `NEVER`; for each held slot `s`,
//! `heap[slab.entry(s).heap_pos] == s`; every parent's deadline is <= its children's.

use crate::slab::{Entry, LruSlab, NIL};
use crate::time::Deadline;

#[derive(Debug, Default)]
pub(crate) struct ExpiryHeap {
    heap: Vec<u32>,
}

impl ExpiryHeap {
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Makes sure one more slot can be pushed without allocating; false if the allocator refused.
    pub(crate) fn try_reserve_one(&mut self) -> bool {
        self.heap.len() < self.heap.capacity() || self.heap.try_reserve(1).is_ok()
    }

    /// A heap of `len` positions to be filled with `put` (compaction keeps every position);
    /// `None` if the allocator refused.
    pub(crate) fn try_placeholders(len: usize) -> Option<ExpiryHeap> {
        let mut heap = Vec::new();
        heap.try_reserve_exact(len).ok()?;
        heap.resize(len, NIL);
        Some(ExpiryHeap { heap })
    }

    /// Sets position `pos` to `slot` (whose `heap_pos` is already `pos`).
    pub(crate) fn put(&mut self, pos: usize, slot: u32) {
        self.heap[pos] = slot;
    }

    /// Whether `slot` is in the heap (it is exactly when its deadline is finite).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn holds(&self, slab: &LruSlab, slot: u32) -> bool {
        Self::holds_entry(slab.entry(slot))
    }

    /// `holds` for an entry itself, also one already taken out of the slab (its `heap_pos` still
    /// names its position in this heap).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn holds_entry(entry: &Entry) -> bool {
        entry.heap_pos != NIL
    }

    /// The slot with the earliest deadline.
    pub(crate) fn peek(&self) -> Option<u32> {
        self.heap.first().copied()
    }

    fn deadline(slab: &LruSlab, slot: u32) -> Deadline {
        slab.entry(slot).deadline
    }

    fn place(&mut self, slab: &mut LruSlab, pos: usize, slot: u32) {
        self.heap[pos] = slot;
        slab.entry_mut(slot).heap_pos = pos as u32;
    }

    /// Adds a slot whose deadline is finite.
    pub(crate) fn push(&mut self, slab: &mut LruSlab, slot: u32) {
        debug_assert!(!Self::deadline(slab, slot).is_never());
        self.heap.push(slot);
        let pos = self.heap.len() - 1;
        slab.entry_mut(slot).heap_pos = pos as u32;
        self.sift_up(slab, pos);
    }

    /// Removes a slot that is in the heap and marks it as not held.
    pub(crate) fn remove(&mut self, slab: &mut LruSlab, slot: u32) {
        let pos = slab.entry(slot).heap_pos as usize;
        slab.entry_mut(slot).heap_pos = NIL;
        let last = self.heap.len() - 1;
        if pos != last {
            let moved = self.heap[last];
            self.heap.pop();
            self.place(slab, pos, moved);
            self.restore(slab, pos);
        } else {
            self.heap.pop();
        }
    }

    /// Re-establishes order after the deadline of the slot at `pos` changed either way.
    pub(crate) fn restore(&mut self, slab: &mut LruSlab, pos: usize) {
        let pos = self.sift_up(slab, pos);
        self.sift_down(slab, pos);
    }

    /// Keeps a slot's heap membership in line with its (new) deadline.
    pub(crate) fn update(&mut self, slab: &mut LruSlab, slot: u32) {
        let held = self.holds(slab, slot);
        let never = Self::deadline(slab, slot).is_never();
        match (held, never) {
            (true, true) => self.remove(slab, slot),
            (true, false) => {
                let pos = slab.entry(slot).heap_pos as usize;
                self.restore(slab, pos);
            }
            (false, false) => self.push(slab, slot),
            (false, true) => {}
        }
    }

    fn sift_up(&mut self, slab: &mut LruSlab, mut pos: usize) -> usize {
        let slot = self.heap[pos];
        let d = Self::deadline(slab, slot);
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let p = self.heap[parent];
            if Self::deadline(slab, p) <= d {
                break;
            }
            self.place(slab, pos, p);
            pos = parent;
        }
        self.place(slab, pos, slot);
        pos
    }

    fn sift_down(&mut self, slab: &mut LruSlab, mut pos: usize) {
        let slot = self.heap[pos];
        let d = Self::deadline(slab, slot);
        let n = self.heap.len();
        loop {
            let left = 2 * pos + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n
                && Self::deadline(slab, self.heap[right]) < Self::deadline(slab, self.heap[left])
            {
                right
            } else {
                left
            };
            let c = self.heap[child];
            if d <= Self::deadline(slab, c) {
                break;
            }
            self.place(slab, pos, c);
            pos = child;
        }
        self.place(slab, pos, slot);
    }

    /// Drops every slot and releases the memory.
    pub(crate) fn clear(&mut self) {
        self.heap = Vec::new();
    }

    /// Checks the heap property and the position links (for tests and fuzzing).
    pub(crate) fn check(&self, slab: &LruSlab) -> Result<(), String> {
        for (pos, &slot) in self.heap.iter().enumerate() {
            if slab.entry(slot).heap_pos as usize != pos {
                return Err(format!(
                    "slot {slot} at heap position {pos} records {}",
                    slab.entry(slot).heap_pos
                ));
            }
            if pos > 0
                && Self::deadline(slab, self.heap[(pos - 1) / 2]) > Self::deadline(slab, slot)
            {
                return Err(format!("heap order broken at position {pos}"));
            }
        }
        Ok(())
    }
}
