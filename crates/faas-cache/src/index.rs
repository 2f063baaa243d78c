//! Key lookup: a hash table of slot indices (the key itself lives once, in the slab), hashed with
//! a seeded aHash so that keys chosen by an attacker cannot force collisions (HashDoS).
//! Invariant: the table holds exactly one index for every occupied slot, under the hash of that
//! slot's key.

use ahash::RandomState;
use hashbrown::HashTable;

use crate::slab::LruSlab;

pub(crate) struct KeyIndex {
    table: HashTable<u32>,
    hasher: RandomState,
}

impl KeyIndex {
    /// An empty index whose hash function is keyed by `seed`.
    pub(crate) fn new(seed: (u64, u64)) -> Self {
        let (a, b) = seed;
        KeyIndex {
            table: HashTable::new(),
            hasher: RandomState::with_seeds(
                a,
                b,
                a.rotate_left(32) ^ 0x243f_6a88_85a3_08d3,
                b.rotate_left(32) ^ 0x1319_8a2e_0370_7344,
            ),
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// An empty index with the same hash function and room for `n` keys; `None` if refused.
    pub(crate) fn try_empty_with_capacity(&self, n: usize) -> Option<KeyIndex> {
        let mut table = HashTable::new();
        table.try_reserve(n, |_: &u32| 0).ok()?;
        Some(KeyIndex {
            table,
            hasher: self.hasher.clone(),
        })
    }

    /// The slot holding `key`.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn find(&self, slab: &LruSlab, key: &str) -> Option<u32> {
        self.find_hashed(slab, key, self.hash(key))
    }

    /// The slot holding `key`, whose hash is `hash`.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn find_hashed(&self, slab: &LruSlab, key: &str, hash: u64) -> Option<u32> {
        self.table
            .find(hash, |&i| &*slab.entry(i).key == key)
            .copied()
    }

    /// Makes sure one more index can be inserted without allocating; false if refused.
    pub(crate) fn try_reserve_one(&mut self, slab: &LruSlab) -> bool {
        let hasher = &self.hasher;
        self.table
            .try_reserve(1, |&i| hasher.hash_one(&*slab.entry(i).key))
            .is_ok()
    }

    /// Adds the slot `idx`, whose key (hashing to `hash`) is not in the index yet. Call
    /// `try_reserve_one` first.
    pub(crate) fn insert_hashed(&mut self, slab: &LruSlab, idx: u32, hash: u64) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hash, idx, |&i| hasher.hash_one(&*slab.entry(i).key));
    }

    /// Removes the slot `idx`, whose key hashes to `hash` (call before the slab frees it).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn remove_hashed(&mut self, idx: u32, hash: u64) {
        if let Ok(found) = self.table.find_entry(hash, |&i| i == idx) {
            found.remove();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Drops every index and releases the memory.
    pub(crate) fn clear(&mut self) {
        self.table = HashTable::new();
    }
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyIndex")
            .field("len", &self.table.len())
            .finish()
    }
}
