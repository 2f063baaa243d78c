//! The two FIFO queues of S3-FIFO, laid over the slab's one list: the small queue is the list's
//! prefix (oldest first) and the main queue the rest, from `main_head` to the tail. So the list
//! order is exactly the order `keys` reports: the small queue oldest first, then the main queue
//! oldest first. Invariants (checked by [`Queues::check`]): every entry before `main_head` has
//! `in_main == false` and every entry from it on `true`; `small_len`, `small_bytes` (accounted
//! bytes) and `main_len` count them; a read counter is at most [`MAX_READS`]. Every operation
//! here is O(1) but [`Queues::next_victim`], whose loop is bounded by the counters (each turn
//! moves a small entry to main or lowers a counter). Nothing here allocates.

use crate::accounting::entry_bytes;
use crate::slab::{Entry, LruSlab, NIL};

/// The highest value of an entry's read counter.
pub(crate) const MAX_READS: u8 = 3;

/// What the small queue aims at: 10% of the byte budget (after the cache's own overhead) and of
/// the item limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) bytes: Option<u64>,
    pub(crate) items: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Queues {
    main_head: u32,
    small_len: u32,
    small_bytes: u64,
    main_len: u32,
}

fn size_of(e: &Entry) -> u64 {
    entry_bytes(e.key.len(), e.value.len())
}

impl Default for Queues {
    fn default() -> Self {
        Queues {
            main_head: NIL,
            small_len: 0,
            small_bytes: 0,
            main_len: 0,
        }
    }
}

impl Queues {
    /// How many entries both queues hold together (the cache's stored entries): the ghost set's
    /// bound.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn len(&self) -> u32 {
        self.small_len + self.main_len
    }

    /// The main queue's oldest entry: where compaction must find it again.
    pub(crate) fn main_head_mut(&mut self) -> &mut u32 {
        &mut self.main_head
    }

    /// Whether the small queue holds at least its target.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn small_at_target(&self, limits: Limits) -> bool {
        limits
            .bytes
            .is_some_and(|b| self.small_bytes.saturating_mul(10) >= b)
            || limits
                .items
                .is_some_and(|m| u64::from(self.small_len) * 10 >= u64::from(m))
    }

    /// Links a new entry at the newest end of the main queue (`to_main`) or of the small queue.
    /// Call `slab.try_reserve_one` first.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn push(&mut self, slab: &mut LruSlab, mut entry: Entry, to_main: bool) -> u32 {
        entry.in_main = to_main;
        if to_main {
            let idx = slab.push_back(entry);
            self.attach_main(idx);
            idx
        } else {
            self.small_bytes += size_of(&entry);
            self.small_len += 1;
            slab.push_before(self.main_head, entry)
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn attach_main(&mut self, idx: u32) {
        if self.main_head == NIL {
            self.main_head = idx;
        }
        self.main_len += 1;
    }

    /// Unlinks `idx` from the queue counts; call before the slab moves or frees it.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn detach(&mut self, slab: &LruSlab, idx: u32) {
        let e = slab.entry(idx);
        if e.in_main {
            if self.main_head == idx {
                self.main_head = slab.next(idx).unwrap_or(NIL);
            }
            self.main_len -= 1;
        } else {
            self.small_len -= 1;
            self.small_bytes -= size_of(e);
        }
    }

    /// An entry of the small queue changed size from `old` to `new` accounted bytes.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn resized(&mut self, slab: &LruSlab, idx: u32, old: u64, new: u64) {
        if !slab.entry(idx).in_main {
            self.small_bytes = self.small_bytes - old + new;
        }
    }

    /// A read: the counter goes up by one, at most to `MAX_READS`. Moves nothing.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn read(slab: &mut LruSlab, idx: u32) {
        let e = slab.entry_mut(idx);
        e.reads = (e.reads + 1).min(MAX_READS);
    }

    /// Moves `idx` to the main queue's newest end, its counter kept (the last entry of the order).
    pub(crate) fn move_to_main_newest(&mut self, slab: &mut LruSlab, idx: u32) {
        self.detach(slab, idx);
        slab.move_to_back(idx);
        slab.entry_mut(idx).in_main = true;
        self.attach_main(idx);
    }

    /// Moves `idx` to the small queue's oldest end with counter 0 (the first entry of the order).
    pub(crate) fn move_to_small_oldest(&mut self, slab: &mut LruSlab, idx: u32) {
        self.detach(slab, idx);
        slab.move_to_front(idx);
        let e = slab.entry_mut(idx);
        e.in_main = false;
        e.reads = 0;
        self.small_len += 1;
        self.small_bytes += size_of(e);
    }

    /// The oldest small entry other than `keep`.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn small_candidate(&self, slab: &LruSlab, keep: Option<u32>) -> Option<u32> {
        let head = slab.head().filter(|&h| h != self.main_head)?;
        if Some(head) != keep {
            return Some(head);
        }
        slab.next(head).filter(|&n| n != self.main_head)
    }

    /// The oldest main entry other than `keep`.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn main_candidate(&self, slab: &LruSlab, keep: Option<u32>) -> Option<u32> {
        let head = (self.main_head != NIL).then_some(self.main_head)?;
        if Some(head) != keep {
            return Some(head);
        }
        slab.next(head)
    }

    /// Runs S3-FIFO's eviction step until it names an entry to evict, never `keep`: while the
    /// small queue holds at least its target (or the main queue has nothing else), its oldest
    /// entry moves to the main queue if it was read, else is the victim (`true`: from the small
    /// queue, so its key joins the ghost set); otherwise the main queue's oldest entry is the
    /// victim if its counter is 0, else goes to the main queue's newest end with the counter
    /// lowered. `None` when nothing but `keep` is left.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn next_victim(
        &mut self,
        slab: &mut LruSlab,
        keep: Option<u32>,
        limits: Limits,
    ) -> Option<(u32, bool)> {
        loop {
            let main = self.main_candidate(slab, keep);
            let small = self.small_candidate(slab, keep);
            if let Some(s) = small.filter(|_| main.is_none() || self.small_at_target(limits)) {
                if slab.entry(s).reads == 0 {
                    return Some((s, true));
                }
                // Promoted with its counter cleared, as the S3-FIFO paper and libCacheSim do: a
                // kept counter gave main-queue lives for reads already paid for by the
                // promotion (1.05x libCacheSim's misses on Twitter's trace at 10%; 1.008x now).
                slab.entry_mut(s).reads = 0;
                self.move_to_main_newest(slab, s);
                continue;
            }
            let m = main?;
            let e = slab.entry_mut(m);
            if e.reads == 0 {
                return Some((m, false));
            }
            e.reads -= 1;
            self.recycle(slab, m);
        }
    }

    /// Moves a main entry to the main queue's newest end (the queue stays where it is).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn recycle(&mut self, slab: &mut LruSlab, idx: u32) {
        if self.main_head == idx {
            match slab.next(idx) {
                Some(next) => self.main_head = next,
                None => return, // the only main entry: already the newest
            }
        }
        slab.move_to_back(idx);
    }

    /// Checks the invariants against the slab. O(n).
    pub(crate) fn check(&self, slab: &LruSlab) -> Result<(), String> {
        let (mut small, mut bytes, mut main) = (0u32, 0u64, 0u32);
        let mut in_main = false;
        for idx in slab.iter() {
            if idx == self.main_head {
                in_main = true;
            }
            let e = slab.entry(idx);
            if e.in_main != in_main {
                return Err(format!(
                    "key {:?}: in_main {} on the {} side of main_head",
                    e.key,
                    e.in_main,
                    if in_main { "main" } else { "small" }
                ));
            }
            if e.reads > MAX_READS {
                return Err(format!("key {:?}: read counter {}", e.key, e.reads));
            }
            if e.in_main {
                main += 1;
            } else {
                small += 1;
                bytes += size_of(e);
            }
        }
        if self.main_head != NIL && !in_main {
            return Err("main_head is not in the list".into());
        }
        if (small, bytes, main) != (self.small_len, self.small_bytes, self.main_len) {
            return Err(format!(
                "queues count small {small} ({bytes} B), main {main}; recorded {} ({} B), {}",
                self.small_len, self.small_bytes, self.main_len
            ));
        }
        Ok(())
    }
}
