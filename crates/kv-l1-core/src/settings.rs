//! The L1's settings, read once from a key-value configuration (`wasi:config/store` in the
//! component: Spin variables, or any host's config; flags in `faas-cache-serve`). Invariant:
//! every value is validated; a malformed one is an error naming the key and value, never a silent
//! default. Absent keys take the defaults below.

use faas_cache::{parse_size, EvictionPolicy};

/// Byte budget: `l1_max_size`, a size such as `"64K"`, `"16M"`, `"1G"`.
pub const MAX_SIZE_KEY: &str = "l1_max_size";
/// Item limit: `l1_max_items`, a positive integer.
pub const MAX_ITEMS_KEY: &str = "l1_max_items";
/// TTL of L1 entries in seconds: `l1_ttl_seconds`, finite and >= 0. The staleness bound.
pub const TTL_KEY: &str = "l1_ttl_seconds";
/// TTL of cached absences in seconds: `l1_negative_ttl_seconds`, at most the TTL; 0 turns
/// negative caching off.
pub const NEGATIVE_TTL_KEY: &str = "l1_negative_ttl_seconds";
/// Stale-if-error window in seconds: `l1_stale_if_error_seconds`, finite and >= 0; 0 is off.
pub const STALE_IF_ERROR_KEY: &str = "l1_stale_if_error_seconds";
/// Eviction policy: `l1_policy`, `lru` or `s3-fifo` (ASCII case ignored).
pub const POLICY_KEY: &str = "l1_policy";

pub const DEFAULT_MAX_SIZE: &str = "16M";
pub const DEFAULT_TTL_SECONDS: f64 = 5.0;
pub const DEFAULT_NEGATIVE_TTL_SECONDS: f64 = 0.0;
pub const DEFAULT_STALE_IF_ERROR_SECONDS: f64 = 0.0;
/// S3-FIFO, not the core's LRU: on Zipf 1.0 traffic with 1% of the keys cached it misses 40.3%
/// of reads against LRU's 49.4% (BENCHMARKS.md, section 8: 18% fewer backend round trips), and a
/// read moves nothing, so a hit relinks no list.
pub const DEFAULT_POLICY: EvictionPolicy = EvictionPolicy::S3Fifo;

/// The settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub max_bytes: u64,
    pub max_items: Option<u32>,
    pub ttl_seconds: f64,
    pub negative_ttl_seconds: f64,
    pub stale_if_error_seconds: f64,
    pub policy: EvictionPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_config(|_| Ok(None)).expect("the defaults are valid")
    }
}

impl Settings {
    /// Reads and validates the settings; `read(key)` gives a key's text, `None` if unset, or an
    /// error reading it.
    pub fn from_config(
        mut read: impl FnMut(&str) -> Result<Option<String>, String>,
    ) -> Result<Settings, String> {
        load(&mut read)
    }
}

fn load(read: &mut dyn FnMut(&str) -> Result<Option<String>, String>) -> Result<Settings, String> {
    let max_size = read(MAX_SIZE_KEY)?;
    let max_size = max_size.as_deref().unwrap_or(DEFAULT_MAX_SIZE);
    let max_bytes =
        parse_size(max_size).map_err(|e| format!("config {MAX_SIZE_KEY}={max_size:?}: {e}"))?;
    let max_items = match read(MAX_ITEMS_KEY)? {
        None => None,
        Some(text) => match text.trim().parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(format!(
                    "config {MAX_ITEMS_KEY}={text:?}: expected a whole number from 1 to 4294967295"
                ))
            }
        },
    };
    let ttl_seconds = seconds(read, TTL_KEY, DEFAULT_TTL_SECONDS)?;
    let negative_ttl_seconds = seconds(read, NEGATIVE_TTL_KEY, DEFAULT_NEGATIVE_TTL_SECONDS)?;
    if negative_ttl_seconds > ttl_seconds {
        return Err(format!(
            "config {NEGATIVE_TTL_KEY}={negative_ttl_seconds} exceeds {TTL_KEY}={ttl_seconds}: \
             the L1 TTL is the staleness bound, and a cached absence must keep to it too"
        ));
    }
    let stale_if_error_seconds = seconds(read, STALE_IF_ERROR_KEY, DEFAULT_STALE_IF_ERROR_SECONDS)?;
    let policy = match read(POLICY_KEY)? {
        None => DEFAULT_POLICY,
        Some(text) => EvictionPolicy::from_name(text.trim()).map_err(|_| {
            format!("config {POLICY_KEY}={text:?}: expected \"lru\" or \"s3-fifo\"")
        })?,
    };
    Ok(Settings {
        max_bytes,
        max_items,
        ttl_seconds,
        negative_ttl_seconds,
        stale_if_error_seconds,
        policy,
    })
}

fn seconds(
    read: &mut dyn FnMut(&str) -> Result<Option<String>, String>,
    key: &str,
    default: f64,
) -> Result<f64, String> {
    match read(key)? {
        None => Ok(default),
        Some(text) => parse_seconds(&text).ok_or_else(|| {
            format!("config {key}={text:?}: expected a finite number of seconds >= 0")
        }),
    }
}

/// A finite, non-negative number of seconds.
fn parse_seconds(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_config(|key| {
            Ok(pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned()))
        })
    }

    #[test]
    fn absent_keys_take_the_defaults() {
        let s = from(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.max_bytes, parse_size(DEFAULT_MAX_SIZE).unwrap());
        assert_eq!(s.ttl_seconds, DEFAULT_TTL_SECONDS);
        assert_eq!(s.policy, DEFAULT_POLICY);
        assert_eq!(s.max_items, None);
    }

    #[test]
    fn every_key_is_read_and_validated() {
        let s = from(&[
            (MAX_SIZE_KEY, "1M"),
            (MAX_ITEMS_KEY, " 10 "),
            (TTL_KEY, "2.5"),
            (NEGATIVE_TTL_KEY, "1"),
            (STALE_IF_ERROR_KEY, "30"),
            (POLICY_KEY, "LRU"),
        ])
        .unwrap();
        assert_eq!(
            (
                s.max_bytes,
                s.max_items,
                s.ttl_seconds,
                s.negative_ttl_seconds
            ),
            (1 << 20, Some(10), 2.5, 1.0)
        );
        assert_eq!(
            (s.stale_if_error_seconds, s.policy),
            (30.0, EvictionPolicy::Lru)
        );
        for bad in [
            (MAX_SIZE_KEY, "lots"),
            (MAX_ITEMS_KEY, "0"),
            (TTL_KEY, "-1"),
            (TTL_KEY, "inf"),
            (NEGATIVE_TTL_KEY, "9"),
            (STALE_IF_ERROR_KEY, "NaN"),
            (POLICY_KEY, "arc"),
        ] {
            let e = from(&[bad]).unwrap_err();
            assert!(e.contains(bad.0) && e.contains(bad.1), "{e}");
        }
        let e = Settings::from_config(|_| Err("config store down".into())).unwrap_err();
        assert_eq!(e, "config store down");
    }
}
