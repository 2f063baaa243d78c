//! Every function of wit/cache.wit driven through wasmtime with a simulated clock. Test names
//! follow the points of `docs/semantics.md` (S*, T*, B*, H*, O*, P*) and the contract comments.

use faas_cache_host_test::{
    options, BatchError, CacheError, Dict, Expiry, Guest, Options, RemovalCause, START_SECONDS,
};

fn with(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = options();
    f(&mut o);
    o
}

fn cache(g: &mut Guest, f: impl FnOnce(&mut Options)) -> Dict {
    g.create(&with(f)).expect("create")
}

fn logged(g: &mut Guest) -> Dict {
    cache(g, |o| o.removal_log_capacity = 100)
}

fn causes(g: &mut Guest, d: Dict) -> Vec<(String, RemovalCause)> {
    g.drain_removals(d, u32::MAX)
        .into_iter()
        .map(|r| (r.key, r.cause))
        .collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn s1_s4_keys_values_items_in_lru_order_and_reversed() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    for k in ["a", "b", "c"] {
        g.set(d, k, k.as_bytes()).unwrap();
    }
    assert_eq!(g.keys(d), s(&["a", "b", "c"]));
    assert_eq!(g.keys_reversed(d), s(&["c", "b", "a"]));
    assert_eq!(
        g.values(d),
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(g.items(d)[1], ("b".to_string(), b"b".to_vec()));
    assert_eq!(
        g.keys(d),
        s(&["a", "b", "c"]),
        "listing does not change the order"
    );
}

#[test]
fn s2_get_and_set_default_hit_move_to_mru_but_peek_and_contains_do_not() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    for k in ["a", "b", "c"] {
        g.set(d, k, b"v").unwrap();
    }
    assert_eq!(g.get(d, "a"), Some(b"v".to_vec()));
    assert_eq!(g.keys(d), s(&["b", "c", "a"]));
    assert_eq!(g.set_default(d, "b", b"other"), Ok(b"v".to_vec()));
    assert_eq!(g.keys(d), s(&["c", "a", "b"]));
    assert_eq!(g.peek(d, "c"), Some(b"v".to_vec()));
    assert!(g.contains(d, "c"));
    assert_eq!(g.keys(d), s(&["c", "a", "b"]));
    let st = g.stats(d);
    assert_eq!(
        (st.hits, st.misses),
        (2, 0),
        "peek and contains change no stats"
    );
}

#[test]
fn s3_overwrite_replaces_value_resets_expiry_moves_to_mru_and_reports_replaced() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    g.set_with_expiry(d, "a", b"old", Expiry::Ttl(5.0)).unwrap();
    g.set(d, "b", b"x").unwrap();
    g.set(d, "a", b"new").unwrap();
    assert_eq!(g.keys(d), s(&["b", "a"]));
    assert_eq!(
        g.get_ttl(d, "a"),
        Ok(None),
        "default TTL none: overwrite clears the old expiry"
    );
    let removals = g.drain_removals(d, 10);
    assert_eq!(removals.len(), 1);
    assert_eq!(
        (
            removals[0].key.as_str(),
            removals[0].value.as_slice(),
            removals[0].cause
        ),
        ("a", &b"old"[..], RemovalCause::Replaced)
    );
    let st = g.stats(d);
    assert_eq!((st.inserts, st.updates, st.removed), (2, 1, 0));
    assert_eq!(g.len(d), 2);
}

#[test]
fn s5_move_to_end_both_ways_and_key_not_found() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    for k in ["a", "b", "c"] {
        g.set(d, k, b"v").unwrap();
    }
    g.move_to_end(d, "a", true).unwrap();
    assert_eq!(g.keys(d), s(&["b", "c", "a"]));
    g.move_to_end(d, "a", false).unwrap();
    assert_eq!(g.keys(d), s(&["a", "b", "c"]));
    assert_eq!(g.move_to_end(d, "zz", true), Err(CacheError::KeyNotFound));
    g.set_with_expiry(d, "t", b"v", Expiry::Ttl(1.0)).unwrap();
    g.advance(2.0);
    assert_eq!(g.move_to_end(d, "t", true), Err(CacheError::KeyNotFound));
    assert_eq!(
        g.is_expired(d, "t"),
        None,
        "the expired key was removed by the call"
    );
    assert_eq!(causes(&mut g, d), vec![("t".into(), RemovalCause::Expired)]);
}

#[test]
fn s6_pop_item_last_and_first_and_empty() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    assert_eq!(g.pop_item(d, true), None);
    for k in ["a", "b", "c"] {
        g.set(d, k, k.as_bytes()).unwrap();
    }
    assert_eq!(g.pop_item(d, true), Some(("c".into(), b"c".to_vec())));
    assert_eq!(g.pop_item(d, false), Some(("a".into(), b"a".to_vec())));
    assert_eq!(g.keys(d), s(&["b"]));
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("c".into(), RemovalCause::Popped),
            ("a".into(), RemovalCause::Popped)
        ]
    );
    assert_eq!(g.stats(d).removed, 2);
}

#[test]
fn s6_pop_item_skips_expired_entries_and_removes_them() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    g.set_with_expiry(d, "old", b"1", Expiry::Ttl(1.0)).unwrap();
    g.set(d, "live", b"2").unwrap();
    g.advance(2.0);
    assert_eq!(g.pop_item(d, false), Some(("live".into(), b"2".to_vec())));
    assert_eq!(g.pop_item(d, false), None);
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("old".into(), RemovalCause::Expired),
            ("live".into(), RemovalCause::Popped)
        ]
    );
}

#[test]
fn t1_ttl_seconds_fractions_and_default_ttl_for_later_writes() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| o.default_ttl = Some(10.0));
    assert_eq!(g.default_ttl(d), Some(10.0));
    g.set(d, "a", b"v").unwrap();
    assert_eq!(g.get_ttl(d, "a"), Ok(Some(10.0)));
    g.set_with_expiry(d, "b", b"v", Expiry::Ttl(0.25)).unwrap();
    assert_eq!(g.get_ttl(d, "b"), Ok(Some(0.25)));
    g.set_default_ttl(d, Some(30.0)).unwrap();
    assert_eq!(
        g.get_ttl(d, "a"),
        Ok(Some(10.0)),
        "existing entries keep their TTL"
    );
    g.set(d, "c", b"v").unwrap();
    assert_eq!(g.get_ttl(d, "c"), Ok(Some(30.0)));
    g.set_default_ttl(d, None).unwrap();
    g.set(d, "e", b"v").unwrap();
    assert_eq!(g.get_ttl(d, "e"), Ok(None));
    g.set_with_expiry(d, "n", b"v", Expiry::Never).unwrap();
    assert_eq!(g.get_ttl(d, "n"), Ok(None));
    g.set_default_ttl(d, Some(5.0)).unwrap();
    g.set_with_expiry(d, "dflt", b"v", Expiry::DefaultTtl)
        .unwrap();
    assert_eq!(g.get_ttl(d, "dflt"), Ok(Some(5.0)));
}

#[test]
fn t1_bad_ttls_are_invalid_arguments_and_change_nothing() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set(d, "a", b"v").unwrap();
    for bad in [f64::NAN, -1.0, -0.001, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(
            matches!(
                g.set_with_expiry(d, "a", b"new", Expiry::Ttl(bad)),
                Err(CacheError::InvalidArgument(_))
            ),
            "{bad}"
        );
        assert!(
            matches!(
                g.set_with_expiry(d, "b", b"new", Expiry::Ttl(bad)),
                Err(CacheError::InvalidArgument(_))
            ),
            "{bad}"
        );
        assert!(
            matches!(
                g.set_ttl(d, "a", Some(bad)),
                Err(CacheError::InvalidArgument(_))
            ),
            "{bad}"
        );
        assert!(
            matches!(
                g.set_default_ttl(d, Some(bad)),
                Err(CacheError::InvalidArgument(_))
            ),
            "{bad}"
        );
        let mut o = options();
        o.default_ttl = Some(bad);
        assert!(
            matches!(g.create(&o), Err(CacheError::InvalidArgument(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        g.set_with_expiry(d, "a", b"new", Expiry::At(f64::NAN)),
        Err(CacheError::InvalidArgument(_))
    ));
    assert!(matches!(
        g.expire_at(d, "a", f64::NAN),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(g.peek(d, "a"), Some(b"v".to_vec()));
    assert_eq!(g.get_ttl(d, "a"), Ok(None));
    assert_eq!(g.keys(d), s(&["a"]));
    assert_eq!(g.default_ttl(d), None);
}

#[test]
fn t2_ttl_zero_lives_for_its_instant_and_expires_a_nanosecond_later() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    g.set_with_expiry(d, "z", b"v", Expiry::Ttl(0.0)).unwrap();
    assert_eq!(g.is_expired(d, "z"), Some(false));
    assert_eq!(g.get(d, "z"), Some(b"v".to_vec()));
    assert_eq!(g.get_ttl(d, "z"), Ok(Some(0.0)));
    g.advance_nanos(1);
    assert_eq!(g.is_expired(d, "z"), Some(true));
    assert_eq!(g.get(d, "z"), None);
    assert_eq!(g.is_expired(d, "z"), None);
}

#[test]
fn t2_expiry_is_strictly_after_the_deadline() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set_with_expiry(d, "a", b"v", Expiry::Ttl(10.0)).unwrap();
    g.advance(10.0);
    assert_eq!(g.get(d, "a"), Some(b"v".to_vec()), "E == now is live");
    g.advance_nanos(1);
    assert_eq!(g.get(d, "a"), None);
}

#[test]
fn t3_set_ttl_and_expire_at_keep_lru_order() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set(d, "a", b"v").unwrap();
    g.set(d, "b", b"v").unwrap();
    g.set_ttl(d, "a", Some(120.0)).unwrap();
    assert_eq!(g.get_ttl(d, "a"), Ok(Some(120.0)));
    g.expire_at(d, "a", START_SECONDS as f64 + 5.0).unwrap();
    assert_eq!(g.get_ttl(d, "a"), Ok(Some(5.0)));
    assert_eq!(g.keys(d), s(&["a", "b"]));
    g.set_ttl(d, "a", None).unwrap();
    assert_eq!(g.get_ttl(d, "a"), Ok(None));
    assert_eq!(
        g.set_ttl(d, "missing", Some(1.0)),
        Err(CacheError::KeyNotFound)
    );
    assert_eq!(g.expire_at(d, "missing", 1.0), Err(CacheError::KeyNotFound));
}

#[test]
fn t3_expire_at_in_the_past_expires_the_key_and_at_stores_already_expired() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set(d, "a", b"v").unwrap();
    g.expire_at(d, "a", START_SECONDS as f64 - 1.0).unwrap();
    assert_eq!(g.is_expired(d, "a"), Some(true));
    assert_eq!(g.get(d, "a"), None);
    g.set_with_expiry(d, "past", b"v", Expiry::At(1.0)).unwrap();
    assert_eq!(g.is_expired(d, "past"), Some(true));
    assert!(!g.contains(d, "past"));
    assert_eq!(g.len(d), 0);
    for extreme in [
        f64::MAX,
        -f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
    ] {
        g.set_with_expiry(d, "x", b"v", Expiry::At(extreme))
            .unwrap();
        g.set(d, "y", b"v").unwrap();
        g.expire_at(d, "y", extreme).unwrap();
    }
}

#[test]
fn t4_get_ttl_missing_or_expired_is_key_not_found() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    assert_eq!(g.get_ttl(d, "nope"), Err(CacheError::KeyNotFound));
    g.set_with_expiry(d, "a", b"v", Expiry::Ttl(1.0)).unwrap();
    g.set(d, "b", b"v").unwrap();
    g.advance(0.5);
    assert_eq!(g.get_ttl(d, "a"), Ok(Some(0.5)));
    assert_eq!(g.keys(d), s(&["a", "b"]), "get-ttl does not touch");
    g.advance(1.0);
    assert_eq!(g.get_ttl(d, "a"), Err(CacheError::KeyNotFound));
    assert_eq!(g.is_expired(d, "a"), None);
    assert_eq!(g.stats(d).expired, 1);
}

#[test]
fn t5_is_expired_is_tri_state_and_never_removes() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    assert_eq!(g.is_expired(d, "a"), None);
    g.set_with_expiry(d, "a", b"v", Expiry::Ttl(1.0)).unwrap();
    assert_eq!(g.is_expired(d, "a"), Some(false));
    g.advance(2.0);
    for _ in 0..3 {
        assert_eq!(g.is_expired(d, "a"), Some(true), "still stored");
    }
    assert_eq!(g.get(d, "a"), None);
    assert_eq!(g.is_expired(d, "a"), None);
}

#[test]
fn t7_byte_size_never_counts_expired_entries_as_describe_does_not() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    let empty = g.byte_size(d);
    g.set_with_expiry(d, "a", b"v", Expiry::Ttl(1.0)).unwrap();
    assert!(g.byte_size(d) > empty);
    g.advance(2.0);
    assert_eq!(g.is_expired(d, "a"), Some(true), "present, not purged yet");
    assert_eq!(
        g.byte_size(d),
        empty,
        "yet not counted: byte-size purges first"
    );
    assert!(g
        .describe(d)
        .contains(&format!("current_memory_bytes={empty}")));
    assert_eq!(g.is_expired(d, "a"), None, "purged");
}

#[test]
fn t6_reading_an_expired_key_is_a_miss_and_removes_it() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    g.set_with_expiry(d, "a", b"v", Expiry::Ttl(1.0)).unwrap();
    g.advance(1.5);
    assert_eq!(g.get(d, "a"), None);
    let st = g.stats(d);
    assert_eq!((st.hits, st.misses, st.expired), (0, 1, 1));
    assert_eq!(g.drain_removals(d, 10)[0].value, b"v".to_vec());
    assert_eq!(g.byte_size(d), 512);
}

#[test]
fn t7_len_contains_listings_and_describe_never_show_expired_entries() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set_with_expiry(d, "gone", b"v", Expiry::Ttl(1.0))
        .unwrap();
    g.set(d, "kept", b"v").unwrap();
    g.advance(5.0);
    assert!(!g.contains(d, "gone"));
    assert_eq!(g.peek(d, "gone"), None);
    assert_eq!(g.keys(d), s(&["kept"]));
    assert_eq!(g.keys_reversed(d), s(&["kept"]));
    assert_eq!(g.values(d).len(), 1);
    assert_eq!(g.items(d).len(), 1);
    assert_eq!(g.len(d), 1);
    assert!(
        g.describe(d).contains("current_items=1"),
        "{}",
        g.describe(d)
    );
}

#[test]
fn t8_pop_missing_or_expired_is_none_else_removes_and_returns() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    assert_eq!(g.pop(d, "nope"), None);
    g.set(d, "a", b"1").unwrap();
    g.set_with_expiry(d, "b", b"2", Expiry::Ttl(1.0)).unwrap();
    g.advance(2.0);
    assert_eq!(g.pop(d, "b"), None);
    assert_eq!(g.pop(d, "a"), Some(b"1".to_vec()));
    assert_eq!(g.len(d), 0);
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("b".into(), RemovalCause::Expired),
            ("a".into(), RemovalCause::Popped)
        ]
    );
}

#[test]
fn b1_max_size_forms_and_errors() {
    let mut g = Guest::new();
    for (form, bytes) in [
        ("1048576", 1_048_576u64),
        ("64K", 65_536),
        ("64k", 65_536),
        ("0.5M", 524_288),
        ("128M", 134_217_728),
        ("1G", 1 << 30),
        ("2T", 2 << 40),
        ("18446744073709551615", u64::MAX),
    ] {
        let d = cache(&mut g, |o| o.max_size = Some(form.into()));
        assert_eq!(g.max_size_bytes(d), Some(bytes), "{form}");
    }
    for bad in [
        "",
        "0",
        "-1M",
        "12X",
        "1e400G",
        "abc",
        "16777216T",
        "99999999999999999999",
    ] {
        let e = g
            .create(&with(|o| o.max_size = Some(bad.into())))
            .unwrap_err();
        assert!(
            matches!(e, CacheError::InvalidArgument(ref m) if !m.is_empty()),
            "{bad:?}: {e:?}"
        );
    }
    let d = cache(&mut g, |_| {});
    assert_eq!(g.max_size_bytes(d), None);
    assert!(matches!(
        g.change_byte_size(d, Some("12X")),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(g.max_size_bytes(d), None, "a failed change changes nothing");
}

#[test]
fn b2_byte_size_is_overhead_plus_entries_and_never_above_the_limit() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| o.max_size = Some("4K".into()));
    let empty = g.byte_size(d);
    assert_eq!(empty, faas_cache::accounting::CACHE_OVERHEAD);
    g.set(d, "key", &[1; 100]).unwrap();
    assert_eq!(
        g.byte_size(d),
        empty + faas_cache::accounting::entry_bytes(3, 100)
    );
    for i in 0..200 {
        g.set(d, &format!("k{i}"), &vec![0; i * 7 % 300]).unwrap();
        assert!(g.byte_size(d) <= 4096);
    }
}

#[test]
fn b3_entry_larger_than_the_budget_is_data_too_large_naming_both_sizes_and_changes_nothing() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    g.change_byte_size(d, Some("1K")).unwrap();
    g.set(d, "small", b"v").unwrap();
    g.set(d, "huge", b"old").unwrap();
    let before = (g.items(d), g.byte_size(d), g.stats(d));
    let e = g.set(d, "huge", &[0; 2000]).unwrap_err();
    let CacheError::DataTooLarge(excess) = e else {
        panic!("{e:?}")
    };
    assert_eq!(
        excess.entry_bytes,
        faas_cache::accounting::entry_bytes(4, 2000)
    );
    assert_eq!(
        excess.available_bytes,
        1024 - faas_cache::accounting::CACHE_OVERHEAD
    );
    assert!(matches!(
        g.set_default(d, "other", &[0; 2000]),
        Err(CacheError::DataTooLarge(_))
    ));
    assert_eq!((g.items(d), g.byte_size(d), g.stats(d)), before);
    assert!(g.drain_removals(d, 10).is_empty());
}

#[test]
fn b4_writes_evict_lru_expired_first_and_change_byte_size_trims() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    let entry = faas_cache::accounting::entry_bytes(2, 100);
    let budget = faas_cache::accounting::CACHE_OVERHEAD + 4 * entry;
    g.change_byte_size(d, Some(&budget.to_string())).unwrap();
    g.set(d, "k0", &[0; 100]).unwrap();
    g.set_with_expiry(d, "k1", &[1; 100], Expiry::Ttl(1.0))
        .unwrap();
    g.set(d, "k2", &[2; 100]).unwrap();
    g.set(d, "k3", &[3; 100]).unwrap();
    g.advance(2.0);
    g.set(d, "k4", &[4; 100]).unwrap();
    assert_eq!(
        g.keys(d),
        s(&["k0", "k2", "k3", "k4"]),
        "the expired k1 went first, not the LRU k0"
    );
    g.set(d, "k5", &[5; 100]).unwrap();
    assert_eq!(g.keys(d), s(&["k2", "k3", "k4", "k5"]));
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("k1".into(), RemovalCause::Expired),
            ("k0".into(), RemovalCause::EvictedSize)
        ]
    );
    g.change_byte_size(d, Some(&(budget - entry).to_string()))
        .unwrap();
    assert_eq!(g.keys(d), s(&["k3", "k4", "k5"]));
    g.change_byte_size(d, None).unwrap();
    assert_eq!(g.max_size_bytes(d), None);
    let st = g.stats(d);
    assert_eq!((st.evicted_size, st.expired), (2, 1));
}

#[test]
fn b4_overwrite_with_a_larger_value_evicts_others_not_itself() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    let budget =
        faas_cache::accounting::CACHE_OVERHEAD + 3 * faas_cache::accounting::entry_bytes(1, 100);
    g.change_byte_size(d, Some(&budget.to_string())).unwrap();
    for k in ["a", "b", "c"] {
        g.set(d, k, &[0; 100]).unwrap();
    }
    g.set(d, "a", &[1; 180]).unwrap();
    assert_eq!(g.keys(d), s(&["c", "a"]));
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("b".into(), RemovalCause::EvictedSize),
            ("a".into(), RemovalCause::Replaced)
        ]
    );
}

#[test]
fn b5_item_limit_evicts_lru_after_purging_expired_and_overwrite_never_evicts() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.max_items = Some(3);
        o.removal_log_capacity = 10;
    });
    g.set(d, "a", b"1").unwrap();
    g.set_with_expiry(d, "b", b"2", Expiry::Ttl(1.0)).unwrap();
    g.set(d, "c", b"3").unwrap();
    g.set(d, "a", b"1b").unwrap();
    assert_eq!(g.len(d), 3, "overwrite at the limit evicts nothing");
    g.advance(2.0);
    g.set(d, "d", b"4").unwrap();
    assert_eq!(g.keys(d), s(&["c", "a", "d"]));
    g.set(d, "e", b"5").unwrap();
    assert_eq!(g.keys(d), s(&["a", "d", "e"]));
    let c = causes(&mut g, d);
    assert_eq!(
        c[1..],
        [
            ("b".into(), RemovalCause::Expired),
            ("c".into(), RemovalCause::EvictedCount)
        ]
    );
    g.change_max_items(d, Some(1)).unwrap();
    assert_eq!(g.keys(d), s(&["e"]));
    assert_eq!(g.max_items(d), Some(1));
    assert!(matches!(
        g.change_max_items(d, Some(0)),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(g.max_items(d), Some(1));
    g.change_max_items(d, None).unwrap();
    assert_eq!(g.max_items(d), None);
    assert!(matches!(
        g.create(&with(|o| o.max_items = Some(0))),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(g.stats(d).evicted_count, 3);
}

#[test]
fn h1_every_terminal_removal_is_recorded_with_its_cause_and_value() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.removal_log_capacity = 100;
        o.max_items = Some(10);
    });
    g.set(d, "del", b"1").unwrap();
    g.set(d, "pop", b"2").unwrap();
    g.set(d, "pi", b"3").unwrap();
    assert!(g.delete(d, "del"));
    assert!(!g.delete(d, "del"));
    g.pop(d, "pop");
    g.pop_item(d, true);
    g.set_with_expiry(d, "exp", b"4", Expiry::Ttl(1.0)).unwrap();
    g.advance(2.0);
    assert_eq!(g.purge_expired(d), 1);
    g.set(d, "cl", b"5").unwrap();
    g.clear(d);
    let r = g.drain_removals(d, 100);
    let got: Vec<_> = r
        .iter()
        .map(|r| (r.key.as_str(), r.value.as_slice(), r.cause))
        .collect();
    assert_eq!(
        got,
        vec![
            ("del", &b"1"[..], RemovalCause::Deleted),
            ("pop", &b"2"[..], RemovalCause::Popped),
            ("pi", &b"3"[..], RemovalCause::Popped),
            ("exp", &b"4"[..], RemovalCause::Expired),
            ("cl", &b"5"[..], RemovalCause::Cleared),
        ]
    );
    let st = g.stats(d);
    assert_eq!((st.removed, st.expired), (4, 1));
}

#[test]
fn h2_removal_log_keeps_the_newest_and_counts_the_dropped() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| o.removal_log_capacity = 2);
    for k in ["a", "b", "c", "d"] {
        g.set(d, k, b"v").unwrap();
        g.delete(d, k);
    }
    let keys: Vec<_> = g.drain_removals(d, 10).into_iter().map(|r| r.key).collect();
    assert_eq!(keys, s(&["c", "d"]));
    assert_eq!(g.stats(d).removals_dropped, 2);
    let none = cache(&mut g, |o| o.removal_log_capacity = 0);
    g.set(none, "a", b"v").unwrap();
    g.delete(none, "a");
    assert!(g.drain_removals(none, 10).is_empty());
}

#[test]
fn a_large_removal_log_drains_in_several_calls_without_a_trap() {
    // 48 MiB of records in the log: one call may copy at most 128 MiB out (wasmtime), so a
    // call returns at most 16 MiB of them, oldest first, and the rest stay for the next calls.
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.max_size = Some("64M".into());
        o.removal_log_capacity = 1000;
    });
    let value = vec![7u8; 1 << 20];
    for i in 0..48 {
        g.set(d, &format!("k{i:02}"), &value).unwrap();
        g.delete(d, &format!("k{i:02}"));
    }
    let mut drained = Vec::new();
    let mut calls = 0;
    loop {
        let batch = g.drain_removals(d, u32::MAX);
        if batch.is_empty() {
            break;
        }
        let bytes: usize = batch.iter().map(|r| r.key.len() + r.value.len()).sum();
        assert!(bytes <= 16 << 20, "{bytes} bytes in one call");
        drained.extend(batch.into_iter().map(|r| r.key));
        calls += 1;
    }
    assert!(calls >= 3, "{calls} calls");
    let want: Vec<String> = (0..48).map(|i| format!("k{i:02}")).collect();
    assert_eq!(drained, want);
    assert_eq!(g.stats(d).removals_dropped, 0);
}

#[test]
fn drain_removals_takes_at_most_max_oldest_first() {
    let mut g = Guest::new();
    let d = logged(&mut g);
    for k in ["a", "b", "c"] {
        g.set(d, k, b"v").unwrap();
        g.delete(d, k);
    }
    assert_eq!(g.drain_removals(d, 0).len(), 0);
    assert_eq!(
        g.drain_removals(d, 2)
            .iter()
            .map(|r| r.key.clone())
            .collect::<Vec<_>>(),
        s(&["a", "b"])
    );
    assert_eq!(g.drain_removals(d, 2).len(), 1);
}

#[test]
fn o1_set_default_returns_the_live_value_or_stores_the_default() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| o.default_ttl = Some(5.0));
    assert_eq!(g.set_default(d, "k", b"default"), Ok(b"default".to_vec()));
    assert_eq!(g.set_default(d, "k", b"other"), Ok(b"default".to_vec()));
    assert_eq!(g.get_ttl(d, "k"), Ok(Some(5.0)));
    g.advance(6.0);
    assert_eq!(g.set_default(d, "k", b"fresh"), Ok(b"fresh".to_vec()));
    let st = g.stats(d);
    assert_eq!((st.hits, st.misses, st.inserts, st.expired), (1, 2, 2, 1));
}

#[test]
fn o2_clear_reports_every_entry_as_cleared_and_keeps_settings_and_stats() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.removal_log_capacity = 10;
        o.max_items = Some(5);
        o.default_ttl = Some(60.0);
    });
    g.set(d, "a", b"1").unwrap();
    g.set(d, "b", b"2").unwrap();
    g.get(d, "a");
    g.clear(d);
    assert_eq!(g.len(d), 0);
    assert_eq!(g.byte_size(d), 512);
    assert_eq!(
        causes(&mut g, d),
        vec![
            ("b".into(), RemovalCause::Cleared),
            ("a".into(), RemovalCause::Cleared)
        ]
    );
    assert_eq!((g.max_items(d), g.default_ttl(d)), (Some(5), Some(60.0)));
    let st = g.stats(d);
    assert_eq!((st.hits, st.removed), (1, 2));
}

#[test]
fn o3_snapshot_restores_in_another_instance_keeping_order_settings_and_absolute_expiry() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.default_ttl = Some(100.0);
        o.max_size = Some("1M".into());
        o.max_items = Some(50);
        o.removal_log_capacity = 7;
    });
    g.set(d, "a", b"1").unwrap();
    g.set_with_expiry(d, "b", b"2", Expiry::Ttl(10.0)).unwrap();
    g.set_with_expiry(d, "c", b"3", Expiry::Never).unwrap();
    g.get(d, "a");
    let snap = g.snapshot(d);

    let mut other = Guest::new();
    other.advance(4.0);
    let r = other.restore(&snap).unwrap();
    assert_eq!(other.keys(r), s(&["b", "c", "a"]));
    assert_eq!(other.get_ttl(r, "b"), Ok(Some(6.0)), "absolute expiry kept");
    assert_eq!(other.get_ttl(r, "a"), Ok(Some(96.0)));
    assert_eq!(other.get_ttl(r, "c"), Ok(None));
    assert_eq!(
        (
            other.default_ttl(r),
            other.max_size_bytes(r),
            other.max_items(r)
        ),
        (Some(100.0), Some(1 << 20), Some(50))
    );
    assert_eq!(other.byte_size(r), g.byte_size(d));
    other.advance(7.0);
    let later = other.restore(&snap).unwrap();
    assert_eq!(
        other.keys(later),
        s(&["c", "a"]),
        "restore drops what expired meanwhile"
    );
    assert_eq!(
        other.stats(later),
        faas_cache_host_test::Stats {
            hits: 0,
            misses: 0,
            inserts: 0,
            updates: 0,
            removed: 0,
            evicted_size: 0,
            evicted_count: 0,
            expired: 0,
            removals_dropped: 0
        }
    );
}

#[test]
fn o3_restore_rejects_truncated_corrupt_and_newer_snapshots() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set(d, "key", b"value").unwrap();
    let snap = g.snapshot(d);
    for cut in 0..snap.len() {
        assert!(
            matches!(g.restore(&snap[..cut]), Err(CacheError::CorruptSnapshot(_))),
            "cut at {cut}"
        );
    }
    let mut newer = snap.clone();
    newer[4] = 9;
    assert!(
        matches!(g.restore(&newer), Err(CacheError::CorruptSnapshot(ref m)) if m.contains("version"))
    );
    let mut trailing = snap.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(
        g.restore(&trailing),
        Err(CacheError::CorruptSnapshot(_))
    ));
    assert!(matches!(
        g.restore(b"not a snapshot at all"),
        Err(CacheError::CorruptSnapshot(_))
    ));
    assert_eq!(g.keys(d), s(&["key"]), "the source cache is untouched");
}

#[test]
fn o4_describe_shows_settings_and_current_bytes_and_items() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| {
        o.default_ttl = Some(10.0);
        o.max_size = Some("128M".into());
        o.max_items = Some(10);
    });
    g.set(d, "foo", b"bar").unwrap();
    let line = g.describe(d);
    let bytes = g.byte_size(d);
    assert_eq!(line, format!("FaaSCacheDict(default_ttl=10, max_memory=128M, max_items=10, current_memory_bytes={bytes}, current_items=1)"));
    let none = cache(&mut g, |_| {});
    assert!(g
        .describe(none)
        .contains("default_ttl=None, max_memory=None, max_items=None"));
}

#[test]
fn p1_tick_purges_every_live_cache_of_the_instance() {
    let mut g = Guest::new();
    let a = cache(&mut g, |_| {});
    let b = cache(&mut g, |_| {});
    let dropped = cache(&mut g, |_| {});
    for (d, n) in [(a, 3), (b, 2), (dropped, 4)] {
        for i in 0..n {
            g.set_with_expiry(d, &format!("k{i}"), b"v", Expiry::Ttl(1.0))
                .unwrap();
        }
        g.set(d, "forever", b"v").unwrap();
    }
    g.drop_dict(dropped);
    assert_eq!(g.tick(), 0);
    g.advance(2.0);
    assert_eq!(g.tick(), 5);
    assert_eq!(g.tick(), 0);
    assert_eq!((g.is_expired(a, "k0"), g.len(a), g.len(b)), (None, 1, 1));
    assert_eq!(g.stats(a).expired, 3);
}

#[test]
fn p1_purge_expired_counts_this_cache_only() {
    let mut g = Guest::new();
    let a = cache(&mut g, |_| {});
    let b = cache(&mut g, |_| {});
    g.set_with_expiry(a, "x", b"v", Expiry::Ttl(1.0)).unwrap();
    g.set_with_expiry(b, "y", b"v", Expiry::Ttl(1.0)).unwrap();
    g.advance(1.5);
    assert_eq!(g.purge_expired(a), 1);
    assert_eq!(g.purge_expired(a), 0);
    assert_eq!(g.is_expired(b, "y"), Some(true));
}

#[test]
fn stats_count_reads_writes_and_reset() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.get(d, "missing");
    g.set(d, "a", b"1").unwrap();
    g.set(d, "a", b"2").unwrap();
    g.get(d, "a");
    g.get_many(d, &s(&["a", "nope"]));
    let st = g.stats(d);
    assert_eq!((st.hits, st.misses, st.inserts, st.updates), (2, 2, 1, 1));
    g.reset_stats(d);
    assert_eq!(g.stats(d).hits, 0);
    assert_eq!(g.len(d), 1, "reset-stats keeps the entries");
}

#[test]
fn batch_calls_get_many_set_many_delete_many() {
    let mut g = Guest::new();
    let d = cache(&mut g, |o| o.max_size = Some("1K".into()));
    let entries = vec![
        ("a".to_string(), b"1".to_vec()),
        ("b".to_string(), b"2".to_vec()),
    ];
    g.set_many(d, &entries).unwrap();
    assert_eq!(
        g.get_many(d, &s(&["b", "zz", "a"])),
        vec![Some(b"2".to_vec()), None, Some(b"1".to_vec())]
    );
    assert_eq!(g.keys(d), s(&["b", "a"]), "get-many touches in order");
    let failing = vec![
        ("c".to_string(), b"3".to_vec()),
        ("big".to_string(), vec![0; 4096]),
        ("d".to_string(), b"4".to_vec()),
    ];
    let err = g.set_many(d, &failing).unwrap_err();
    assert!(
        matches!(
            err,
            BatchError {
                index: 1,
                error: CacheError::DataTooLarge(_)
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        g.keys(d),
        s(&["b", "a", "c"]),
        "entries before the failure were written, the rest not"
    );
    assert_eq!(g.delete_many(d, &s(&["a", "zz", "c", "a"])), 2);
    assert_eq!(g.keys(d), s(&["b"]));
    assert_eq!(g.set_many(d, &[]), Ok(()));
    assert_eq!(g.get_many(d, &[]), Vec::<Option<Vec<u8>>>::new());
}

#[test]
fn create_rejects_bad_settings_with_invalid_argument() {
    let mut g = Guest::new();
    for o in [
        with(|o| o.max_items = Some(0)),
        with(|o| o.max_size = Some("0".into())),
        with(|o| o.default_ttl = Some(-1.0)),
    ] {
        assert!(
            matches!(g.create(&o), Err(CacheError::InvalidArgument(_))),
            "{o:?}"
        );
    }
}

#[test]
fn dropping_a_cache_frees_it_and_other_caches_keep_working() {
    let mut g = Guest::new();
    let a = cache(&mut g, |_| {});
    for i in 0..1000 {
        g.set(a, &format!("k{i}"), &[0; 100]).unwrap();
    }
    g.drop_dict(a);
    let b = cache(&mut g, |_| {});
    g.set(b, "x", b"y").unwrap();
    assert_eq!(g.keys(b), s(&["x"]));
}

#[test]
fn the_clock_is_read_only_when_a_deadline_matters() {
    let mut g = Guest::new();
    let d = cache(&mut g, |_| {});
    g.set(d, "a", b"v").unwrap();
    let before = g.clock_reads();
    for _ in 0..10 {
        g.get(d, "a");
    }
    assert_eq!(g.clock_reads(), before, "entries without TTL need no clock");
    g.set_with_expiry(d, "t", b"v", Expiry::Ttl(1.0)).unwrap();
    let before = g.clock_reads();
    g.get(d, "t");
    assert_eq!(g.clock_reads(), before + 1, "one read per call");
}
