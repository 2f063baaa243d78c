//! The eviction policy a cache runs with, chosen once at creation and kept by snapshots.
//! Invariant: `Lru` is the default and behaves exactly as a cache without this setting did.

use crate::CacheError;

/// How a cache chooses what to evict when a write does not fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EvictionPolicy {
    /// Least recently used first; a read moves the entry to the most-recently-used end.
    #[default]
    Lru,
    /// S3-FIFO (Yang et al., SOSP 2023), weighted by accounted bytes: a small FIFO queue for new
    /// entries (10% of the budget), a main FIFO queue, a ghost set of keys evicted from the small
    /// queue (never more keys than the cache holds entries, oldest forgotten first) and a read
    /// counter from 0 to 3 per entry. Reads move nothing.
    S3Fifo,
}

impl EvictionPolicy {
    /// The name the WIT, the JavaScript package and configuration use: `lru` or `s3-fifo`.
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::S3Fifo => "s3-fifo",
        }
    }

    /// The policy named `name` (`lru` or `s3-fifo`, ASCII case ignored).
    pub fn from_name(name: &str) -> Result<Self, CacheError> {
        if name.eq_ignore_ascii_case("lru") {
            Ok(EvictionPolicy::Lru)
        } else if name.eq_ignore_ascii_case("s3-fifo") {
            Ok(EvictionPolicy::S3Fifo)
        } else {
            Err(CacheError::invalid(format!(
                "unknown eviction policy \"{}\": use \"lru\" or \"s3-fifo\"",
                crate::error::excerpt(name)
            )))
        }
    }
}

impl std::fmt::Display for EvictionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_rejected() {
        for p in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
            assert_eq!(EvictionPolicy::from_name(p.name()).unwrap(), p);
        }
        assert_eq!(
            EvictionPolicy::from_name("S3-FIFO").unwrap(),
            EvictionPolicy::S3Fifo
        );
        assert_eq!(EvictionPolicy::default(), EvictionPolicy::Lru);
        let e = EvictionPolicy::from_name("lfu").unwrap_err();
        assert!(e.to_string().contains("lfu"), "{e}");
    }
}
