//! Fallible copies: duplicates of strings and byte strings that report a refused allocation as
//! `None` instead of aborting. Invariant: on `Some` the copy is equal to its source and holds
//! exactly its length (reserved in one request); on `None` nothing was allocated and nothing
//! changed. Public (re-exported at the crate root) for embedders that copy values out of the cache
//! under a tight allocator.

/// A copy of `s`, or `None` if the allocator refused.
pub fn try_copy_str(s: &str) -> Option<String> {
    let mut copy = String::new();
    copy.try_reserve_exact(s.len()).ok()?;
    copy.push_str(s);
    Some(copy)
}

/// A copy of `bytes`, or `None` if the allocator refused.
pub fn try_copy(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(bytes.len()).ok()?;
    v.extend_from_slice(bytes);
    Some(v)
}
