//! Conversions between the core library's types and the WIT types. Invariant: lossless both
//! ways; every core error has exactly one WIT error.

use faas_cache::{
    CacheError as CoreError, Expiry as CoreExpiry, Removal as CoreRemoval,
    RemovalCause as CoreCause, Stats as CoreStats,
};

use crate::bindings::exports::faas::cache::cache::{
    CacheError, Expiry, Removal, RemovalCause, SizeExcess, Stats,
};

pub fn error(e: CoreError) -> CacheError {
    match e {
        CoreError::DataTooLarge {
            entry_bytes,
            available_bytes,
        } => CacheError::DataTooLarge(SizeExcess {
            entry_bytes,
            available_bytes,
        }),
        CoreError::InvalidArgument(m) => CacheError::InvalidArgument(m),
        CoreError::KeyNotFound => CacheError::KeyNotFound,
        CoreError::CorruptSnapshot(m) => CacheError::CorruptSnapshot(m),
        CoreError::OutOfMemory => CacheError::OutOfMemory,
    }
}

pub fn expiry(e: Expiry) -> CoreExpiry {
    match e {
        Expiry::DefaultTtl => CoreExpiry::DefaultTtl,
        Expiry::Never => CoreExpiry::Never,
        Expiry::Ttl(t) => CoreExpiry::Ttl(t),
        Expiry::At(t) => CoreExpiry::At(t),
    }
}

pub fn removal(r: CoreRemoval) -> Removal {
    Removal {
        key: r.key,
        value: r.value,
        cause: match r.cause {
            CoreCause::Deleted => RemovalCause::Deleted,
            CoreCause::Popped => RemovalCause::Popped,
            CoreCause::Cleared => RemovalCause::Cleared,
            CoreCause::EvictedSize => RemovalCause::EvictedSize,
            CoreCause::EvictedCount => RemovalCause::EvictedCount,
            CoreCause::Expired => RemovalCause::Expired,
            CoreCause::Replaced => RemovalCause::Replaced,
        },
    }
}

pub fn stats(s: CoreStats) -> Stats {
    Stats {
        hits: s.hits,
        misses: s.misses,
        inserts: s.inserts,
        updates: s.updates,
        removed: s.removed,
        evicted_size: s.evicted_size,
        evicted_count: s.evicted_count,
        expired: s.expired,
        removals_dropped: s.removals_dropped,
    }
}
