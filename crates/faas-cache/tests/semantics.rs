//! One test (or a few) per point of `docs/semantics.md` (S1-S6, T1-T8, B1-B5, H1-H2,
//! O1-O6, P1-P4), named after it, plus `wit_*` tests for the `///` comments of
//! `shared/contract/wit/cache.wit` (where the two differ, the WIT comment wins).

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD, ENTRY_OVERHEAD, EXPIRY_BYTES};
use faas_cache::{
    parse_size, Cache, CacheError, Clock, Config, Expiry, ManualClock, Removal, RemovalCause,
    Stats, Time, SNAPSHOT_MAGIC, SNAPSHOT_VERSION,
};

type TestCache = Cache<ManualClock>;

/// Settings with a removal log large enough for every test.
fn logged() -> Config {
    Config {
        removal_log_capacity: 1000,
        ..Config::default()
    }
}

fn new_cache(config: Config, clock: &ManualClock) -> TestCache {
    Cache::with_clock_and_seed(config, clock.clone(), (1, 2)).unwrap()
}

/// A cache with no limits, no default TTL and a removal log, and its clock.
fn plain() -> (TestCache, ManualClock) {
    let clock = ManualClock::default();
    (new_cache(logged(), &clock), clock)
}

fn keys(c: &mut TestCache) -> Vec<String> {
    c.keys().map(str::to_owned).collect()
}

fn keys_rev(c: &mut TestCache) -> Vec<String> {
    c.keys().rev().map(str::to_owned).collect()
}

/// The drained removal log as `(key, value, cause)`.
fn drained(c: &mut TestCache) -> Vec<(String, Vec<u8>, RemovalCause)> {
    c.drain_removals(u32::MAX)
        .into_iter()
        .map(|r| (r.key, r.value, r.cause))
        .collect()
}

fn rm(key: &str, value: &[u8], cause: RemovalCause) -> (String, Vec<u8>, RemovalCause) {
    (key.to_owned(), value.to_vec(), cause)
}

fn nanos(clock: &ManualClock) -> i128 {
    clock.now().as_nanos()
}

/// Keys stored (live or expired) in LRU order, seen without touching anything.
fn stored_keys(c: &TestCache, candidates: &[&str]) -> Vec<String> {
    candidates
        .iter()
        .filter(|k| c.is_expired(k).is_some())
        .map(|k| (*k).to_owned())
        .collect()
}

/// Per key: `is_expired` and `peek`.
type KeyState = (String, Option<bool>, Option<Vec<u8>>);

/// Everything observable through `&self` (no purge, no LRU touch, no stats change): stats, byte
/// size, the state of each candidate key, and the snapshot (settings, live entries in LRU order
/// with their deadlines).
fn observe(c: &TestCache, candidates: &[&str]) -> (Stats, u64, Vec<KeyState>, Vec<u8>) {
    let per_key = candidates
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                c.is_expired(k),
                c.peek(k).map(<[u8]>::to_vec),
            )
        })
        .collect();
    (c.stats(), c.accounted_bytes(), per_key, c.snapshot())
}

// ----------------------------------------------------------------------------------------------
// Storage and order
// ----------------------------------------------------------------------------------------------

#[test]
fn s1_entries_kept_in_lru_order() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c", "d"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(keys(&mut c), ["a", "b", "c", "d"]);
    // The head is the least recently used: it is what pop_item(false) and eviction take.
    assert_eq!(c.pop_item(false), Some(("a".to_owned(), b"a".to_vec())));
    assert_eq!(c.pop_item(true), Some(("d".to_owned(), b"d".to_vec())));
}

#[test]
fn s2_get_moves_key_to_mru() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(c.get("a"), Some(&b"a"[..]));
    assert_eq!(keys(&mut c), ["b", "c", "a"]);
    assert_eq!(c.get("missing"), None);
    assert_eq!(keys(&mut c), ["b", "c", "a"]);
}

#[test]
fn s2_set_default_hit_moves_key_to_mru() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(c.set_default("a", b"other".to_vec()).unwrap(), b"a");
    assert_eq!(keys(&mut c), ["b", "c", "a"]);
}

#[test]
fn s2_peek_contains_and_is_expired_do_not_move() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    let before = c.stats();
    assert_eq!(c.peek("a"), Some(&b"a"[..]));
    assert!(c.contains("a"));
    assert_eq!(c.is_expired("a"), Some(false));
    assert_eq!(c.stats(), before, "peek/contains/is_expired count nothing");
    assert_eq!(keys(&mut c), ["a", "b", "c"]);
}

#[test]
fn s3_new_key_is_appended_at_mru() {
    let (mut c, _clock) = plain();
    c.set("a", b"1".to_vec()).unwrap();
    c.set("b", b"2".to_vec()).unwrap();
    c.set("c", b"3".to_vec()).unwrap();
    assert_eq!(keys_rev(&mut c)[0], "c");
}

#[test]
fn s3_overwrite_replaces_value_resets_expiry_and_moves_to_mru() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            default_ttl: Some(10.0),
            ..logged()
        },
        &clock,
    );
    c.set("a", b"old".to_vec()).unwrap();
    c.set("b", b"b".to_vec()).unwrap();
    clock.advance_secs(6.0);
    assert_eq!(c.get_ttl("a").unwrap(), Some(4.0));
    c.set("a", b"new".to_vec()).unwrap();
    assert_eq!(keys(&mut c), ["b", "a"]);
    assert_eq!(c.peek("a"), Some(&b"new"[..]));
    assert_eq!(
        c.get_ttl("a").unwrap(),
        Some(10.0),
        "reset to the default TTL"
    );
    // Without a default TTL, an overwrite makes the entry never expire.
    c.set_default_ttl(None).unwrap();
    c.set("a", b"newer".to_vec()).unwrap();
    assert_eq!(c.get_ttl("a").unwrap(), None);
    clock.advance_secs(100.0);
    assert_eq!(c.get("a"), Some(&b"newer"[..]));
}

#[test]
fn s4_keys_values_iter_list_lru_to_mru_without_reordering() {
    let (mut c, _clock) = plain();
    for (k, v) in [("x", b"1"), ("y", b"2"), ("z", b"3")] {
        c.set(k, v.to_vec()).unwrap();
    }
    c.get("x");
    for _ in 0..2 {
        assert_eq!(keys(&mut c), ["y", "z", "x"]);
        assert_eq!(c.values().collect::<Vec<_>>(), [b"2", b"3", b"1"]);
        let items: Vec<(String, Vec<u8>)> =
            c.iter().map(|(k, v)| (k.to_owned(), v.to_vec())).collect();
        assert_eq!(
            items,
            [
                ("y".into(), b"2".to_vec()),
                ("z".into(), b"3".to_vec()),
                ("x".into(), b"1".to_vec())
            ]
        );
    }
}

#[test]
fn s4_reversed_lists_mru_to_lru() {
    let (mut c, _clock) = plain();
    for k in ["x", "y", "z"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(keys_rev(&mut c), ["z", "y", "x"]);
    assert_eq!(c.values().rev().collect::<Vec<_>>(), [b"z", b"y", b"x"]);
    assert_eq!(
        c.iter()
            .rev()
            .map(|(k, _)| k.to_owned())
            .collect::<Vec<_>>(),
        ["z", "y", "x"]
    );
    assert_eq!(
        keys(&mut c),
        ["x", "y", "z"],
        "listing reversed does not reorder"
    );
}

#[test]
fn s5_move_to_end_last_and_first() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    c.move_to_end("a", true).unwrap();
    assert_eq!(keys(&mut c), ["b", "c", "a"]);
    c.move_to_end("c", false).unwrap();
    assert_eq!(keys(&mut c), ["c", "b", "a"]);
}

#[test]
fn s5_move_to_end_missing_or_expired_key_fails_and_removes_expired() {
    let (mut c, clock) = plain();
    c.set_with_expiry("e", b"v".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.set("live", b"l".to_vec()).unwrap();
    assert_eq!(c.move_to_end("missing", true), Err(CacheError::KeyNotFound));
    clock.advance_secs(2.0);
    assert_eq!(c.is_expired("e"), Some(true));
    assert_eq!(c.move_to_end("e", false), Err(CacheError::KeyNotFound));
    assert_eq!(c.is_expired("e"), None, "the expired key was removed");
    assert_eq!(drained(&mut c), [rm("e", b"v", RemovalCause::Expired)]);
    assert_eq!(c.stats().expired, 1);
}

#[test]
fn s6_pop_item_last_and_first() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(c.pop_item(true), Some(("c".to_owned(), b"c".to_vec())));
    assert_eq!(c.pop_item(false), Some(("a".to_owned(), b"a".to_vec())));
    assert_eq!(keys(&mut c), ["b"]);
    assert_eq!(
        drained(&mut c),
        [
            rm("c", b"c", RemovalCause::Popped),
            rm("a", b"a", RemovalCause::Popped)
        ]
    );
    assert_eq!(c.stats().removed, 2);
}

#[test]
fn s6_pop_item_on_empty_is_none() {
    let (mut c, clock) = plain();
    assert_eq!(c.pop_item(true), None);
    assert_eq!(c.pop_item(false), None);
    // Only expired entries left: none is live, so nothing is returned.
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(0.0))
        .unwrap();
    clock.set(Time::from_nanos(nanos(&clock) + 1));
    assert_eq!(c.pop_item(true), None);
    assert_eq!(c.is_expired("a"), None, "the expired entry met was removed");
    assert_eq!(c.stats().expired, 1);
    assert_eq!(c.stats().removed, 0);
}

#[test]
fn wit_pop_item_skips_expired_entries_at_that_end() {
    let (mut c, clock) = plain();
    c.set("live", b"l".to_vec()).unwrap();
    c.set_with_expiry("old", b"o".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    assert_eq!(c.pop_item(true), Some(("live".to_owned(), b"l".to_vec())));
    assert_eq!(
        drained(&mut c),
        [
            rm("old", b"o", RemovalCause::Expired),
            rm("live", b"l", RemovalCause::Popped)
        ]
    );
}

// ----------------------------------------------------------------------------------------------
// TTL
// ----------------------------------------------------------------------------------------------

#[test]
fn t1_ttl_in_whole_and_fractional_seconds_or_never() {
    let (mut c, clock) = plain();
    c.set_with_expiry("int", b"1".to_vec(), Expiry::Ttl(2.0))
        .unwrap();
    c.set_with_expiry("frac", b"2".to_vec(), Expiry::Ttl(0.25))
        .unwrap();
    c.set_with_expiry("never", b"3".to_vec(), Expiry::Never)
        .unwrap();
    c.set("default", b"4".to_vec()).unwrap(); // no default TTL: never
    assert_eq!(c.get_ttl("int").unwrap(), Some(2.0));
    assert_eq!(c.get_ttl("frac").unwrap(), Some(0.25));
    assert_eq!(c.get_ttl("never").unwrap(), None);
    assert_eq!(c.get_ttl("default").unwrap(), None);
    clock.advance_secs(0.25);
    assert!(c.contains("frac"), "live at its deadline");
    clock.set(Time::from_nanos(nanos(&clock) + 1));
    assert!(!c.contains("frac"));
    clock.advance_secs(1e9);
    assert_eq!(keys(&mut c), ["never", "default"]);
}

#[test]
fn t1_negative_nan_and_infinite_ttls_are_rejected() {
    for bad in [-1.0, -1e-9, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (mut c, _clock) = plain();
        c.set("k", b"v".to_vec()).unwrap();
        let before = observe(&c, &["k", "n"]);
        assert!(matches!(
            c.set_with_expiry("n", b"v".to_vec(), Expiry::Ttl(bad)),
            Err(CacheError::InvalidArgument(_))
        ));
        assert!(matches!(
            c.set_with_expiry("k", b"x".to_vec(), Expiry::Ttl(bad)),
            Err(CacheError::InvalidArgument(_))
        ));
        assert!(matches!(
            c.set_ttl("k", Some(bad)),
            Err(CacheError::InvalidArgument(_))
        ));
        assert!(matches!(
            c.set_default_ttl(Some(bad)),
            Err(CacheError::InvalidArgument(_))
        ));
        assert_eq!(
            observe(&c, &["k", "n"]),
            before,
            "{bad}: a failed call changes nothing"
        );
        assert_eq!(c.default_ttl(), None);
        let config = Config {
            default_ttl: Some(bad),
            ..Config::default()
        };
        assert!(matches!(
            Cache::with_clock_and_seed(config, ManualClock::default(), (0, 0)),
            Err(CacheError::InvalidArgument(_))
        ));
    }
    // Zero (either sign) is a valid TTL.
    let (mut c, _clock) = plain();
    c.set_with_expiry("z", b"v".to_vec(), Expiry::Ttl(-0.0))
        .unwrap();
    assert_eq!(c.get_ttl("z").unwrap(), Some(0.0));
}

#[test]
fn t1_default_ttl_applies_to_keys_written_after_it_is_set() {
    let (mut c, clock) = plain();
    c.set("before", b"1".to_vec()).unwrap();
    c.set_default_ttl(Some(5.0)).unwrap();
    assert_eq!(c.default_ttl(), Some(5.0));
    c.set("after", b"2".to_vec()).unwrap();
    c.set_with_expiry("explicit", b"3".to_vec(), Expiry::DefaultTtl)
        .unwrap();
    assert_eq!(c.get_ttl("before").unwrap(), None);
    assert_eq!(c.get_ttl("after").unwrap(), Some(5.0));
    assert_eq!(c.get_ttl("explicit").unwrap(), Some(5.0));
    clock.advance_secs(6.0);
    assert_eq!(keys(&mut c), ["before"]);
}

#[test]
fn t2_ttl_zero_expires_after_the_instant() {
    let (mut c, clock) = plain();
    c.set_with_expiry("z", b"v".to_vec(), Expiry::Ttl(0.0))
        .unwrap();
    assert_eq!(c.is_expired("z"), Some(false));
    assert_eq!(
        c.get("z"),
        Some(&b"v"[..]),
        "live at the instant it was written"
    );
    clock.set(Time::from_nanos(nanos(&clock) + 1));
    assert_eq!(c.is_expired("z"), Some(true));
    assert_eq!(c.get("z"), None, "expired a moment later");
}

#[test]
fn t2_entry_expires_strictly_after_its_expiry_time() {
    let (mut c, clock) = plain();
    let deadline = nanos(&clock) + 3_000_000_000;
    c.set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(3.0))
        .unwrap();
    clock.set(Time::from_nanos(deadline - 1));
    assert!(c.contains("k"));
    clock.set(Time::from_nanos(deadline));
    assert!(c.contains("k"), "E < now is expired; E == now is live");
    assert_eq!(c.get_ttl("k").unwrap(), Some(0.0));
    clock.set(Time::from_nanos(deadline + 1));
    assert!(!c.contains("k"));
}

#[test]
fn t3_set_ttl_sets_relative_expiry_without_reordering() {
    let (mut c, clock) = plain();
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    c.set_ttl("a", Some(1.5)).unwrap();
    assert_eq!(c.get_ttl("a").unwrap(), Some(1.5));
    assert_eq!(keys(&mut c), ["a", "b", "c"]);
    clock.advance_secs(1.0);
    c.set_ttl("a", Some(1.5)).unwrap(); // from now, not from the write
    clock.advance_secs(1.0);
    assert!(c.contains("a"));
    clock.advance_secs(1.0);
    assert!(!c.contains("a"));
}

#[test]
fn t3_set_ttl_none_removes_the_expiry() {
    let (mut c, clock) = plain();
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.set_ttl("a", None).unwrap();
    assert_eq!(c.get_ttl("a").unwrap(), None);
    clock.advance_secs(1e6);
    assert!(c.contains("a"));
}

#[test]
fn t3_expire_at_sets_an_absolute_expiry_without_reordering() {
    let (mut c, clock) = plain();
    for k in ["a", "b"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    let at = clock.now().as_secs_f64() + 10.0;
    c.expire_at("a", at).unwrap();
    assert_eq!(c.get_ttl("a").unwrap(), Some(10.0));
    assert_eq!(keys(&mut c), ["a", "b"]);
    // A past time expires it (it stays present, expired, until touched or purged).
    c.expire_at("b", clock.now().as_secs_f64() - 1.0).unwrap();
    assert_eq!(c.is_expired("b"), Some(true));
    assert!(!c.contains("b"));
    assert!(matches!(
        c.expire_at("a", f64::NAN),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(
        c.get_ttl("a").unwrap(),
        Some(10.0),
        "a rejected call changes nothing"
    );
    clock.advance_secs(10.5);
    assert!(!c.contains("a"));
}

#[test]
fn t3_set_ttl_and_expire_at_on_missing_or_expired_key_fail() {
    let (mut c, clock) = plain();
    assert_eq!(
        c.set_ttl("missing", Some(1.0)),
        Err(CacheError::KeyNotFound)
    );
    assert_eq!(c.expire_at("missing", 1e10), Err(CacheError::KeyNotFound));
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.set_with_expiry("b", b"2".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    assert_eq!(c.set_ttl("a", Some(100.0)), Err(CacheError::KeyNotFound));
    assert_eq!(c.expire_at("b", 1e10), Err(CacheError::KeyNotFound));
    assert_eq!(
        c.is_expired("a"),
        None,
        "an expired key is removed by the call"
    );
    assert_eq!(c.is_expired("b"), None);
    assert_eq!(c.stats().expired, 2);
}

#[test]
fn t4_get_ttl_returns_remaining_seconds_or_none_without_reordering() {
    let (mut c, clock) = plain();
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(3.0))
        .unwrap();
    c.set("b", b"2".to_vec()).unwrap();
    clock.advance_secs(0.75);
    let ttl = c.get_ttl("a").unwrap().unwrap();
    assert!((ttl - 2.25).abs() < 1e-9, "{ttl}");
    assert_eq!(c.get_ttl("b").unwrap(), None);
    assert_eq!(keys(&mut c), ["a", "b"]);
    assert_eq!(c.stats().hits, 0, "get_ttl is not a read");
}

#[test]
fn t4_get_ttl_on_missing_or_expired_key_fails() {
    let (mut c, clock) = plain();
    assert_eq!(c.get_ttl("missing"), Err(CacheError::KeyNotFound));
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(1.5);
    assert_eq!(c.get_ttl("a"), Err(CacheError::KeyNotFound));
    assert_eq!(c.is_expired("a"), None);
    assert_eq!(drained(&mut c), [rm("a", b"1", RemovalCause::Expired)]);
}

#[test]
fn t5_is_expired_has_three_states_and_never_removes() {
    let (mut c, clock) = plain();
    assert_eq!(c.is_expired("never-written"), None);
    c.set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    assert_eq!(c.is_expired("k"), Some(false));
    clock.advance_secs(2.0);
    let before = observe(&c, &["k"]);
    for _ in 0..3 {
        assert_eq!(c.is_expired("k"), Some(true));
    }
    assert_eq!(observe(&c, &["k"]), before, "is_expired never removes");
    assert!(drained(&mut c).is_empty());
    c.purge_expired();
    assert_eq!(c.is_expired("k"), None, "already purged");
}

#[test]
fn t6_reading_an_expired_key_is_a_miss_and_removes_it() {
    let (mut c, clock) = plain();
    c.set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(1.5);
    assert_eq!(c.get("k"), None);
    assert_eq!(c.is_expired("k"), None);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.expired), (0, 1, 1));
    assert_eq!(drained(&mut c), [rm("k", b"v", RemovalCause::Expired)]);
    assert_eq!(c.byte_size(), CACHE_OVERHEAD, "its bytes are reclaimed");
}

#[test]
fn t7_len_contains_keys_iteration_and_describe_skip_expired() {
    let (mut c, clock) = plain();
    c.set("live", b"l".to_vec()).unwrap();
    c.set_with_expiry("gone", b"g".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    assert!(!c.contains("gone"));
    assert_eq!(c.peek("gone"), None);
    assert_eq!(
        c.is_expired("gone"),
        Some(true),
        "contains/peek did not remove it"
    );
    assert_eq!(c.len(), 1);
    assert!(!c.is_empty());
    assert_eq!(keys(&mut c), ["live"]);
    assert_eq!(c.values().collect::<Vec<_>>(), [b"l"]);
    assert_eq!(c.iter().count(), 1);
    assert!(c.describe().contains("current_items=1"), "{}", c.describe());
}

#[test]
fn t7_describe_and_iteration_purge_so_expired_entries_are_not_counted() {
    let (mut c, clock) = plain();
    c.set_with_expiry("gone", b"g".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    let line = c.describe();
    assert!(line.contains("current_items=0"), "{line}");
    assert!(
        line.contains(&format!("current_memory_bytes={CACHE_OVERHEAD}")),
        "{line}"
    );
}

#[test]
fn t8_pop_returns_value_or_none_for_missing_or_expired() {
    let (mut c, clock) = plain();
    c.set("k", b"v".to_vec()).unwrap();
    assert_eq!(c.pop("k"), Some(b"v".to_vec()));
    assert_eq!(c.pop("k"), None);
    assert_eq!(c.pop("never"), None);
    c.set_with_expiry("e", b"x".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    assert_eq!(c.pop("e"), None);
    assert_eq!(
        drained(&mut c),
        [
            rm("k", b"v", RemovalCause::Popped),
            rm("e", b"x", RemovalCause::Expired)
        ]
    );
    let s = c.stats();
    assert_eq!((s.removed, s.expired), (1, 1));
}

// ----------------------------------------------------------------------------------------------
// Size limits
// ----------------------------------------------------------------------------------------------

#[test]
fn b1_max_size_accepts_bytes_and_k_m_g_t_suffixes() {
    for (text, bytes) in [
        ("1048576", 1_048_576u64),
        ("64K", 64 << 10),
        ("64k", 64 << 10),
        ("0.5M", 512 << 10),
        ("128M", 128 << 20),
        ("1g", 1 << 30),
        ("2T", 2 << 40),
        ("1.5K", 1536),
    ] {
        assert_eq!(parse_size(text), Ok(bytes), "{text}");
        let config = Config::default().with_max_size(text).unwrap();
        assert_eq!(config.max_size_bytes, Some(bytes));
        let (mut c, _clock) = plain();
        c.change_byte_size(Some(text)).unwrap();
        assert_eq!(c.max_size_bytes(), Some(bytes), "{text}");
    }
}

#[test]
fn b1_zero_negative_unknown_suffix_and_garbage_are_rejected() {
    for bad in ["0", "0K", "-1", "-5M", "12X", "", "abc", "1.2.3", "K"] {
        assert!(
            matches!(parse_size(bad), Err(CacheError::InvalidArgument(_))),
            "{bad}"
        );
        assert!(Config::default().with_max_size(bad).is_err(), "{bad}");
        let (mut c, _clock) = plain();
        c.change_byte_size(Some("1M")).unwrap();
        let e = c.change_byte_size(Some(bad)).unwrap_err();
        match e {
            CacheError::InvalidArgument(msg) => assert!(!msg.is_empty(), "a clear error"),
            other => panic!("{bad}: {other:?}"),
        }
        assert_eq!(c.max_size_bytes(), Some(1 << 20), "{bad}: unchanged");
    }
    let config = Config {
        max_size_bytes: Some(0),
        ..Config::default()
    };
    assert!(matches!(
        Cache::with_clock_and_seed(config, ManualClock::default(), (0, 0)),
        Err(CacheError::InvalidArgument(_))
    ));
    let (mut c, _clock) = plain();
    assert!(matches!(
        c.set_max_size_bytes(Some(0)),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(c.max_size_bytes(), None);
}

#[test]
fn b2_byte_size_covers_entries_plus_cache_overhead() {
    let (mut c, _clock) = plain();
    assert_eq!(c.byte_size(), CACHE_OVERHEAD);
    c.set("key", vec![0; 10]).unwrap();
    c.set("k2", vec![0; 300]).unwrap();
    assert_eq!(
        c.byte_size(),
        CACHE_OVERHEAD + entry_bytes(3, 10) + entry_bytes(2, 300)
    );
    c.set("key", vec![0; 1]).unwrap();
    assert_eq!(
        c.byte_size(),
        CACHE_OVERHEAD + entry_bytes(3, 1) + entry_bytes(2, 300)
    );
    c.delete("k2");
    assert_eq!(c.byte_size(), CACHE_OVERHEAD + entry_bytes(3, 1));
    // The cache overhead never exceeds a (tiny) limit.
    c.set_max_size_bytes(Some(100)).unwrap();
    assert_eq!(c.byte_size(), 100);
}

#[test]
fn b3_entry_larger_than_budget_is_refused_and_cache_unchanged() {
    let clock = ManualClock::default();
    let limit = CACHE_OVERHEAD + 2 * entry_bytes(1, 50);
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(limit),
            ..logged()
        },
        &clock,
    );
    c.set("a", vec![1; 50]).unwrap();
    c.set("b", vec![2; 50]).unwrap();
    let before = observe(&c, &["a", "b", "big"]);
    let err = c.set("big", vec![0; 1000]).unwrap_err();
    assert!(matches!(err, CacheError::DataTooLarge { .. }));
    assert_eq!(observe(&c, &["a", "b", "big"]), before);
    assert_eq!(keys(&mut c), ["a", "b"], "nothing was evicted for it");
    assert!(drained(&mut c).is_empty());
}

#[test]
fn b3_data_too_large_names_entry_bytes_and_available_bytes() {
    let clock = ManualClock::default();
    let limit = 2048;
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(limit),
            ..logged()
        },
        &clock,
    );
    let entry = entry_bytes(5, 3000);
    assert_eq!(
        c.set("hello", vec![0; 3000]),
        Err(CacheError::DataTooLarge {
            entry_bytes: entry,
            available_bytes: limit - CACHE_OVERHEAD,
        })
    );
    // Exactly the available bytes fit.
    let value_len = (0..2000).find(|&n| entry_bytes(1, n) == limit - CACHE_OVERHEAD);
    if let Some(n) = value_len {
        c.set("x", vec![0; n]).unwrap();
        assert_eq!(c.byte_size(), limit);
        let e = c.set("y", vec![0; n + 1]).unwrap_err();
        assert_eq!(
            e,
            CacheError::DataTooLarge {
                entry_bytes: entry_bytes(1, n + 1),
                available_bytes: limit - CACHE_OVERHEAD
            }
        );
    }
    // A limit below the cache overhead leaves nothing for entries.
    c.set_max_size_bytes(Some(100)).unwrap();
    assert_eq!(
        c.set("k", Vec::new()),
        Err(CacheError::DataTooLarge {
            entry_bytes: entry_bytes(1, 0),
            available_bytes: 0
        })
    );
}

#[test]
fn b3_data_too_large_on_overwrite_keeps_the_old_value() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(1024),
            default_ttl: Some(5.0),
            ..logged()
        },
        &clock,
    );
    c.set("a", b"old".to_vec()).unwrap();
    c.set("b", b"b".to_vec()).unwrap();
    clock.advance_secs(1.0);
    let before = observe(&c, &["a", "b"]);
    assert!(matches!(
        c.set("a", vec![0; 4096]),
        Err(CacheError::DataTooLarge { .. })
    ));
    assert_eq!(observe(&c, &["a", "b"]), before);
    assert_eq!(c.get_ttl("a").unwrap(), Some(4.0), "expiry not reset");
    assert_eq!(keys(&mut c), ["a", "b"], "not moved");
    assert!(drained(&mut c).is_empty(), "no Replaced record");
    assert_eq!(c.stats().updates, 0);
}

#[test]
fn b4_write_over_budget_evicts_lru_entries_until_it_fits() {
    let clock = ManualClock::default();
    let e = entry_bytes(1, 100);
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(CACHE_OVERHEAD + 3 * e),
            ..logged()
        },
        &clock,
    );
    for k in ["a", "b", "c"] {
        c.set(k, vec![0; 100]).unwrap();
    }
    c.get("a");
    c.set("d", vec![0; 100]).unwrap();
    assert_eq!(keys(&mut c), ["c", "a", "d"]);
    // An entry twice as big needs two slots: the two LRU entries go.
    let n = (0..1000).find(|&n| entry_bytes(1, n) == 2 * e).unwrap();
    c.set("e", vec![0; n]).unwrap();
    assert_eq!(keys(&mut c), ["d", "e"]);
    assert_eq!(
        drained(&mut c),
        [
            rm("b", &[0; 100], RemovalCause::EvictedSize),
            rm("c", &[0; 100], RemovalCause::EvictedSize),
            rm("a", &[0; 100], RemovalCause::EvictedSize),
        ]
    );
    assert_eq!(c.stats().evicted_size, 3);
}

#[test]
fn b4_expired_entries_are_evicted_before_live_ones() {
    let clock = ManualClock::default();
    let e = entry_bytes(1, 100);
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(CACHE_OVERHEAD + 3 * e),
            ..logged()
        },
        &clock,
    );
    c.set("a", vec![0; 100]).unwrap();
    c.set("b", vec![0; 100]).unwrap();
    c.set_with_expiry("c", vec![0; 100], Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    c.set("d", vec![0; 100]).unwrap();
    assert_eq!(
        keys(&mut c),
        ["a", "b", "d"],
        "the expired MRU entry went, not the LRU live one"
    );
    assert_eq!(drained(&mut c), [rm("c", &[0; 100], RemovalCause::Expired)]);
    let s = c.stats();
    assert_eq!((s.expired, s.evicted_size), (1, 0));
}

#[test]
fn b4_change_byte_size_applies_at_once_and_none_disables() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c", "d"] {
        c.set(k, vec![0; 100]).unwrap();
    }
    let e = entry_bytes(1, 100);
    let limit = CACHE_OVERHEAD + 2 * e;
    c.change_byte_size(Some(&limit.to_string())).unwrap();
    assert_eq!(keys(&mut c), ["c", "d"]);
    assert_eq!(c.byte_size(), limit);
    assert_eq!(c.stats().evicted_size, 2);
    c.change_byte_size(None).unwrap();
    assert_eq!(c.max_size_bytes(), None);
    for k in ["e", "f", "g"] {
        c.set(k, vec![0; 100]).unwrap();
    }
    assert_eq!(c.len(), 5);
}

#[test]
fn b5_max_items_evicts_lru_entry_on_insert() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(2),
            ..logged()
        },
        &clock,
    );
    c.set("a", b"1".to_vec()).unwrap();
    c.set("b", b"2".to_vec()).unwrap();
    c.get("a");
    c.set("c", b"3".to_vec()).unwrap();
    assert_eq!(keys(&mut c), ["a", "c"]);
    assert_eq!(drained(&mut c), [rm("b", b"2", RemovalCause::EvictedCount)]);
    assert_eq!(c.stats().evicted_count, 1);
}

#[test]
fn b5_expired_entries_are_purged_before_a_live_one_is_evicted() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(3),
            ..logged()
        },
        &clock,
    );
    c.set("live1", b"1".to_vec()).unwrap();
    c.set_with_expiry("exp1", b"2".to_vec(), Expiry::Ttl(2.0))
        .unwrap();
    c.set_with_expiry("exp2", b"3".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(3.0);
    c.set("new", b"4".to_vec()).unwrap();
    assert_eq!(keys(&mut c), ["live1", "new"]);
    // All expired entries are purged (earliest deadline first), no live one is evicted.
    assert_eq!(
        drained(&mut c),
        [
            rm("exp2", b"3", RemovalCause::Expired),
            rm("exp1", b"2", RemovalCause::Expired)
        ]
    );
    let s = c.stats();
    assert_eq!((s.expired, s.evicted_count), (2, 0));
}

#[test]
fn b5_overwrite_at_the_limit_never_evicts() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(2),
            ..logged()
        },
        &clock,
    );
    c.set("a", b"1".to_vec()).unwrap();
    c.set("b", b"2".to_vec()).unwrap();
    c.set("a", b"3".to_vec()).unwrap();
    assert_eq!(keys(&mut c), ["b", "a"]);
    assert_eq!(drained(&mut c), [rm("a", b"1", RemovalCause::Replaced)]);
    assert_eq!(c.stats().evicted_count, 0);
}

#[test]
fn b5_change_max_items_trims_at_once_none_disables_zero_rejected() {
    let (mut c, _clock) = plain();
    for k in ["a", "b", "c", "d"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert!(matches!(
        c.change_max_items(Some(0)),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(c.max_items(), None);
    assert_eq!(c.len(), 4);
    c.change_max_items(Some(2)).unwrap();
    assert_eq!(c.max_items(), Some(2));
    assert_eq!(keys(&mut c), ["c", "d"]);
    assert_eq!(
        drained(&mut c),
        [
            rm("a", b"a", RemovalCause::EvictedCount),
            rm("b", b"b", RemovalCause::EvictedCount)
        ]
    );
    c.change_max_items(None).unwrap();
    for k in ["e", "f", "g"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    assert_eq!(c.len(), 5);
    let config = Config {
        max_items: Some(0),
        ..Config::default()
    };
    assert!(matches!(
        Cache::with_clock_and_seed(config, ManualClock::default(), (0, 0)),
        Err(CacheError::InvalidArgument(_))
    ));
}

// ----------------------------------------------------------------------------------------------
// Lifecycle hook
// ----------------------------------------------------------------------------------------------

fn with_listener(config: Config) -> (TestCache, ManualClock, Arc<Mutex<Vec<Removal>>>) {
    let clock = ManualClock::default();
    let mut c = new_cache(config, &clock);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    c.set_removal_listener(move |r| sink.lock().unwrap().push(r.clone()));
    (c, clock, seen)
}

#[test]
fn h1_listener_sees_every_terminal_removal_with_its_cause() {
    let (mut c, clock, seen) = with_listener(Config {
        max_items: Some(3),
        max_size_bytes: Some(CACHE_OVERHEAD + 3 * entry_bytes(1, 100)),
        ..Config::default()
    });
    c.set("d", b"d".to_vec()).unwrap();
    c.delete("d");
    c.set("p", b"p".to_vec()).unwrap();
    c.pop("p");
    c.set("i", b"i".to_vec()).unwrap();
    c.pop_item(true);
    c.set_with_expiry("x", b"x".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    c.get("x"); // expired read
    c.set_with_expiry("y", b"y".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    c.purge_expired(); // expiry purge
    for k in ["a", "b", "c", "e"] {
        c.set(k, k.as_bytes()).unwrap(); // "a" evicted for the count
    }
    c.set("f", vec![0; 400]).unwrap(); // "b" for the count, then "c" for the bytes
    c.clear();
    let got: Vec<(String, RemovalCause)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.key.clone(), r.cause))
        .collect();
    use RemovalCause::*;
    let expected = [
        ("d", Deleted),
        ("p", Popped),
        ("i", Popped),
        ("x", Expired),
        ("y", Expired),
        ("a", EvictedCount),
        ("b", EvictedCount),
        ("c", EvictedSize),
        ("e", Cleared),
        ("f", Cleared),
    ];
    let expected: Vec<(String, RemovalCause)> = expected
        .iter()
        .map(|(k, c)| ((*k).to_owned(), *c))
        .collect();
    assert_eq!(got, expected);
    assert!(got.iter().all(|(_, cause)| cause.is_terminal()));
}

#[test]
fn h1_overwrite_is_reported_as_replaced_which_is_not_terminal() {
    // Port note: the listener (like drain-removals) also sees overwrites, as `Replaced`, which is
    // not terminal; an `on_delete` hook as in H1 is the listener filtered on `is_terminal()`.
    let (mut c, _clock, seen) = with_listener(logged());
    c.set("k", b"1".to_vec()).unwrap();
    c.set("k", b"2".to_vec()).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [Removal {
            key: "k".into(),
            value: b"1".to_vec(),
            cause: RemovalCause::Replaced
        }]
    );
    assert!(!RemovalCause::Replaced.is_terminal());
    assert!(
        seen.lock().unwrap().iter().all(|r| !r.cause.is_terminal()),
        "no terminal removal"
    );
    assert_eq!(c.peek("k"), Some(&b"2"[..]));
}

#[test]
fn h2_listener_runs_after_the_removal_is_complete() {
    let clock = ManualClock::default();
    let mut c = new_cache(logged(), &clock);
    // The listener cannot reach the cache, but it can see that the stats were already updated
    // through a value the test shares: it records the removal, and the test checks the cache.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    c.set_removal_listener(move |r| sink.lock().unwrap().push(r.key.clone()));
    c.set("k", b"v".to_vec()).unwrap();
    assert!(c.delete("k"));
    assert_eq!(*seen.lock().unwrap(), ["k"]);
    assert_eq!(c.is_expired("k"), None);
}

#[test]
fn h2_panicking_listener_loses_no_removal() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(1),
            ..logged()
        },
        &clock,
    );
    let calls = Arc::new(Mutex::new(0u32));
    let counter = Arc::clone(&calls);
    c.set_removal_listener(move |_| {
        // The guard is dropped before the panic, so the mutex is not poisoned.
        *counter.lock().unwrap() += 1;
        panic!("listener failure (expected by the test)");
    });
    c.set("a", b"1".to_vec()).unwrap();
    c.set("b", b"2".to_vec()).unwrap(); // evicts "a"
    assert!(c.delete("b"));
    c.set("c", b"3".to_vec()).unwrap();
    c.set("c", b"4".to_vec()).unwrap(); // Replaced
    assert_eq!(*calls.lock().unwrap(), 3);
    assert_eq!(c.is_expired("a"), None);
    assert_eq!(c.is_expired("b"), None);
    assert_eq!(keys(&mut c), ["c"], "the cache keeps working");
    assert_eq!(
        drained(&mut c),
        [
            rm("a", b"1", RemovalCause::EvictedCount),
            rm("b", b"2", RemovalCause::Deleted),
            rm("c", b"3", RemovalCause::Replaced),
        ],
        "every removal is still recorded"
    );
    let s = c.stats();
    assert_eq!(
        (s.evicted_count, s.removed, s.updates, s.listener_panics),
        (1, 1, 1, 3)
    );
    c.check_invariants().unwrap();
}

// ----------------------------------------------------------------------------------------------
// Other
// ----------------------------------------------------------------------------------------------

#[test]
fn o1_set_default_returns_live_value_or_stores_the_default() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            default_ttl: Some(5.0),
            ..logged()
        },
        &clock,
    );
    assert_eq!(c.set_default("k", b"first".to_vec()).unwrap(), b"first");
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts), (0, 1, 1));
    assert_eq!(
        c.get_ttl("k").unwrap(),
        Some(5.0),
        "stored with the default TTL"
    );
    assert_eq!(c.set_default("k", b"second".to_vec()).unwrap(), b"first");
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts, s.updates), (1, 1, 1, 0));
    clock.advance_secs(6.0);
    assert_eq!(c.set_default("k", b"third".to_vec()).unwrap(), b"third");
    assert_eq!(drained(&mut c), [rm("k", b"first", RemovalCause::Expired)]);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts, s.expired), (1, 2, 2, 1));
}

#[test]
fn o2_clear_removes_everything_reporting_each_entry_as_cleared() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(10),
            default_ttl: Some(60.0),
            ..logged()
        },
        &clock,
    );
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
    }
    c.get("a");
    let stats_before = c.stats();
    c.clear();
    assert_eq!(c.len(), 0);
    assert_eq!(c.byte_size(), CACHE_OVERHEAD);
    let mut got = drained(&mut c);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            rm("a", b"a", RemovalCause::Cleared),
            rm("b", b"b", RemovalCause::Cleared),
            rm("c", b"c", RemovalCause::Cleared)
        ]
    );
    let s = c.stats();
    assert_eq!(s.removed, 3);
    assert_eq!(
        (s.hits, s.inserts),
        (stats_before.hits, stats_before.inserts),
        "stats stay"
    );
    assert_eq!(
        (c.max_items(), c.default_ttl()),
        (Some(10), Some(60.0)),
        "settings stay"
    );
}

#[test]
fn o3_snapshot_restore_keeps_entries_order_settings_and_absolute_expiry() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            default_ttl: Some(30.0),
            max_items: Some(10),
            max_size_bytes: Some(64 << 10),
            removal_log_capacity: 7,
            ..Config::default()
        },
        &clock,
    );
    c.set("a", b"1".to_vec()).unwrap();
    c.set_with_expiry("b", vec![2; 300], Expiry::Never).unwrap();
    c.set_with_expiry("c", b"3".to_vec(), Expiry::Ttl(10.0))
        .unwrap();
    c.get("a");
    let bytes = c.snapshot();
    assert_eq!(&bytes[..4], SNAPSHOT_MAGIC);
    clock.advance_secs(4.0);
    let mut r = Cache::restore(&bytes, clock.clone(), (5, 6)).unwrap();
    assert_eq!(r.config(), c.config());
    assert_eq!(keys(&mut r), ["b", "c", "a"]);
    assert_eq!(r.get_ttl("c").unwrap(), Some(6.0), "absolute expiry kept");
    assert_eq!(r.get_ttl("a").unwrap(), Some(26.0));
    assert_eq!(r.get_ttl("b").unwrap(), None);
    assert_eq!(r.byte_size(), c.byte_size());
    clock.advance_secs(6.0);
    assert!(r.contains("c"), "live at its original expiry time");
    clock.set(Time::from_nanos(nanos(&clock) + 1));
    assert!(!r.contains("c"));
}

#[test]
fn o3_restore_later_drops_entries_already_expired() {
    let (mut c, clock) = plain();
    c.set_with_expiry("short", b"x".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.set_with_expiry("long", b"y".to_vec(), Expiry::Ttl(100.0))
        .unwrap();
    let bytes = c.snapshot();
    clock.advance_secs(50.0);
    let mut r = Cache::restore(&bytes, clock.clone(), (0, 0)).unwrap();
    assert_eq!(r.is_expired("short"), None, "gone, not merely expired");
    assert_eq!(keys(&mut r), ["long"]);
    assert_eq!(r.get_ttl("long").unwrap(), Some(50.0));
    assert_eq!(r.stats(), Stats::default());
    assert!(r.drain_removals(u32::MAX).is_empty());
}

#[test]
fn o3_restore_rejects_truncated_corrupt_and_newer_input() {
    let (mut c, clock) = plain();
    c.set("key", b"value".to_vec()).unwrap();
    let bytes = c.snapshot();
    for cut in 0..bytes.len() {
        let r = Cache::restore(&bytes[..cut], clock.clone(), (0, 0));
        assert!(
            matches!(r, Err(CacheError::CorruptSnapshot(_))),
            "cut at {cut}"
        );
    }
    let mut newer = bytes.clone();
    newer[4] = (SNAPSHOT_VERSION + 1) as u8;
    assert!(matches!(
        Cache::restore(&newer, clock.clone(), (0, 0)),
        Err(CacheError::CorruptSnapshot(_))
    ));
    let mut garbage = bytes;
    garbage[0] ^= 0xff;
    assert!(matches!(
        Cache::restore(&garbage, clock, (0, 0)),
        Err(CacheError::CorruptSnapshot(_))
    ));
}

/// A snapshot written by hand in the documented format (`snapshot.rs`), so that its entries
/// may break its own limits.
fn hand_snapshot(
    max_size_bytes: Option<u64>,
    max_items: Option<u32>,
    entries: &[(&str, &[u8], Option<i128>)],
) -> Vec<u8> {
    let head = (
        SNAPSHOT_MAGIC,
        SNAPSHOT_VERSION,
        None::<f64>,
        max_size_bytes,
        max_items,
        16u32,
        0u8, // LRU
        entries.len() as u64,
    );
    let mut out = postcard::to_allocvec(&head).unwrap();
    for e in entries {
        out = postcard::to_extend(e, out).unwrap();
    }
    faas_cache::sealed(&out)
}

#[test]
fn o3_a_version_1_snapshot_still_restores_as_lru() {
    let clock = ManualClock::default();
    let head = (
        SNAPSHOT_MAGIC,
        1u32,
        Some(30.0f64),
        None::<u64>,
        Some(5u32),
        0u32,
        2u64,
    );
    let mut v1 = postcard::to_allocvec(&head).unwrap();
    for e in [("a", &b"1"[..], None::<i128>), ("b", &b"2"[..], None)] {
        v1 = postcard::to_extend(&e, v1).unwrap();
    }
    let mut r = Cache::restore(&v1, clock.clone(), (1, 1)).unwrap();
    assert_eq!(r.policy(), faas_cache::EvictionPolicy::Lru);
    assert_eq!(keys(&mut r), ["a", "b"]);
    assert_eq!(r.max_items(), Some(5));
    assert_eq!(r.default_ttl(), Some(30.0));
    r.check_invariants().unwrap();
}

#[test]
fn wit_restore_reapplies_limits_and_drops_expired_entries() {
    let clock = ManualClock::default();
    let now = nanos(&clock);
    let v = [7u8; 100];
    let entries: [(&str, &[u8], Option<i128>); 5] = [
        ("a", &v, None),
        ("gone", &v, Some(now - 1)),
        ("b", &v, Some(now + 5_000_000_000)),
        ("c", &v, None),
        ("d", &v, Some(now)),
    ];
    // Item limit: the least recently used live entries are evicted.
    let mut r = Cache::restore(
        &hand_snapshot(None, Some(2), &entries),
        clock.clone(),
        (1, 1),
    )
    .unwrap();
    assert_eq!(keys(&mut r), ["c", "d"]);
    assert_eq!(r.max_items(), Some(2));
    r.check_invariants().unwrap();
    // Byte limit: likewise, and the byte size stays within it.
    let limit = CACHE_OVERHEAD + 2 * entry_bytes(1, 100) + 10;
    let mut r = Cache::restore(
        &hand_snapshot(Some(limit), None, &entries),
        clock.clone(),
        (1, 1),
    )
    .unwrap();
    assert_eq!(keys(&mut r), ["c", "d"]);
    assert!(r.byte_size() <= limit);
    // No limit: only the expired entry is dropped; deadlines are kept to the nanosecond.
    let mut r =
        Cache::restore(&hand_snapshot(None, None, &entries), clock.clone(), (1, 1)).unwrap();
    assert_eq!(keys(&mut r), ["a", "b", "c", "d"]);
    assert_eq!(r.get_ttl("b").unwrap(), Some(5.0));
    assert_eq!(r.get_ttl("d").unwrap(), Some(0.0));
    assert_eq!(r.stats(), Stats::default());
}

#[test]
fn wit_restore_rejects_duplicate_keys_and_bad_settings_as_corrupt() {
    let clock = ManualClock::default();
    let dup: [(&str, &[u8], Option<i128>); 2] = [("k", b"1", None), ("k", b"2", None)];
    let r = Cache::restore(&hand_snapshot(None, None, &dup), clock.clone(), (1, 1));
    assert!(matches!(r, Err(CacheError::CorruptSnapshot(_))));
    for (size, items) in [(Some(0), None), (None, Some(0))] {
        let r = Cache::restore(&hand_snapshot(size, items, &[]), clock.clone(), (1, 1));
        assert!(
            matches!(r, Err(CacheError::CorruptSnapshot(_))),
            "{size:?} {items:?}"
        );
    }
    let mut trailing = hand_snapshot(None, None, &[]);
    trailing.push(0);
    let r = Cache::restore(&trailing, clock, (1, 1));
    assert!(matches!(r, Err(CacheError::CorruptSnapshot(_))));
}

#[test]
fn o4_describe_shows_settings_and_current_size() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            default_ttl: Some(10.0),
            max_items: Some(10),
            ..Config::default()
        }
        .with_max_size("128M")
        .unwrap(),
        &clock,
    );
    c.set("k", b"v".to_vec()).unwrap();
    let line = c.describe();
    assert!(!line.contains('\n'));
    for part in [
        "default_ttl=10".to_owned(),
        "max_memory=128M".to_owned(),
        "max_items=10".to_owned(),
        format!("current_memory_bytes={}", c.byte_size()),
        "current_items=1".to_owned(),
    ] {
        assert!(line.contains(&part), "{line:?} lacks {part:?}");
    }
    assert_eq!(format!("{c}"), line);
}

/// `IsClone::<T>::VALUE` is true exactly when `T: Clone` (an inherent constant, which exists only
/// under the bound, shadows the trait's default).
struct IsClone<T>(PhantomData<T>);
trait NotClone {
    const VALUE: bool = false;
}
impl<T> NotClone for IsClone<T> {}
impl<T: Clone> IsClone<T> {
    const VALUE: bool = true;
}

#[test]
fn o5_copy_and_fromkeys_have_no_counterpart() {
    // Python raises on `copy()` and `fromkeys()`. The port's answer: `Cache` does not implement
    // `Clone` (a copy would duplicate the listener and the removal log), and there is no
    // constructor from a key list. A copy can be made on purpose through snapshot + restore.
    const { assert!(!IsClone::<TestCache>::VALUE) };
    const { assert!(IsClone::<String>::VALUE, "the probe itself works") };
    let (mut c, clock) = plain();
    c.set("k", b"v".to_vec()).unwrap();
    let mut copy = Cache::restore(&c.snapshot(), clock, (9, 9)).unwrap();
    copy.set("k", b"changed".to_vec()).unwrap();
    assert_eq!(c.peek("k"), Some(&b"v"[..]), "the copy is independent");
}

#[test]
fn o6_no_background_thread_purge_expired_does_the_job() {
    // Port note P1: no background purge every 5 s; expired entries are invisible at once, their
    // memory is reclaimed on access, when room is needed, or by `purge_expired` (`tick`).
    let (mut c, clock) = plain();
    c.set_with_expiry("a", vec![0; 10], Expiry::Ttl(1.0))
        .unwrap();
    c.set_with_expiry("b", vec![0; 10], Expiry::Ttl(2.0))
        .unwrap();
    c.set("c", vec![0; 10]).unwrap();
    let full = c.byte_size();
    clock.advance_secs(10.0);
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert_eq!(
        c.is_expired("a"),
        Some(true),
        "nothing purged it behind our back"
    );
    assert_eq!(c.accounted_bytes(), full);
    assert!(
        !c.contains("a") && !c.contains("b"),
        "yet it is never returned"
    );
    assert_eq!(c.purge_expired(), 2);
    assert_eq!(c.purge_expired(), 0);
    assert_eq!(c.byte_size(), CACHE_OVERHEAD + entry_bytes(1, 10));
    assert_eq!(
        drained(&mut c),
        [
            rm("a", &[0; 10], RemovalCause::Expired),
            rm("b", &[0; 10], RemovalCause::Expired)
        ],
        "earliest deadline first"
    );
}

// ----------------------------------------------------------------------------------------------
// Port notes
// ----------------------------------------------------------------------------------------------

#[test]
fn p1_expired_entries_are_never_returned_or_counted() {
    let (mut c, clock) = plain();
    c.set_with_expiry("e", b"v".to_vec(), Expiry::Ttl(0.5))
        .unwrap();
    clock.advance_secs(1.0);
    assert_eq!(c.peek("e"), None);
    assert!(!c.contains("e"));
    assert_eq!(c.len(), 0);
    assert_eq!(c.pop_item(true), None);
}

#[test]
fn p2_keys_are_strings_and_values_any_bytes() {
    let (mut c, _clock) = plain();
    let value: Vec<u8> = (0..=255).collect();
    c.set("ключ 🔑", value.clone()).unwrap();
    c.set("", Vec::new()).unwrap();
    assert_eq!(c.get("ключ 🔑"), Some(value.as_slice()));
    assert_eq!(c.get(""), Some(&[][..]));
}

#[test]
fn p3_single_key_calls_do_not_depend_on_the_number_of_entries() {
    // O(1) is measured by `cargo bench` (1k vs 1M entries), not by a timed test. Here: single-key
    // calls on a large cache read the clock at most once and leave every structure consistent.
    let clock = CountingClock::default();
    let mut c = Cache::with_clock_and_seed(Config::default(), clock.clone(), (1, 2)).unwrap();
    for i in 0..50_000 {
        c.set_with_expiry(
            format!("key-{i}"),
            vec![0; 8],
            Expiry::Ttl((i % 100) as f64),
        )
        .unwrap();
    }
    let reads_before = clock.reads.get();
    for i in 0..5_000 {
        let k = format!("key-{}", i * 7 % 50_000);
        c.get(&k);
        c.set_ttl(&k, Some(50.0)).unwrap();
        c.move_to_end(&k, false).unwrap();
    }
    assert!(
        clock.reads.get() - reads_before <= 3 * 5_000,
        "at most one clock read per call"
    );
    c.check_invariants().unwrap();
}

/// A clock at a fixed instant that counts how often it is read.
#[derive(Clone, Default)]
struct CountingClock {
    reads: std::rc::Rc<std::cell::Cell<u64>>,
}

impl faas_cache::Clock for CountingClock {
    fn now(&self) -> faas_cache::Time {
        self.reads.set(self.reads.get() + 1);
        faas_cache::Time::from_unix(1_700_000_000, 0)
    }
}

#[test]
fn p4_byte_size_from_postcard_sizes_plus_fixed_overheads() {
    // postcard: a varint length (1 byte below 128, 2 bytes below 16384) plus the bytes.
    assert_eq!(entry_bytes(0, 0), 1 + 1 + EXPIRY_BYTES + ENTRY_OVERHEAD);
    assert_eq!(
        entry_bytes(3, 127),
        (1 + 3) + (1 + 127) + EXPIRY_BYTES + ENTRY_OVERHEAD
    );
    assert_eq!(
        entry_bytes(3, 128),
        (1 + 3) + (2 + 128) + EXPIRY_BYTES + ENTRY_OVERHEAD
    );
    let key = "k".repeat(200);
    assert_eq!(
        entry_bytes(200, 20_000),
        (2 + 200) + (3 + 20_000) + EXPIRY_BYTES + ENTRY_OVERHEAD
    );
    let encoded = postcard::to_allocvec(&(key.as_str(), &[1u8; 20_000][..])).unwrap();
    assert_eq!(
        entry_bytes(200, 20_000),
        encoded.len() as u64 + EXPIRY_BYTES + ENTRY_OVERHEAD
    );
    // The expiry is counted at a fixed size: changing a TTL never changes the byte size.
    let (mut c, _clock) = plain();
    c.set("k", vec![0; 10]).unwrap();
    let size = c.byte_size();
    c.set_ttl("k", Some(1e6)).unwrap();
    assert_eq!(c.byte_size(), size);
}

// ----------------------------------------------------------------------------------------------
// WIT comments
// ----------------------------------------------------------------------------------------------

#[test]
fn wit_overwrite_resets_expiry_and_reports_replaced_not_terminal() {
    let (mut c, clock) = plain();
    c.set_with_expiry("k", b"old".to_vec(), Expiry::Ttl(2.0))
        .unwrap();
    clock.advance_secs(1.0);
    c.set_with_expiry("k", b"new".to_vec(), Expiry::Ttl(5.0))
        .unwrap();
    assert_eq!(c.get_ttl("k").unwrap(), Some(5.0));
    assert_eq!(drained(&mut c), [rm("k", b"old", RemovalCause::Replaced)]);
    let s = c.stats();
    assert_eq!((s.inserts, s.updates, s.removed, s.expired), (1, 1, 0, 0));
    // Overwriting an expired key is an insert: the expired entry is reported as expired.
    clock.advance_secs(10.0);
    c.set("k", b"again".to_vec()).unwrap();
    assert_eq!(drained(&mut c), [rm("k", b"new", RemovalCause::Expired)]);
    let s = c.stats();
    assert_eq!((s.inserts, s.updates, s.expired), (2, 1, 1));
}

#[test]
fn wit_is_expired_never_removes_anything() {
    let (mut c, clock) = plain();
    c.set_with_expiry("a", b"1".to_vec(), Expiry::Ttl(0.0))
        .unwrap();
    c.set_with_expiry("b", b"2".to_vec(), Expiry::At(0.0))
        .unwrap(); // stored already expired
    assert_eq!(c.is_expired("b"), Some(true));
    clock.advance_secs(1.0);
    let before = observe(&c, &["a", "b"]);
    assert_eq!(
        (c.is_expired("a"), c.is_expired("b")),
        (Some(true), Some(true))
    );
    assert_eq!(observe(&c, &["a", "b"]), before);
    assert_eq!(stored_keys(&c, &["a", "b"]), ["a", "b"]);
}

#[test]
fn wit_making_room_removes_expired_entries_before_live_ones() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(3),
            ..logged()
        },
        &clock,
    );
    c.set("live", b"l".to_vec()).unwrap();
    c.set_with_expiry("x", b"x".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.set("live2", b"m".to_vec()).unwrap();
    clock.advance_secs(2.0);
    // The expired entry is not at the LRU end, yet it goes instead of "live".
    c.set("new", b"n".to_vec()).unwrap();
    assert_eq!(keys(&mut c), ["live", "live2", "new"]);
    // Same for change_max_items and change_byte_size.
    c.set_with_expiry("y", b"y".to_vec(), Expiry::Ttl(1.0))
        .unwrap(); // evicts "live"
    clock.advance_secs(2.0);
    c.change_max_items(Some(2)).unwrap();
    assert_eq!(keys(&mut c), ["live2", "new"]);
    c.set_with_expiry("z", b"z".to_vec(), Expiry::Ttl(1.0))
        .unwrap(); // evicts "live2"
    clock.advance_secs(2.0);
    c.change_byte_size(Some(&(CACHE_OVERHEAD + 2 * entry_bytes(3, 1)).to_string()))
        .unwrap();
    assert_eq!(keys(&mut c), ["new"]);
    let causes: Vec<(String, RemovalCause)> = drained(&mut c)
        .into_iter()
        .map(|(k, _, cause)| (k, cause))
        .collect();
    use RemovalCause::*;
    assert_eq!(
        causes,
        [
            ("x".to_owned(), Expired),
            ("live".to_owned(), EvictedCount),
            ("y".to_owned(), Expired),
            ("live2".to_owned(), EvictedCount),
            ("z".to_owned(), Expired),
        ]
    );
}

#[test]
fn wit_write_never_evicts_the_key_being_written() {
    let clock = ManualClock::default();
    let e_small = entry_bytes(1, 10);
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(CACHE_OVERHEAD + e_small + entry_bytes(1, 200) - 1),
            ..logged()
        },
        &clock,
    );
    c.set("a", vec![0; 10]).unwrap();
    c.set("b", vec![0; 10]).unwrap();
    // "a" grows: "b" (now the LRU) must go, not "a" itself.
    c.set("a", vec![1; 200]).unwrap();
    assert_eq!(keys(&mut c), ["a"]);
    assert_eq!(
        drained(&mut c),
        [
            rm("b", &[0; 10], RemovalCause::EvictedSize),
            rm("a", &[0; 10], RemovalCause::Replaced)
        ]
    );
}

#[test]
fn wit_failed_call_changes_nothing() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(2048),
            max_items: Some(4),
            default_ttl: Some(100.0),
            ..logged()
        },
        &clock,
    );
    c.set("live", b"l".to_vec()).unwrap();
    c.set_with_expiry("exp", b"e".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    let all = ["live", "exp", "new"];
    let before = observe(&c, &all);
    let big = vec![0u8; 4096];
    let failures: Vec<(&str, Result<(), CacheError>)> = vec![
        ("set too large (live key)", c.set("live", big.clone())),
        ("set too large (expired key)", c.set("exp", big.clone())),
        ("set too large (new key)", c.set("new", big.clone())),
        (
            "bad ttl (expired key)",
            c.set_with_expiry("exp", b"x".to_vec(), Expiry::Ttl(-1.0)),
        ),
        (
            "NaN at (live key)",
            c.set_with_expiry("live", b"x".to_vec(), Expiry::At(f64::NAN)),
        ),
        (
            "set_ttl bad ttl (expired key)",
            c.set_ttl("exp", Some(f64::NAN)),
        ),
        ("set_ttl bad ttl (live key)", c.set_ttl("live", Some(-3.0))),
        ("expire_at NaN (expired key)", c.expire_at("exp", f64::NAN)),
        ("set_default_ttl", c.set_default_ttl(Some(f64::INFINITY))),
        ("change_byte_size", c.change_byte_size(Some("12X"))),
        ("set_max_size_bytes", c.set_max_size_bytes(Some(0))),
        ("change_max_items", c.change_max_items(Some(0))),
    ];
    for (what, r) in &failures {
        assert!(r.is_err(), "{what}: {r:?}");
    }
    assert_eq!(observe(&c, &all), before, "state after the failed calls");
    assert_eq!(c.config().max_size_bytes, Some(2048));
    assert_eq!(c.config().max_items, Some(4));
    assert_eq!(c.default_ttl(), Some(100.0));
    assert!(drained(&mut c).is_empty());
}

#[test]
fn wit_failed_set_default_changes_nothing() {
    // data-too-large: "The entry alone does not fit in the byte budget. The cache is unchanged."
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_size_bytes: Some(2048),
            ..logged()
        },
        &clock,
    );
    c.set_with_expiry("exp", b"e".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    let before = observe(&c, &["exp", "new"]);
    assert!(matches!(
        c.set_default("new", vec![0; 4096]),
        Err(CacheError::DataTooLarge { .. })
    ));
    assert_eq!(observe(&c, &["exp", "new"]), before, "absent key");
    assert!(matches!(
        c.set_default("exp", vec![0; 4096]),
        Err(CacheError::DataTooLarge { .. })
    ));
    assert_eq!(observe(&c, &["exp", "new"]), before, "expired key");
    assert!(drained(&mut c).is_empty());
}

#[test]
fn wit_removal_log_keeps_the_newest_records_and_counts_dropped_ones() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            removal_log_capacity: 3,
            ..Config::default()
        },
        &clock,
    );
    for k in ["a", "b", "c", "d", "e"] {
        c.set(k, k.as_bytes()).unwrap();
        c.delete(k);
    }
    assert_eq!(c.stats().removals_dropped, 2);
    let got: Vec<String> = c.drain_removals(2).into_iter().map(|r| r.key).collect();
    assert_eq!(got, ["c", "d"], "oldest first, up to max");
    let got: Vec<String> = c.drain_removals(10).into_iter().map(|r| r.key).collect();
    assert_eq!(got, ["e"]);
    assert!(c.drain_removals(10).is_empty());
    assert_eq!(c.drain_removals(0), []);
    assert_eq!(c.stats().removals_dropped, 2, "draining drops nothing");
}

#[test]
fn wit_removal_log_of_capacity_zero_records_nothing_and_drops_nothing() {
    let clock = ManualClock::default();
    let mut c = new_cache(Config::default(), &clock);
    for k in ["a", "b", "c"] {
        c.set(k, k.as_bytes()).unwrap();
        c.set(k, b"again".to_vec()).unwrap();
        c.delete(k);
    }
    assert!(c.drain_removals(u32::MAX).is_empty());
    let s = c.stats();
    assert_eq!((s.removals_dropped, s.removed, s.updates), (0, 3, 3));
}

#[test]
fn wit_stats_count_each_kind_of_event() {
    let clock = ManualClock::default();
    let mut c = new_cache(
        Config {
            max_items: Some(3),
            max_size_bytes: Some(CACHE_OVERHEAD + 4 * entry_bytes(1, 50)),
            removal_log_capacity: 2,
            ..Config::default()
        },
        &clock,
    );
    c.set("a", vec![0; 50]).unwrap(); // insert
    c.set("a", vec![1; 50]).unwrap(); // update
    c.get("a"); // hit
    c.get("z"); // miss
    c.peek("z"); // not a read
    c.set_default("a", vec![]).unwrap(); // hit
    c.set_default("b", vec![0; 50]).unwrap(); // miss + insert
    c.set("c", vec![0; 50]).unwrap(); // insert
    c.set("d", vec![0; 50]).unwrap(); // insert, evicts "a" for the count
    c.set("e", vec![0; 300]).unwrap(); // insert, evicts "b" for the count, "c" for the bytes
    c.set_with_expiry("f", vec![0; 1], Expiry::Ttl(1.0))
        .unwrap(); // insert, evicts "d" for the bytes
    clock.advance_secs(2.0);
    c.get("f"); // miss, expired
    c.delete("e"); // removed
    c.set("g", b"g".to_vec()).unwrap(); // insert
    c.pop("g"); // removed
    c.set("h", b"h".to_vec()).unwrap(); // insert
    c.clear(); // removed
    let expected = Stats {
        hits: 2,
        misses: 3,
        inserts: 8,
        updates: 1,
        removed: 3,
        evicted_size: 2,
        evicted_count: 2,
        expired: 1,
        // 9 records (1 replaced + 8 terminal) through a log of 2.
        removals_dropped: 7,
        listener_panics: 0,
    };
    assert_eq!(c.stats(), expected);
    c.reset_stats();
    assert_eq!(c.stats(), Stats::default());
}

#[test]
fn wit_clear_reports_every_entry_as_cleared_even_expired_ones() {
    let (mut c, clock) = plain();
    c.set("a", b"1".to_vec()).unwrap();
    c.set_with_expiry("b", b"2".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    c.clear();
    let mut got = drained(&mut c);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            rm("a", b"1", RemovalCause::Cleared),
            rm("b", b"2", RemovalCause::Cleared)
        ]
    );
    assert_eq!(c.is_expired("b"), None);
    assert_eq!(c.stats().removed, 2);
}

#[test]
fn wit_byte_size_is_never_above_max_size_bytes() {
    let clock = ManualClock::default();
    for limit in [1u64, 100, 511, 512, 513, 700, 1000, 1500, 4096] {
        let mut c = new_cache(
            Config {
                max_size_bytes: Some(limit),
                ..logged()
            },
            &clock,
        );
        for i in 0..40usize {
            let key = format!("k{}", i % 7);
            let _ = c.set(key.clone(), vec![i as u8; (i * 37) % 300]);
            if i % 5 == 0 {
                let _ = c.set_default(&key, vec![0; i * 11]);
            }
            assert!(c.byte_size() <= limit, "limit {limit}: {}", c.byte_size());
            c.check_invariants().unwrap();
        }
        c.set_max_size_bytes(Some(limit / 2 + 1)).unwrap();
        assert!(c.byte_size() <= limit / 2 + 1);
    }
}

#[test]
fn wit_expiry_at_in_the_past_stores_the_entry_already_expired() {
    let (mut c, clock) = plain();
    let past = clock.now().as_secs_f64() - 10.0;
    c.set_with_expiry("k", b"v".to_vec(), Expiry::At(past))
        .unwrap();
    assert_eq!(c.is_expired("k"), Some(true));
    assert_eq!(c.get("k"), None);
    assert!(matches!(
        c.set_with_expiry("n", b"v".to_vec(), Expiry::At(f64::NAN)),
        Err(CacheError::InvalidArgument(_))
    ));
    let future = clock.now().as_secs_f64() + 10.0;
    c.set_with_expiry("f", b"v".to_vec(), Expiry::At(future))
        .unwrap();
    assert_eq!(c.get_ttl("f").unwrap(), Some(10.0));
}

#[test]
fn wit_get_ttl_may_be_fractional() {
    let (mut c, clock) = plain();
    c.set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.set(Time::from_nanos(nanos(&clock) + 1));
    let ttl = c.get_ttl("k").unwrap().unwrap();
    assert!((ttl - 0.999_999_999).abs() < 1e-12, "{ttl}");
}

#[test]
fn wit_delete_reports_whether_a_live_key_was_removed() {
    let (mut c, clock) = plain();
    c.set("k", b"v".to_vec()).unwrap();
    assert!(c.delete("k"));
    assert!(!c.delete("k"));
    c.set_with_expiry("e", b"v".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    clock.advance_secs(2.0);
    assert!(!c.delete("e"), "an expired key is not live");
    assert_eq!(
        drained(&mut c),
        [
            rm("k", b"v", RemovalCause::Deleted),
            rm("e", b"v", RemovalCause::Expired)
        ]
    );
}
