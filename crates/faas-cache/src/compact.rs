//! Compaction: when most slots of the slab are vacant (a cache that held many small entries now
//! holds a few large ones), the slab, the key index and the expiry heap are rebuilt at the size
//! of the live entries, so that their memory goes back to the allocator for values. In a Wasm
//! guest, whose linear memory never shrinks, this is what keeps memory near the byte budget
//! after a churn of mixed sizes.
//!
//! Invariants: compaction keeps every entry, its position in the list, its deadline, its heap
//! position and its S3-FIFO queue and counter (the slot a marker such as the main queue's head
//! names is renumbered with it); it allocates everything it needs before it moves anything, so a refused allocation
//! leaves the cache as it was; it runs only between operations (it renumbers slots). Its cost is
//! O(live entries), paid only after at least three times as many slots fell vacant: amortized
//! O(1) per removal.

use crate::expiry_heap::ExpiryHeap;
use crate::index::KeyIndex;
use crate::slab::{LruSlab, NIL};

/// Below this many slots a vacant slab costs too little to rebuild.
const MIN_SLOTS: usize = 2048;

/// Whether the slab is large and at least three quarters vacant.
pub(crate) fn worthwhile(slab: &LruSlab) -> bool {
    let slots = slab.slot_count();
    slots >= MIN_SLOTS && slab.len() as usize * 4 <= slots
}

/// Rebuilds the three structures around the live entries and renumbers `marker` (a slot index,
/// or `NIL`) with them; false (nothing changed) if the allocator refused the new ones.
pub(crate) fn compact(
    slab: &mut LruSlab,
    index: &mut KeyIndex,
    heap: &mut ExpiryHeap,
    marker: &mut u32,
) -> bool {
    let live = slab.len() as usize;
    let Some(mut new_slab) = LruSlab::try_with_capacity(live) else {
        return false;
    };
    let Some(mut new_index) = index.try_empty_with_capacity(live) else {
        return false;
    };
    let Some(mut new_heap) = ExpiryHeap::try_placeholders(heap.len()) else {
        return false;
    };
    let mut new_marker = NIL;
    while let Some(old) = slab.head() {
        let entry = slab.remove(old);
        let hash = new_index.hash(&entry.key);
        let heap_pos = entry.heap_pos;
        let in_heap = ExpiryHeap::holds_entry(&entry);
        // Room for every push and insert was reserved above: nothing below allocates.
        let idx = new_slab.push_back(entry);
        if old == *marker {
            new_marker = idx;
        }
        new_index.insert_hashed(&new_slab, idx, hash);
        if in_heap {
            new_heap.put(heap_pos as usize, idx);
        }
    }
    *slab = new_slab;
    *index = new_index;
    *heap = new_heap;
    *marker = new_marker;
    true
}

#[cfg(test)]
mod tests {
    use crate::{Cache, Config, Expiry, ManualClock, Time};

    fn cache(clock: &ManualClock) -> Cache<ManualClock> {
        Cache::with_clock_and_seed(Config::default(), clock.clone(), (1, 2)).expect("config")
    }

    #[test]
    fn a_mostly_vacant_slab_is_rebuilt_keeping_order_deadlines_and_values() {
        let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
        let mut c = cache(&clock);
        for i in 0..5000u32 {
            let expiry = if i % 3 == 0 {
                Expiry::Ttl(f64::from(i % 97) + 1.0)
            } else {
                Expiry::Never
            };
            c.set_with_expiry(format!("k{i}"), i.to_le_bytes().to_vec(), expiry)
                .expect("set");
        }
        assert_eq!(c.slots_in_memory(), 5000);
        for i in 0..5000u32 {
            if i % 5 != 0 {
                assert!(c.delete(&format!("k{i}")));
            }
        }
        // 1000 live of 5000 slots: the last deletes compacted the slab to the live entries.
        assert!(c.slots_in_memory() <= 1250, "{}", c.slots_in_memory());
        c.check_invariants().expect("invariants after compaction");
        let expected: Vec<String> = (0..5000)
            .filter(|i| i % 5 == 0)
            .map(|i| format!("k{i}"))
            .collect();
        assert_eq!(c.keys().collect::<Vec<_>>(), expected);
        for i in (0..5000u32).filter(|i| i % 5 == 0) {
            let key = format!("k{i}");
            assert_eq!(c.peek(&key), Some(&i.to_le_bytes()[..]));
            let ttl = c.get_ttl(&key).expect("live");
            assert_eq!(ttl.is_some(), i % 3 == 0, "{key}");
        }
        // The heap still expires in deadline order.
        clock.advance_secs(50.5);
        let expired = (0..5000u32)
            .filter(|i| i % 5 == 0 && i % 3 == 0 && f64::from(i % 97) + 1.0 < 50.5)
            .count();
        assert_eq!(c.purge_expired() as usize, expired);
        c.check_invariants().expect("invariants after purge");
        // New writes after compaction are indexed and ordered normally.
        c.set("new", b"v".to_vec()).expect("set");
        assert_eq!(c.keys().last(), Some("new"));
        assert_eq!(c.get("k5"), Some(&5u32.to_le_bytes()[..]));
        c.check_invariants().expect("invariants after writes");
    }

    #[test]
    fn a_small_or_mostly_full_slab_is_left_alone() {
        let clock = ManualClock::default();
        let mut c = cache(&clock);
        for i in 0..1000 {
            c.set(format!("k{i}"), vec![1]).expect("set");
        }
        for i in 0..990 {
            c.delete(&format!("k{i}"));
        }
        // Fewer than `MIN_SLOTS` slots: not worth rebuilding.
        assert_eq!(c.slots_in_memory(), 1000);
        for i in 0..3000 {
            c.set(format!("m{i}"), vec![1]).expect("set");
        }
        assert_eq!(c.slots_in_memory(), 3010);
        c.check_invariants().expect("invariants");
    }
}
