//! The error values of every fallible cache call. Each maps one-to-one onto the WIT
//! `cache-error` variant, so the component converts without loss.

use std::fmt;

/// Why a cache call failed. A failed call leaves the cache as it was (see [`CacheError::OutOfMemory`]
/// for the one documented exception: entries evicted to make room stay evicted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheError {
    /// The entry alone does not fit in the byte budget.
    DataTooLarge {
        /// What the entry would account for, overheads included.
        entry_bytes: u64,
        /// What the budget leaves for entries: the limit less the fixed per-cache overhead.
        available_bytes: u64,
    },
    /// A malformed or out-of-range argument; the message names it.
    InvalidArgument(String),
    /// The key is absent, or present but expired (the call removed it).
    KeyNotFound,
    /// Bytes given to restore are not a snapshot this version can read.
    CorruptSnapshot(String),
    /// The allocator refused the memory a write needs; nothing was stored.
    OutOfMemory,
}

impl CacheError {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        CacheError::InvalidArgument(msg.into())
    }

    pub(crate) fn corrupt(msg: impl Into<String>) -> Self {
        CacheError::CorruptSnapshot(msg.into())
    }
}

/// At most the first 40 characters of user input, for error messages (input may be huge).
pub(crate) fn excerpt(input: &str) -> String {
    match input
        .char_indices()
        .nth(40)
        .and_then(|(cut, _)| input.get(..cut))
    {
        Some(head) => format!("{head}..."),
        None => input.to_owned(),
    }
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::DataTooLarge {
                entry_bytes,
                available_bytes,
            } => write!(
                f,
                "data too large: the entry accounts for {entry_bytes} bytes but the budget leaves {available_bytes} bytes for entries"
            ),
            CacheError::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            CacheError::KeyNotFound => f.write_str("key not found"),
            CacheError::CorruptSnapshot(msg) => write!(f, "corrupt snapshot: {msg}"),
            CacheError::OutOfMemory => f.write_str("out of memory: the host refused the memory the write needs"),
        }
    }
}

impl std::error::Error for CacheError {}
