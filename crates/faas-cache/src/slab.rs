//! The entries and their LRU order: a slab of slots linked by `u32` indices (no pointer or `Box`
//! per node). Invariants: occupied slots form one doubly linked list from `head` (least recently
//! used) to `tail` (most recently used) holding exactly `len` slots; vacant slots form a singly
//! linked free list that is reused before the vector grows; an index handed out stays valid until
//! that slot is removed. Hot helpers are `#[inline]` natively (speed) but not on wasm32, where
//! the guest is built with LTO for size.

use crate::paged::PagedVec;
use crate::time::Deadline;

/// The "no slot" index.
pub(crate) const NIL: u32 = u32::MAX;

/// One cached entry. `heap_pos` is its position in the expiry heap (`NIL` when it never expires).
/// `in_main` and `reads` are S3-FIFO's queue and read counter (see `queues`); under LRU they stay
/// `false` and 0. They sit in what was padding: a slot is 40 bytes on wasm32 either way.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: Box<str>,
    pub(crate) value: Box<[u8]>,
    pub(crate) deadline: Deadline,
    pub(crate) heap_pos: u32,
    pub(crate) in_main: bool,
    pub(crate) reads: u8,
}

impl Entry {
    /// A new entry outside the expiry heap, in no queue yet.
    pub(crate) fn new(key: Box<str>, value: Box<[u8]>, deadline: Deadline) -> Self {
        Entry {
            key,
            value,
            deadline,
            heap_pos: NIL,
            in_main: false,
            reads: 0,
        }
    }
}

#[derive(Debug)]
enum Slot {
    Occupied { entry: Entry, prev: u32, next: u32 },
    Vacant { next_free: u32 },
}

/// A slot not yet handed out (pages of the slab are allocated full of these).
impl Default for Slot {
    fn default() -> Self {
        Slot::Vacant { next_free: NIL }
    }
}

/// Entries in LRU order, addressed by stable `u32` indices.
#[derive(Debug)]
pub(crate) struct LruSlab {
    slots: PagedVec<Slot>,
    head: u32,
    tail: u32,
    free: u32,
    len: u32,
}

impl LruSlab {
    pub(crate) fn new() -> Self {
        LruSlab {
            slots: PagedVec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            len: 0,
        }
    }

    /// An empty slab with room for `n` entries; `None` if the allocator refused.
    pub(crate) fn try_with_capacity(n: usize) -> Option<Self> {
        Some(LruSlab {
            slots: PagedVec::try_with_capacity(n)?,
            head: NIL,
            tail: NIL,
            free: NIL,
            len: 0,
        })
    }

    /// Slots ever used, occupied or vacant: what the slab holds in memory.
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.len()
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Least recently used slot.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn head(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// Most recently used slot.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn tail(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Makes sure one more entry can be pushed without allocating; false if the allocator refused.
    pub(crate) fn try_reserve_one(&mut self) -> bool {
        self.free != NIL || self.slots.try_reserve_one()
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn links(&self, idx: u32) -> (u32, u32) {
        match &self.slots[idx as usize] {
            Slot::Occupied { prev, next, .. } => (*prev, *next),
            Slot::Vacant { .. } => unreachable!("vacant slot"),
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn set_prev(&mut self, idx: u32, to: u32) {
        if let Slot::Occupied { prev, .. } = &mut self.slots[idx as usize] {
            *prev = to;
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn set_next(&mut self, idx: u32, to: u32) {
        if let Slot::Occupied { next, .. } = &mut self.slots[idx as usize] {
            *next = to;
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn entry(&self, idx: u32) -> &Entry {
        match &self.slots[idx as usize] {
            Slot::Occupied { entry, .. } => entry,
            Slot::Vacant { .. } => unreachable!("vacant slot"),
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn entry_mut(&mut self, idx: u32) -> &mut Entry {
        match &mut self.slots[idx as usize] {
            Slot::Occupied { entry, .. } => entry,
            Slot::Vacant { .. } => unreachable!("vacant slot"),
        }
    }

    /// The slot after `idx` towards the MRU end.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn next(&self, idx: u32) -> Option<u32> {
        let (_, next) = self.links(idx);
        (next != NIL).then_some(next)
    }

    /// Inserts just before slot `at` (at the MRU end when `at` is `NIL`). Call `try_reserve_one`
    /// first to grow without aborting.
    pub(crate) fn push_before(&mut self, at: u32, entry: Entry) -> u32 {
        let idx = self.push_back(entry);
        if at != NIL && at != idx {
            self.unlink(idx);
            let prev = self.links(at).0;
            self.set_prev(idx, prev);
            self.set_next(idx, at);
            self.set_prev(at, idx);
            if prev == NIL {
                self.head = idx;
            } else {
                self.set_next(prev, idx);
            }
        }
        idx
    }

    /// Appends at the MRU end. Call `try_reserve_one` first to grow without aborting.
    pub(crate) fn push_back(&mut self, entry: Entry) -> u32 {
        let slot = Slot::Occupied {
            entry,
            prev: self.tail,
            next: NIL,
        };
        let idx = if self.free != NIL {
            let idx = self.free;
            if let Slot::Vacant { next_free } = self.slots[idx as usize] {
                self.free = next_free;
            }
            self.slots[idx as usize] = slot;
            idx
        } else {
            self.slots.push(slot) as u32
        };
        self.link_after_tail(idx);
        self.len += 1;
        idx
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn link_after_tail(&mut self, idx: u32) {
        let old_tail = self.tail;
        self.set_prev(idx, old_tail);
        self.set_next(idx, NIL);
        if old_tail == NIL {
            self.head = idx;
        } else {
            self.set_next(old_tail, idx);
        }
        self.tail = idx;
    }

    fn link_before_head(&mut self, idx: u32) {
        let old_head = self.head;
        self.set_prev(idx, NIL);
        self.set_next(idx, old_head);
        if old_head == NIL {
            self.tail = idx;
        } else {
            self.set_prev(old_head, idx);
        }
        self.head = idx;
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn unlink(&mut self, idx: u32) {
        let (prev, next) = self.links(idx);
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
    }

    /// Removes the slot and returns its entry; the index becomes free for reuse.
    pub(crate) fn remove(&mut self, idx: u32) -> Entry {
        self.unlink(idx);
        let old = std::mem::replace(
            &mut self.slots[idx as usize],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = idx;
        self.len -= 1;
        match old {
            Slot::Occupied { entry, .. } => entry,
            Slot::Vacant { .. } => unreachable!("vacant slot"),
        }
    }

    /// Moves the slot to the MRU end.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn move_to_back(&mut self, idx: u32) {
        if self.tail != idx {
            self.unlink(idx);
            self.link_after_tail(idx);
        }
    }

    /// Moves the slot to the LRU end.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn move_to_front(&mut self, idx: u32) {
        if self.head != idx {
            self.unlink(idx);
            self.link_before_head(idx);
        }
    }

    /// Slot indices from LRU to MRU.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = u32> + ExactSizeIterator + '_ {
        Walk {
            slab: self,
            front: self.head,
            back: self.tail,
            left: self.len,
        }
    }
}

/// Walks the list from both ends; `left` stops the two cursors from crossing.
struct Walk<'a> {
    slab: &'a LruSlab,
    front: u32,
    back: u32,
    left: u32,
}

impl Iterator for Walk<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.left == 0 {
            return None;
        }
        let idx = self.front;
        self.front = self.slab.links(idx).1;
        self.left -= 1;
        Some(idx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl DoubleEndedIterator for Walk<'_> {
    fn next_back(&mut self) -> Option<u32> {
        if self.left == 0 {
            return None;
        }
        let idx = self.back;
        self.back = self.slab.links(idx).0;
        self.left -= 1;
        Some(idx)
    }
}

impl ExactSizeIterator for Walk<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(k: &str) -> Entry {
        Entry::new(k.into(), Box::new([]), Deadline::NEVER)
    }

    fn keys(s: &LruSlab) -> Vec<String> {
        s.iter().map(|i| s.entry(i).key.to_string()).collect()
    }

    #[test]
    fn order_moves_and_reuse() {
        let mut s = LruSlab::new();
        let a = s.push_back(entry("a"));
        let b = s.push_back(entry("b"));
        let c = s.push_back(entry("c"));
        assert_eq!(keys(&s), ["a", "b", "c"]);
        s.move_to_back(a);
        assert_eq!(keys(&s), ["b", "c", "a"]);
        s.move_to_front(c);
        assert_eq!(keys(&s), ["c", "b", "a"]);
        assert_eq!(
            s.iter()
                .rev()
                .map(|i| s.entry(i).key.to_string())
                .collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(&*s.remove(b).key, "b");
        let d = s.push_back(entry("d"));
        assert_eq!(d, b, "a freed slot is reused first");
        assert_eq!(keys(&s), ["c", "a", "d"]);
        assert_eq!((s.head(), s.tail(), s.len()), (Some(c), Some(d), 3));
        s.remove(c);
        s.remove(a);
        s.remove(d);
        assert_eq!((s.head(), s.tail(), s.len()), (None, None, 0));
    }

    #[test]
    fn push_before_links_in_place() {
        let mut s = LruSlab::new();
        let a = s.push_before(NIL, entry("a"));
        let c = s.push_back(entry("c"));
        s.push_before(c, entry("b"));
        s.push_before(a, entry("first"));
        assert_eq!(keys(&s), ["first", "a", "b", "c"]);
        assert_eq!(
            s.iter()
                .rev()
                .map(|i| s.entry(i).key.to_string())
                .collect::<Vec<_>>(),
            ["c", "b", "a", "first"]
        );
        assert_eq!(s.tail(), Some(c));
    }

    #[test]
    fn a_slot_stays_40_bytes_on_wasm32_and_56_natively() {
        let expected = if cfg!(target_pointer_width = "32") {
            40
        } else {
            56
        };
        assert_eq!(std::mem::size_of::<Slot>(), expected);
    }
}
