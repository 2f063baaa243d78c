//! The L1 middleware against a real `redis-server` (started per test on a free loopback port):
//! read-through, write-through, invalidation, TTL-bounded staleness, negative caching, backend
//! failures and restarts, batches, atomics, configuration, and the `wac plug` composition.
//! Each test is named after the behaviour it checks.

use faas_kv_l1_host::guest::{Handle, SimulatedTime};
use faas_kv_l1_host::host::l1::exports::wasi::keyvalue::atomics::CasError;
use faas_kv_l1_host::host::l1::exports::wasi::keyvalue::store::Error;
use faas_kv_l1_host::{AppGuest, Clock, L1Guest, RedisServer, START_NANOS};
use redis::Commands;

fn server() -> RedisServer {
    RedisServer::start().expect("start redis-server (install it: apt-get install redis-server)")
}

/// An L1 with a 5 s TTL on `server`, and its default bucket.
fn l1(server: &RedisServer, config: &[(&str, &str)]) -> (L1Guest, Handle) {
    let mut config = config.to_vec();
    if !config.iter().any(|(k, _)| *k == "l1_ttl_seconds") {
        config.push(("l1_ttl_seconds", "5"));
    }
    let mut g = L1Guest::new(&server.url(), &config);
    let b = g.open("default").expect("open");
    (g, b)
}

fn behind(server: &RedisServer) -> redis::Connection {
    server.connection().expect("direct connection")
}

fn some(v: &str) -> Option<Vec<u8>> {
    Some(v.as_bytes().to_vec())
}

#[test]
fn read_through_get_fills_l1_and_the_next_get_is_a_hit() {
    let s = server();
    let _: () = behind(&s).set("default:k", "v1").unwrap();
    let (mut g, b) = l1(&s, &[]);
    assert_eq!(g.get(b, "k"), Ok(some("v1")));
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(some("v1")));
    assert_eq!(g.round_trips(), trips, "a hit makes no backend call");
    let st = g.stats();
    assert_eq!(
        (st.hits, st.misses, st.backend_calls, st.backend_calls_saved),
        (1, 1, 1, 1)
    );
    assert_eq!(st.entries, 1);
}

#[test]
fn write_through_set_reaches_redis_first_and_then_serves_reads_from_l1() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "k", b"v").unwrap();
    let stored: Option<Vec<u8>> = behind(&s).get("default:k").unwrap();
    assert_eq!(stored, some("v"));
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(some("v")));
    assert_eq!(g.round_trips(), trips);
}

#[test]
fn read_your_writes_holds_even_when_l1_held_an_older_value() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "k", b"v1").unwrap();
    assert_eq!(g.get(b, "k"), Ok(some("v1")));
    g.set(b, "k", b"v2").unwrap();
    assert_eq!(g.get(b, "k"), Ok(some("v2")));
    g.delete(b, "k").unwrap();
    assert_eq!(g.get(b, "k"), Ok(None));
}

#[test]
fn delete_removes_the_key_from_redis_and_invalidates_l1() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "k", b"v").unwrap();
    g.delete(b, "k").unwrap();
    let exists: bool = behind(&s).exists("default:k").unwrap();
    assert!(!exists);
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(None));
    assert_eq!(
        g.round_trips(),
        trips + 1,
        "without negative caching a miss asks Redis"
    );
    assert_eq!(g.exists(b, "k"), Ok(false));
}

#[test]
fn staleness_after_another_writer_is_bounded_by_the_l1_ttl() {
    let s = server();
    let (mut g, b) = l1(&s, &[("l1_ttl_seconds", "5")]);
    g.set(b, "k", b"mine").unwrap();
    let _: () = behind(&s).set("default:k", "theirs").unwrap();
    g.advance(5.0);
    assert_eq!(
        g.get(b, "k"),
        Ok(some("mine")),
        "E < now: still live at exactly the TTL"
    );
    g.advance(1e-9);
    assert_eq!(
        g.get(b, "k"),
        Ok(some("theirs")),
        "seen once the TTL has passed"
    );
}

#[test]
fn an_entry_filled_by_a_read_also_lives_for_the_ttl_only() {
    let s = server();
    let _: () = behind(&s).set("default:k", "v1").unwrap();
    let (mut g, b) = l1(&s, &[("l1_ttl_seconds", "2")]);
    assert_eq!(g.get(b, "k"), Ok(some("v1")));
    let _: () = behind(&s).set("default:k", "v2").unwrap();
    g.advance(1.0);
    assert_eq!(g.get(b, "k"), Ok(some("v1")));
    g.advance(1.5);
    assert_eq!(g.get(b, "k"), Ok(some("v2")));
    assert_eq!(g.tick(), 0, "the refreshed entry is live");
    g.advance(10.0);
    assert_eq!(g.tick(), 1);
    assert_eq!(g.stats().entries, 0);
}

#[test]
fn misses_are_not_cached_unless_negative_caching_is_configured() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    assert_eq!(g.get(b, "k"), Ok(None));
    let _: () = behind(&s).set("default:k", "now").unwrap();
    assert_eq!(g.get(b, "k"), Ok(some("now")));
}

#[test]
fn negative_caching_answers_absent_keys_for_the_negative_ttl() {
    let s = server();
    let (mut g, b) = l1(&s, &[("l1_negative_ttl_seconds", "2")]);
    assert_eq!(g.get(b, "k"), Ok(None));
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(None));
    assert_eq!(g.exists(b, "k"), Ok(false));
    assert_eq!(g.round_trips(), trips, "absence answered by L1");
    let _: () = behind(&s).set("default:k", "later").unwrap();
    g.advance(2.001);
    assert_eq!(g.get(b, "k"), Ok(some("later")));
    let st = g.stats();
    assert_eq!(st.negative_hits, 2);
    // Our own write replaces a cached absence at once (read-your-writes).
    assert_eq!(g.get(b, "gone"), Ok(None));
    g.set(b, "gone", b"back").unwrap();
    assert_eq!(g.get(b, "gone"), Ok(some("back")));
}

#[test]
fn backend_errors_are_returned_and_never_poison_l1() {
    let mut s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "cached", b"v").unwrap();
    s.stop();
    assert_eq!(g.get(b, "cached"), Ok(some("v")), "a hit needs no backend");
    assert!(matches!(g.get(b, "missing"), Err(Error::Other(m)) if m.contains("redis")));
    assert!(matches!(g.set(b, "cached", b"new"), Err(Error::Other(_))));
    assert!(matches!(g.delete(b, "cached"), Err(Error::Other(_))));
    assert!(matches!(g.exists(b, "missing"), Err(Error::Other(_))));
    assert!(matches!(g.increment(b, "n", 1), Err(Error::Other(_))));
    assert!(matches!(g.list_keys(b, None), Err(Error::Other(_))));
    assert_eq!(
        g.get(b, "cached"),
        Ok(some("v")),
        "failed writes left L1 unchanged"
    );
    let st = g.stats();
    assert_eq!(st.backend_errors, 6);
    assert_eq!(st.entries, 1, "nothing was filled from a failed call");
}

#[test]
fn a_failed_batch_write_drops_the_keys_it_named() {
    let mut s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "a", b"old").unwrap();
    g.set(b, "b", b"old").unwrap();
    s.stop();
    assert!(g.set_many(b, &[("a", b"new")]).is_err());
    assert!(g.delete_many(b, &["b"]).is_err());
    s.restart().unwrap();
    let _: () = behind(&s).set("default:a", "new").unwrap();
    assert_eq!(
        g.get(b, "a"),
        Ok(some("new")),
        "a may have been written: asked again"
    );
    assert_eq!(
        g.get(b, "b"),
        Ok(None),
        "b may have been deleted: asked again"
    );
}

#[test]
fn stale_if_error_serves_a_just_expired_value_through_an_outage_within_its_bound() {
    let mut s = server();
    let stale = [("l1_stale_if_error_seconds", "10")];
    let (mut g, b) = l1(&s, &stale);
    assert_eq!(g.settings().unwrap().stale_if_error_seconds, 10.0);
    g.set(b, "k", b"v").unwrap();
    g.set(b, "other", b"o").unwrap();
    s.stop();
    g.advance(5.001); // past the 5 s TTL: stale
    assert_eq!(
        g.get(b, "k"),
        Ok(some("v")),
        "stale value instead of the error"
    );
    assert_eq!(
        g.get_many(b, &["k", "other"]),
        Ok(vec![("k".into(), some("v")), ("other".into(), some("o"))])
    );
    assert!(
        matches!(g.get_many(b, &["k", "never-cached"]), Err(Error::Other(_))),
        "a key without a stale value makes the batch fail as before"
    );
    assert!(
        matches!(g.set(b, "k", b"new"), Err(Error::Other(_))),
        "writes still fail loudly"
    );
    assert_eq!(
        g.exists(b, "k"),
        Ok(true),
        "exists answers from the stale entry"
    );
    assert!(
        matches!(g.exists(b, "never-cached"), Err(Error::Other(_))),
        "nothing stale to answer with: the error"
    );
    let st = g.stats();
    assert_eq!(st.stale_served, 4);
    // The window's edge: 5 s TTL + 10 s window. One millisecond before it, still served ...
    g.advance(14.998 - 5.001);
    assert_eq!(g.get(b, "other"), Ok(some("o")));
    // ... past it, the entry is gone and the error comes through.
    g.advance(0.003);
    assert!(matches!(g.get(b, "other"), Err(Error::Other(_))));
    assert!(matches!(g.exists(b, "k"), Err(Error::Other(_))));
    assert_eq!(g.stats().stale_served, 5);
}

#[test]
fn stale_if_error_never_serves_stale_data_while_the_backend_answers() {
    let s = server();
    let (mut g, b) = l1(&s, &[("l1_stale_if_error_seconds", "60")]);
    g.set(b, "k", b"old").unwrap();
    let _: () = behind(&s).set("default:k", "new").unwrap();
    assert_eq!(
        g.get(b, "k"),
        Ok(some("old")),
        "fresh for the TTL, as without the window"
    );
    g.advance(5.001);
    assert_eq!(g.get(b, "k"), Ok(some("new")), "past the TTL: asked again");
    let _: () = behind(&s).del("default:gone").unwrap();
    g.set(b, "gone", b"x").unwrap();
    let _: () = behind(&s).del("default:gone").unwrap();
    g.advance(5.001);
    assert_eq!(
        g.get(b, "gone"),
        Ok(None),
        "a deletion behind L1 is seen once stale"
    );
    g.set(b, "gone-too", b"x").unwrap();
    let _: () = behind(&s).del("default:gone-too").unwrap();
    g.advance(5.001);
    assert_eq!(
        g.exists(b, "gone-too"),
        Ok(false),
        "exists asks the backend once stale, and believes it"
    );
    assert_eq!(g.exists(b, "k"), Ok(true));
    assert_eq!(g.stats().stale_served, 0);
    // Off by default: the defaults report 0.
    let (mut plain, _) = l1(&s, &[]);
    assert_eq!(plain.settings().unwrap().stale_if_error_seconds, 0.0);
}

#[test]
fn restart_recovery_reconnects_without_restarting_the_host() {
    let mut s = server();
    let (mut g, b) = l1(&s, &[]);
    s.stop();
    assert!(g.get(b, "k").is_err());
    s.restart().unwrap();
    assert_eq!(g.get(b, "k"), Ok(None));
    g.set(b, "k", b"v").unwrap();
    assert_eq!(g.get(b, "k"), Ok(some("v")));
    // A new instance (a cold start) reads what the old one wrote through.
    let (mut fresh, fb) = l1(&s, &[]);
    assert_eq!(fresh.get(fb, "k"), Ok(some("v")));
}

#[test]
fn get_many_serves_hits_from_l1_and_fetches_only_the_misses_in_one_call() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "a", b"1").unwrap();
    let _: () = behind(&s).set("default:b", "2").unwrap();
    let trips = g.round_trips();
    let got = g.get_many(b, &["a", "b", "c"]).unwrap();
    assert_eq!(
        got,
        vec![
            ("a".to_owned(), some("1")),
            ("b".to_owned(), some("2")),
            ("c".to_owned(), None)
        ]
    );
    assert_eq!(g.round_trips(), trips + 1);
    let st = g.stats();
    assert_eq!((st.hits, st.misses), (1, 2));
    g.set(b, "c", b"3").unwrap();
    let trips = g.round_trips();
    let again = g.get_many(b, &["c", "b", "a", "b"]).unwrap();
    assert_eq!(
        again.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        vec![some("3"), some("2"), some("1"), some("2")]
    );
    assert_eq!(g.round_trips(), trips, "all hits: no backend call");
    assert_eq!(g.get_many(b, &[]), Ok(vec![]));
}

#[test]
fn set_many_and_delete_many_write_through() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set_many(b, &[("x", b"1"), ("y", b"2")]).unwrap();
    let stored: Vec<Option<String>> = behind(&s).mget(&["default:x", "default:y"]).unwrap();
    assert_eq!(stored, vec![Some("1".into()), Some("2".into())]);
    let trips = g.round_trips();
    assert_eq!(g.get(b, "y"), Ok(some("2")));
    assert_eq!(g.round_trips(), trips);
    g.delete_many(b, &["x", "y"]).unwrap();
    assert_eq!(g.get(b, "x"), Ok(None));
    let n: usize = behind(&s).exists(&["default:x", "default:y"]).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn increment_passes_through_and_invalidates_the_key() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "n", b"1").unwrap();
    assert_eq!(g.increment(b, "n", 5), Ok(6));
    assert_eq!(g.get(b, "n"), Ok(some("6")));
    assert_eq!(g.increment(b, "fresh", -2), Ok(-2));
    g.set(b, "text", b"abc").unwrap();
    assert!(matches!(g.increment(b, "text", 1), Err(Error::Other(_))));
}

#[test]
fn cas_swap_writes_through_and_a_conflict_returns_a_fresh_handle() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "k", b"v1").unwrap();
    let cas = g.cas_new(b, "k").unwrap();
    assert_eq!(g.cas_current(cas), Ok(some("v1")));
    g.swap(cas, b"v2").unwrap();
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(some("v2")), "the swapped value is cached");
    assert_eq!(g.round_trips(), trips);

    let cas = g.cas_new(b, "k").unwrap();
    let _: () = behind(&s).set("default:k", "theirs").unwrap();
    match g.swap(cas, b"mine") {
        Err(CasError::CasFailed(fresh)) => {
            assert_eq!(g.cas_current(fresh), Ok(some("theirs")));
            g.swap(fresh, b"mine").unwrap();
        }
        other => panic!("expected cas-failed, got {other:?}"),
    }
    assert_eq!(g.get(b, "k"), Ok(some("mine")));
    let stored: Option<String> = behind(&s).get("default:k").unwrap();
    assert_eq!(stored.as_deref(), Some("mine"));
}

#[test]
fn list_keys_passes_through_with_its_cursor_and_buckets_are_separate() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    let names: Vec<String> = (0..250).map(|i| format!("key{i}")).collect();
    for n in &names {
        g.set(b, n, b"v").unwrap();
    }
    let other = g.open("other").unwrap();
    g.set(other, "key0", b"elsewhere").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = g.list_keys(b, cursor.as_deref()).unwrap();
        seen.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(g.get(b, "key0"), Ok(some("v")));
    assert_eq!(g.get(other, "key0"), Ok(some("elsewhere")));
    assert!(g.list_keys(b, Some("not-a-cursor")).is_err());
}

#[test]
fn an_unknown_bucket_is_no_such_store() {
    let s = server();
    let (mut g, _) = l1(&s, &[]);
    assert_eq!(g.open("nope").err(), Some(Error::NoSuchStore));
}

/// With no read in between, both policies evict the oldest write first (S3-FIFO's small queue is
/// a FIFO, and an unread entry leaves it for eviction).
#[test]
fn the_byte_budget_bounds_l1_and_evicts_least_recently_used() {
    let s = server();
    for policy in ["lru", "s3-fifo"] {
        let config = [
            ("l1_max_size", "64K"),
            ("l1_max_items", "1000"),
            ("l1_policy", policy),
        ];
        let (mut g, b) = l1(&s, &config);
        let value = vec![7u8; 1024];
        for i in 0..200 {
            g.set(b, &format!("k{i}"), &value).unwrap();
        }
        let st = g.stats();
        assert!(st.bytes <= 64 * 1024, "{policy}: {} bytes", st.bytes);
        assert!(
            st.entries < 200 && st.entries > 40,
            "{policy}: {} entries",
            st.entries
        );
        let trips = g.round_trips();
        assert_eq!(g.get(b, "k199").unwrap().map(|v| v.len()), Some(1024));
        assert_eq!(g.round_trips(), trips, "the newest entry is still in L1");
        assert_eq!(g.get(b, "k0").unwrap().map(|v| v.len()), Some(1024));
        assert_eq!(
            g.round_trips(),
            trips + 1,
            "the oldest was evicted, Redis has it"
        );
        // A value larger than the whole budget is written through and simply not cached.
        let huge = vec![1u8; 100 * 1024];
        g.set(b, "k199", &huge).unwrap();
        assert_eq!(g.get(b, "k199").unwrap().map(|v| v.len()), Some(100 * 1024));
    }
}

#[test]
fn settings_come_from_wasi_config_and_bad_values_are_named_errors() {
    let s = server();
    let (mut g, _) = l1(
        &s,
        &[
            ("l1_max_size", "1M"),
            ("l1_ttl_seconds", "2.5"),
            ("l1_negative_ttl_seconds", "0.5"),
            ("l1_policy", "LRU"),
        ],
    );
    let set = g.settings().unwrap();
    assert_eq!(set.max_bytes, 1 << 20);
    assert_eq!((set.ttl_seconds, set.negative_ttl_seconds), (2.5, 0.5));
    assert_eq!(set.max_items, None);
    assert_eq!(
        set.policy, "lru",
        "ASCII case ignored, reported by its name"
    );

    for (key, bad) in [
        ("l1_max_size", "12X"),
        ("l1_max_items", "0"),
        ("l1_ttl_seconds", "-1"),
        ("l1_negative_ttl_seconds", "NaN"),
        ("l1_negative_ttl_seconds", "6"),
        ("l1_policy", "lfu"),
        ("l1_stale_if_error_seconds", "-1"),
        ("l1_stale_if_error_seconds", "soon"),
        ("l1_policy", ""),
    ] {
        let mut g = L1Guest::new(&s.url(), &[(key, bad)]);
        match g.open("default") {
            Err(Error::Other(m)) => assert!(m.contains(key), "{m}"),
            other => panic!("{key}={bad}: expected an error, got {other:?}"),
        }
        assert!(g.settings().is_err());
    }
    let mut g = L1Guest::new(&s.url(), &[("l1_policy", "fifo")]);
    match g.settings() {
        Err(m) => assert!(
            ["l1_policy", "\"fifo\"", "\"lru\"", "\"s3-fifo\""]
                .iter()
                .all(|part| m.contains(part)),
            "names the key, the value and the allowed values: {m}"
        ),
        other => panic!("l1_policy=fifo: expected an error, got {other:?}"),
    }

    let mut g = L1Guest::new(&s.url(), &[]);
    g.store.data_mut().config_error = Some("vault sealed".into());
    assert!(matches!(g.open("default"), Err(Error::Other(m)) if m.contains("vault sealed")));
    g.store.data_mut().config_error = None;
    assert!(
        g.open("default").is_ok(),
        "a later open retries the configuration"
    );
    let defaults = g.settings().unwrap();
    assert_eq!(
        (
            defaults.max_bytes,
            defaults.ttl_seconds,
            defaults.negative_ttl_seconds
        ),
        (16 << 20, 5.0, 0.0)
    );
    assert_eq!(defaults.policy, "s3-fifo", "the default policy");
}

/// Reads through, hits and read-your-writes do not depend on the eviction policy.
#[test]
fn read_through_and_read_your_writes_hold_under_either_policy() {
    let s = server();
    for policy in ["lru", "s3-fifo"] {
        let _: () = behind(&s).flushall().unwrap();
        let (mut g, b) = l1(&s, &[("l1_policy", policy)]);
        assert_eq!(g.settings().unwrap().policy, policy);
        let _: () = behind(&s).set("default:r", "v0").unwrap();
        assert_eq!(g.get(b, "r"), Ok(some("v0")));
        let trips = g.round_trips();
        assert_eq!(g.get(b, "r"), Ok(some("v0")));
        assert_eq!(g.exists(b, "r"), Ok(true));
        assert_eq!(
            g.round_trips(),
            trips,
            "{policy}: hits make no backend call"
        );
        g.set(b, "k", b"v1").unwrap();
        assert_eq!(g.get(b, "k"), Ok(some("v1")));
        g.set(b, "k", b"v2").unwrap();
        assert_eq!(g.get(b, "k"), Ok(some("v2")));
        g.set_many(b, &[("k", b"v3")]).unwrap();
        assert_eq!(
            g.get_many(b, &["k", "r"]),
            Ok(vec![
                ("k".to_owned(), some("v3")),
                ("r".to_owned(), some("v0")),
            ])
        );
        g.delete(b, "k").unwrap();
        assert_eq!(g.get(b, "k"), Ok(None));
        let st = g.stats();
        assert_eq!((st.hits, st.misses), (6, 2), "{policy}");
    }
}

/// Under a 64 KiB budget (about 55 entries of 1 KiB), a key read a few times and then a scan of
/// 200 keys read once each: LRU evicts the hot key with the rest, S3-FIFO keeps it (it was read
/// while in the small queue, so it moved to the main queue; the scan's keys leave the small
/// queue unread, for eviction).
#[test]
fn under_s3_fifo_a_key_read_again_survives_a_scan_that_evicts_it_under_lru() {
    let s = server();
    let value = vec![5u8; 1024];
    let mut direct = behind(&s);
    let _: () = direct.set("default:hot", &value).unwrap();
    for i in 0..200 {
        let _: () = direct.set(format!("default:scan{i}"), &value).unwrap();
    }
    for (policy, hot_survives) in [("lru", false), ("s3-fifo", true)] {
        let config = [("l1_max_size", "64K"), ("l1_policy", policy)];
        let (mut g, b) = l1(&s, &config);
        for _ in 0..4 {
            assert_eq!(g.get(b, "hot"), Ok(Some(value.clone())));
        }
        for i in 0..200 {
            assert_eq!(g.get(b, &format!("scan{i}")), Ok(Some(value.clone())));
        }
        let st = g.stats();
        assert_eq!((st.hits, st.misses), (3, 201), "{policy}: the scan missed");
        assert!(st.bytes <= 64 * 1024, "{policy}: {} bytes", st.bytes);
        assert!(st.entries > 40, "{policy}: {} entries", st.entries);
        let trips = g.round_trips();
        assert_eq!(g.get(b, "hot"), Ok(Some(value.clone())));
        let survived = g.round_trips() == trips;
        assert_eq!(
            survived, hot_survives,
            "{policy}: the hot key after the scan"
        );
        // The newest scan key is in L1 under both; the oldest was evicted under both.
        let trips = g.round_trips();
        assert_eq!(g.get(b, "scan199"), Ok(Some(value.clone())));
        assert_eq!(g.round_trips(), trips, "{policy}: the newest scan key");
        assert_eq!(g.get(b, "scan0"), Ok(Some(value.clone())));
        assert_eq!(g.round_trips(), trips + 1, "{policy}: the oldest scan key");
    }
}

#[test]
fn invalidate_all_sends_every_read_back_to_redis() {
    let s = server();
    let (mut g, b) = l1(&s, &[]);
    g.set(b, "k", b"v").unwrap();
    g.invalidate_all();
    let trips = g.round_trips();
    assert_eq!(g.get(b, "k"), Ok(some("v")));
    assert_eq!(g.round_trips(), trips + 1);
    g.reset_stats();
    assert_eq!(g.stats().hits, 0);
}

/// The same script gives the same answers with and without the L1: the app does not change.
#[test]
fn wac_plug_composition_answers_like_the_app_alone_with_fewer_redis_calls() {
    let s = server();
    let script = [
        "set user:1 ada",
        "get user:1",
        "get user:1",
        "exists user:1",
        "get user:2",
        "set-many a=1 b=2",
        "get-many a b c",
        "get-many a b",
        "increment hits 3",
        "increment hits 4",
        "cas user:1 grace",
        "get user:1",
        "delete-many a b",
        "get a",
        "delete user:1",
        "get user:1",
        "list",
    ];
    let mut direct = AppGuest::direct(&s.url(), Clock::Simulated(START_NANOS));
    let plain: Vec<String> = script.iter().map(|c| direct.run("default", c)).collect();
    let _: () = behind(&s).flushall().unwrap();
    let mut composed = AppGuest::with_l1(&s.url(), Clock::Simulated(START_NANOS), &[]);
    let layered: Vec<String> = script.iter().map(|c| composed.run("default", c)).collect();
    assert_eq!(plain, layered);
    assert_eq!(layered[1], "some(ada)");
    assert_eq!(layered[9], "7");
    assert_eq!(layered[10], "swapped some(ada)");
    assert!(
        composed.round_trips() < direct.round_trips(),
        "{} with L1 vs {} without",
        composed.round_trips(),
        direct.round_trips()
    );
    assert_eq!(composed.run("nope", "get k"), "error: no-such-store");
}

/// What the L1 imports (sorted): its backend, the clock, the seed and the config store. A
/// composition with the L1 plugged in imports exactly the same.
const L1_IMPORTS: [&str; 6] = [
    "wasi:clocks/wall-clock@0.2.0",
    "wasi:config/store@0.2.0-draft-2024-09-27",
    "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2",
    "wasi:keyvalue/store@0.2.0-draft2",
    "wasi:random/insecure-seed@0.2.0",
];

#[test]
fn the_composition_imports_only_what_the_l1_imports() {
    let engine = faas_kv_l1_host::guest::engine();
    let ty = faas_kv_l1_host::guest::composed_component().component_type();
    let mut imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    imports.sort();
    assert_eq!(imports, L1_IMPORTS);
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    assert_eq!(exports, ["example:kv-app/shell@0.1.0"]);
}

#[test]
fn under_a_memory_cap_the_l1_evicts_instead_of_trapping() {
    let s = server();
    // A 64 MiB budget in 3 MiB of linear memory: the allocator, not the budget, must give way.
    let mut g = L1Guest::with_memory_limit(&s.url(), 3 << 20, &[("l1_max_size", "64M")]);
    let b = g.open("default").unwrap();
    let value = |i: usize| vec![(i % 251) as u8; 8 * 1024];
    for i in 0..1_000 {
        g.set(b, &format!("k{i}"), &value(i)).unwrap();
    }
    for i in (0..1_000).step_by(7) {
        assert_eq!(g.get(b, &format!("k{i}")), Ok(Some(value(i))), "k{i}");
    }
    let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let got = g.get_many(b, &refs).unwrap();
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, (_, v))| v.as_deref() == Some(&value(i)[..])));
    // Keys and values far larger than the allocator's 64 KiB reserve, with memory at the cap.
    let long_key = "k".repeat(200 * 1024);
    g.set(b, &long_key, &value(1)).unwrap();
    assert_eq!(g.get(b, &long_key), Ok(Some(value(1))));
    let big = vec![9u8; 512 * 1024];
    g.set(b, "big", &big).unwrap();
    assert_eq!(g.get(b, "big"), Ok(Some(big)));
    let st = g.stats();
    assert!(st.bytes < 3 << 20, "L1 holds {} bytes", st.bytes);
    assert!(st.entries > 0);
}

#[test]
fn hostile_keys_and_values_are_stored_faithfully_or_refused_with_an_error() {
    let s = server();
    let (mut g, b) = l1(&s, &[("l1_max_size", "1M")]);
    let long = "k".repeat(64 * 1024);
    for key in [
        "",
        " ",
        "a:b",
        "5:default",
        "\u{0}",
        "ключ",
        "🦀",
        long.as_str(),
    ] {
        g.set(b, key, key.as_bytes()).unwrap();
        assert_eq!(g.get(b, key), Ok(Some(key.as_bytes().to_vec())), "{key:?}");
        assert_eq!(g.exists(b, key), Ok(true));
        g.delete(b, key).unwrap();
        assert_eq!(g.get(b, key), Ok(None));
    }
    g.set(b, "empty", b"").unwrap();
    assert_eq!(g.get(b, "empty"), Ok(Some(Vec::new())));
    // A bucket whose prefix could collide with another bucket's keys stays separate.
    assert_eq!(g.open("default:x").err(), Some(Error::NoSuchStore));
    let other = g.open("other").unwrap();
    assert_eq!(g.get(other, "empty"), Ok(None));
    assert_eq!(g.increment(b, "n", i64::MAX), Ok(i64::MAX));
    assert!(
        matches!(g.increment(b, "n", 1), Err(Error::Other(_))),
        "overflow is an error"
    );
    assert_eq!(g.get(b, "n"), Ok(Some(i64::MAX.to_string().into_bytes())));
}

/// The L1's import list is part of the product: keyvalue (its backend), the clock, the seed and
/// the config store; nothing from wasi:cli, wasi:io or wasi:filesystem.
#[test]
fn the_l1_imports_only_its_backend_the_clock_the_seed_and_config() {
    let engine = faas_kv_l1_host::guest::engine();
    let ty = faas_kv_l1_host::guest::l1_component().component_type();
    let mut imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    imports.sort();
    assert_eq!(imports, L1_IMPORTS);
    let mut exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    exports.sort();
    assert_eq!(
        exports,
        [
            "faas:kv-l1/l1@0.1.0",
            "wasi:keyvalue/atomics@0.2.0-draft2",
            "wasi:keyvalue/batch@0.2.0-draft2",
            "wasi:keyvalue/store@0.2.0-draft2",
        ]
    );
    println!(
        "faas_kv_l1.wasm: {} bytes",
        faas_cache_artifact::KV_L1_COMPONENT.len()
    );
}
