//! Caches opened by name (`faas:cache/named`): the rules every scope shares, whoever keeps it
//! (the component's instance, or a host's app scope). [`check_name`] says which names are valid,
//! [`Cache::reopen`] applies a later `open`'s settings, and [`NameTable`] holds a scope's names
//! in the order they were first opened.
//!
//! Invariants: a later `open` checks every setting before it changes anything, then applies the
//! byte limit, the item limit and the default TTL in that order, each only where it differs; a
//! [`NameTable`] holds each name once, and a refused allocation leaves it as it was.

use crate::cache::{Cache, Config};
use crate::error::{excerpt, CacheError};
use crate::time::Clock;

/// The longest name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;

/// `Ok` for a name `open` accepts: 1 to 255 bytes of UTF-8, no control character (U+0000 to
/// U+001F, U+007F to U+009F). Otherwise `invalid-argument` naming the fault.
pub fn check_name(name: &str) -> Result<(), CacheError> {
    if name.is_empty() {
        return Err(CacheError::invalid("name: must not be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(CacheError::invalid(format!(
            "name: {} bytes of UTF-8, at most {MAX_NAME_BYTES} allowed (\"{}\")",
            name.len(),
            excerpt(name).escape_debug()
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(CacheError::invalid(format!(
            "name: holds the control character U+{:04X} (\"{}\")",
            u32::from(c),
            excerpt(name).escape_debug()
        )));
    }
    Ok(())
}

impl<C: Clock> Cache<C> {
    /// A later `open` of this cache's name: applies `config`'s byte limit, item limit and default
    /// TTL where they differ from the cache's (as `change-byte-size`, then `change-max-items`,
    /// then `set-default-ttl`, evicting when a limit shrank; `None` removes a limit). The policy
    /// and the removal log's capacity stay as created. A bad setting fails with
    /// `invalid-argument` and changes nothing.
    pub fn reopen(&mut self, config: &Config) -> Result<(), CacheError> {
        config.validate()?;
        if config.max_size_bytes != self.max_size_bytes() {
            self.set_max_size_bytes(config.max_size_bytes)?;
        }
        if config.max_items != self.max_items() {
            self.change_max_items(config.max_items)?;
        }
        if config.default_ttl != self.default_ttl() {
            self.set_default_ttl(config.default_ttl)?;
        }
        Ok(())
    }
}

/// A scope's names, each with its value (a cache, or the id of one), in the order they were
/// first opened; lookup by name in O(log n).
#[derive(Debug)]
pub struct NameTable<T> {
    /// In the order first opened.
    entries: Vec<(String, T)>,
    /// Positions in `entries`, sorted by name (byte order).
    sorted: Vec<usize>,
}

impl<T> Default for NameTable<T> {
    fn default() -> Self {
        NameTable::new()
    }
}

impl<T> NameTable<T> {
    /// An empty table.
    pub const fn new() -> Self {
        NameTable {
            entries: Vec::new(),
            sorted: Vec::new(),
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.sorted
            .binary_search_by(|&i| self.entries[i].0.as_bytes().cmp(name.as_bytes()))
    }

    /// The value held under `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        let at = self.position(name).ok()?;
        Some(&self.entries[self.sorted[at]].1)
    }

    /// The value held under `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        let at = self.position(name).ok()?;
        let i = self.sorted[at];
        Some(&mut self.entries[i].1)
    }

    /// Adds `name` (which must not be held yet) with `value`. Gives both back if the name is
    /// already held or the allocator refused room; the table is then unchanged.
    pub fn try_insert(&mut self, name: String, value: T) -> Result<(), (String, T)> {
        let Err(at) = self.position(&name) else {
            return Err((name, value));
        };
        if self.entries.try_reserve(1).is_err() || self.sorted.try_reserve(1).is_err() {
            return Err((name, value));
        }
        self.sorted.insert(at, self.entries.len());
        self.entries.push((name, value));
        Ok(())
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names and values, in the order first opened.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &T)> + '_ {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Names and values, mutably, in the order first opened.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&str, &mut T)> + '_ {
        self.entries.iter_mut().map(|(n, v)| (n.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EvictionPolicy, ManualClock};

    #[test]
    fn names_are_checked() {
        assert!(check_name("sessions").is_ok());
        assert!(check_name("ünïcödé/ключ:1").is_ok());
        assert!(check_name(&"a".repeat(255)).is_ok());
        assert!(check_name(&"é".repeat(127)).is_ok()); // 254 bytes
        for bad in ["", "a\0b", "tab\there", "del\u{7f}", "c1\u{85}", "\u{9f}"] {
            assert!(
                matches!(check_name(bad), Err(CacheError::InvalidArgument(_))),
                "{bad:?}"
            );
        }
        assert!(check_name(&"a".repeat(256)).is_err());
        assert!(check_name(&"é".repeat(128)).is_err()); // 256 bytes
        assert!(check_name("\u{a0}").is_ok()); // just past the C1 range
    }

    #[test]
    fn table_keeps_first_open_order_and_finds_by_bytes() {
        let mut t = NameTable::new();
        for (i, n) in ["m", "b", "z", "a", "ab"].into_iter().enumerate() {
            assert!(t.try_insert(n.to_owned(), i).is_ok());
        }
        assert!(t.try_insert("b".to_owned(), 9).is_err());
        assert_eq!(
            t.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            ["m", "b", "z", "a", "ab"]
        );
        assert_eq!(t.get("a"), Some(&3));
        assert_eq!(t.get("ab"), Some(&4));
        assert_eq!(t.get("B"), None);
        *t.get_mut("z").unwrap() = 7;
        assert_eq!(t.get("z"), Some(&7));
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn reopen_applies_limits_then_ttl_and_checks_first() {
        let clock = ManualClock::default();
        let config = Config {
            max_items: Some(10),
            default_ttl: Some(5.0),
            policy: EvictionPolicy::S3Fifo,
            ..Config::default()
        };
        let mut c = Cache::with_clock(config, clock).unwrap();
        for i in 0..10 {
            c.set(format!("k{i}"), vec![1; 10]).unwrap();
        }
        // A bad setting changes nothing, even where the others were fine.
        let bad = Config {
            max_items: Some(2),
            default_ttl: Some(f64::NAN),
            ..Config::default()
        };
        assert!(matches!(
            c.reopen(&bad),
            Err(CacheError::InvalidArgument(_))
        ));
        assert_eq!(c.len(), 10);
        assert_eq!(c.default_ttl(), Some(5.0));
        // A shrunk item limit evicts; a none default TTL is removed; the policy stays.
        let later = Config {
            max_items: Some(4),
            default_ttl: None,
            max_size_bytes: Some(1 << 20),
            ..Config::default()
        };
        c.reopen(&later).unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c.max_items(), Some(4));
        assert_eq!(c.default_ttl(), None);
        assert_eq!(c.max_size_bytes(), Some(1 << 20));
        assert_eq!(c.policy(), EvictionPolicy::S3Fifo);
        c.check_invariants().unwrap();
    }
}
