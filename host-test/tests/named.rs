//! `faas:cache/named` (wit/named.wit) through the component: the instance is the scope. Each
//! test follows a sentence of the interface's `///` comments.

use faas_cache_host_test::{options, CacheError, EvictionPolicy, Guest, Options, RemovalCause};

fn sized(size: &str) -> Options {
    options().max_size(size)
}

#[test]
fn the_first_open_creates_and_a_later_open_returns_the_same_cache_with_its_entries() {
    let mut g = Guest::new();
    let a = g.open("users", &sized("1M"), EvictionPolicy::Lru).unwrap();
    g.set(a, "k", b"v").unwrap();
    assert_eq!(g.get(a, "k"), Some(b"v".to_vec()));
    // Dropping every handle leaves the cache and its entries for the next open.
    g.drop_dict(a);
    let b = g.open("users", &sized("1M"), EvictionPolicy::Lru).unwrap();
    assert_eq!(g.get(b, "k"), Some(b"v".to_vec()));
    assert_eq!(g.stats(b).hits, 2, "stats are the cache's");
    // Two handles at once reach one cache.
    let c = g.open("users", &sized("1M"), EvictionPolicy::Lru).unwrap();
    g.set(c, "k2", b"w").unwrap();
    assert_eq!(g.len(b), 2);
    // Names are compared byte for byte.
    let other = g.open("Users", &sized("1M"), EvictionPolicy::Lru).unwrap();
    assert_eq!(g.len(other), 0);
    assert_eq!(g.names(), ["users", "Users"]);
}

#[test]
fn a_later_open_applies_limits_and_default_ttl_but_keeps_policy_and_log_capacity() {
    let mut g = Guest::new();
    let first = options()
        .max_size("1M")
        .max_items(10)
        .default_ttl(30.0)
        .removal_log(100);
    let a = g.open("c", &first, EvictionPolicy::S3Fifo).unwrap();
    for i in 0..10 {
        g.set(a, &format!("k{i}"), b"v").unwrap();
    }
    // Item limit shrinks (evicting), byte limit and default TTL are removed.
    let later = Options {
        max_items: Some(4),
        ..options()
    };
    let b = g.open("c", &later, EvictionPolicy::Lru).unwrap();
    assert_eq!(g.len(b), 4);
    assert_eq!(g.max_items(b), Some(4));
    assert_eq!(g.max_size_bytes(b), None);
    assert_eq!(g.default_ttl(b), None);
    assert_eq!(g.policy_of(b), EvictionPolicy::S3Fifo);
    // The removal log is the cache's, created with capacity 100: it holds the 6 evictions.
    let removed = g.drain_removals(a, u32::MAX);
    assert_eq!(removed.len(), 6);
    assert!(removed
        .iter()
        .all(|r| r.cause == RemovalCause::EvictedCount));
    // A later open with the same options changes nothing.
    let c = g.open("c", &later, EvictionPolicy::Lru).unwrap();
    assert_eq!(g.len(c), 4);
}

#[test]
fn bad_names_and_bad_settings_create_and_change_nothing() {
    let mut g = Guest::new();
    let a = g
        .open("ok", &sized("1M").default_ttl(5.0), EvictionPolicy::Lru)
        .unwrap();
    g.set(a, "k", b"v").unwrap();
    let long = "x".repeat(256);
    let long_utf8 = "é".repeat(128);
    for name in [
        "",
        "a\0b",
        "line\nbreak",
        "\u{7f}",
        "c1\u{85}",
        "\u{9f}",
        &long,
        &long_utf8,
    ] {
        match g.open(name, &sized("1M"), EvictionPolicy::Lru) {
            Err(CacheError::InvalidArgument(m)) => assert!(m.contains("name"), "{m}"),
            other => panic!("{name:?}: {other:?}"),
        }
    }
    assert!(g
        .open(&"x".repeat(255), &sized("1M"), EvictionPolicy::Lru)
        .is_ok());
    assert!(g.open("\u{a0}", &sized("1M"), EvictionPolicy::Lru).is_ok());
    // A bad setting on a later open changes nothing, not even the good settings beside it.
    let bad = Options {
        max_items: Some(1),
        max_size: Some("12X".into()),
        ..options()
    };
    assert!(matches!(
        g.open("ok", &bad, EvictionPolicy::Lru),
        Err(CacheError::InvalidArgument(_))
    ));
    let nan = Options {
        default_ttl: Some(f64::NAN),
        ..sized("1K")
    };
    assert!(matches!(
        g.open("ok", &nan, EvictionPolicy::Lru),
        Err(CacheError::InvalidArgument(_))
    ));
    assert!(matches!(
        g.open("new", &nan, EvictionPolicy::Lru),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(g.max_size_bytes(a), Some(1 << 20));
    assert_eq!(g.default_ttl(a), Some(5.0));
    assert_eq!(g.len(a), 1);
    // The component sets no ceiling: no byte limit is fine.
    assert!(g.open("unbounded", &options(), EvictionPolicy::Lru).is_ok());
    assert_eq!(g.names(), ["ok", &"x".repeat(255), "\u{a0}", "unbounded"]);
}

#[test]
fn tick_purges_named_caches_and_owned_caches_alike() {
    let mut g = Guest::new();
    let named = g
        .open("n", &sized("1M").default_ttl(1.0), EvictionPolicy::Lru)
        .unwrap();
    let own = g.create(&sized("1M").default_ttl(1.0)).unwrap();
    g.set(named, "a", b"1").unwrap();
    g.set(own, "b", b"2").unwrap();
    g.drop_dict(named);
    g.advance(2.0);
    assert_eq!(g.tick(), 2);
    let again = g.open("n", &sized("1M"), EvictionPolicy::Lru).unwrap();
    assert_eq!(g.stats(again).expired, 1);
}

#[test]
fn many_names_and_handles_never_trap() {
    let mut g = Guest::new();
    for i in 0..2_000 {
        let d = g
            .open(
                &format!("cache-{}", i % 500),
                &sized("64K"),
                EvictionPolicy::Lru,
            )
            .unwrap();
        g.set(d, "k", &[i as u8; 100]).unwrap();
        if i % 3 == 0 {
            g.drop_dict(d);
        }
    }
    assert_eq!(g.names().len(), 500);
}

#[test]
fn named_caches_survive_a_memory_cap_without_trapping() {
    let mut g = Guest::with_memory_limit(4 << 20);
    for i in 0..64 {
        let d = g
            .open(&format!("n{i}"), &sized("1M"), EvictionPolicy::S3Fifo)
            .unwrap();
        for k in 0..64 {
            let _ = g.set(d, &format!("k{k}"), &[7; 2048]);
        }
        g.drop_dict(d);
    }
    assert_eq!(g.names().len(), 64);
}
