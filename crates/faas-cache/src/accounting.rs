//! Byte accounting. Invariant: an entry accounts for the postcard-encoded size of its key, its
//! value and its expiry, plus [`ENTRY_OVERHEAD`]; a cache accounts for the sum over its entries plus
//! its fixed overhead. Sizes are computed from lengths in O(1), never by encoding.
//!
//! Why these numbers approximate real memory: postcard writes a `str` or byte string as a varint
//! length followed by the bytes, which is what the heap holds for them. The expiry is counted at a
//! fixed 17 bytes (an `Option<i128>` tag plus 16 bytes) so that changing a TTL never changes an
//! entry's size. [`ENTRY_OVERHEAD`] covers what the structure adds per entry on wasm32: the slab
//! slot (40 bytes: two fat pointers, an `i64` deadline, three `u32` links), the hash-table bucket
//! (4 bytes plus a control byte at 7/8 load), the expiry-heap index (4 bytes), the allocator's
//! headers and rounding for the key and value allocations (about 16 bytes), and slack for vectors
//! that grow by doubling. [`CACHE_OVERHEAD`] covers the cache's own struct and bookkeeping.

/// Bytes accounted for each entry beyond its encoded key, value and expiry.
pub const ENTRY_OVERHEAD: u64 = 96;

/// Bytes accounted for the cache itself (or the whole budget, if the budget is smaller).
pub const CACHE_OVERHEAD: u64 = 512;

/// Bytes the expiry accounts for in every entry, whatever its value.
pub const EXPIRY_BYTES: u64 = 17;

/// Length of the LEB128 varint postcard uses for a length.
pub(crate) fn varint_len(n: u64) -> u64 {
    let bits = 64 - n.max(1).leading_zeros() as u64;
    bits.div_ceil(7)
}

/// Postcard size of a string or byte string of `len` bytes.
pub(crate) fn encoded_len(len: usize) -> u64 {
    varint_len(len as u64) + len as u64
}

/// Accounted bytes of one entry.
pub fn entry_bytes(key_len: usize, value_len: usize) -> u64 {
    encoded_len(key_len) + encoded_len(value_len) + EXPIRY_BYTES + ENTRY_OVERHEAD
}

/// The fixed per-cache overhead under a byte limit (none: no limit).
pub(crate) fn cache_overhead(limit: Option<u64>) -> u64 {
    limit.map_or(CACHE_OVERHEAD, |l| l.min(CACHE_OVERHEAD))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p4_entry_size_is_the_postcard_size_plus_overhead() {
        for (k, v) in [
            (0usize, 0usize),
            (1, 1),
            (127, 128),
            (300, 70_000),
            (5, 2_100_000),
        ] {
            let key = "k".repeat(k);
            let value = serde_bytes_like(v);
            // A deadline in nanoseconds since the epoch, as snapshots store it (year 2100).
            let deadline = Some(4_102_444_800_000_000_000i128);
            let encoded =
                postcard::to_allocvec(&(key.as_str(), value.as_slice(), deadline)).unwrap();
            let expiry_enc = postcard::to_allocvec(&deadline).unwrap().len() as u64;
            assert!(expiry_enc <= EXPIRY_BYTES, "{expiry_enc}");
            // postcard encodes &[u8] as a sequence of u8: varint length plus one byte each.
            let without_expiry = encoded.len() as u64 - expiry_enc;
            assert_eq!(
                entry_bytes(k, v),
                without_expiry + EXPIRY_BYTES + ENTRY_OVERHEAD
            );
        }
    }

    fn serde_bytes_like(n: usize) -> Vec<u8> {
        vec![7u8; n]
    }

    #[test]
    fn varint_lengths() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(u64::MAX), 10);
    }

    #[test]
    fn b2_cache_overhead_never_exceeds_the_limit() {
        assert_eq!(cache_overhead(None), CACHE_OVERHEAD);
        assert_eq!(cache_overhead(Some(1)), 1);
        assert_eq!(cache_overhead(Some(1 << 20)), CACHE_OVERHEAD);
    }
}
