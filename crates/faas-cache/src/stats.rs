//! Counters of cache activity (mirrors the WIT `stats` record, plus `listener_panics`).
//! Invariant: each counter only grows until `reset`; every terminal removal bumps exactly one of
//! `removed`, `evicted_size`, `evicted_count` or `expired`.

/// Counters since creation, restore or reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Reads (`get`, `get_many`, `set_default`) that found a live entry.
    pub hits: u64,
    /// Reads that found nothing live.
    pub misses: u64,
    /// Writes of a key that was not live.
    pub inserts: u64,
    /// Writes of a key that was live.
    pub updates: u64,
    /// Entries removed by delete, pop, pop_item and clear.
    pub removed: u64,
    /// Entries evicted for the byte budget or for memory.
    pub evicted_size: u64,
    /// Entries evicted for the item limit.
    pub evicted_count: u64,
    /// Entries removed because they had expired.
    pub expired: u64,
    /// Removal records dropped because the log was full.
    pub removals_dropped: u64,
    /// Removal listener calls that panicked (the removal itself was complete).
    pub listener_panics: u64,
}
