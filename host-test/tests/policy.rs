//! The `policy` interface (`wit/policy.wit`) through wasmtime: `policy.create`, `policy-of`, that
//! `cache-dict.create` and old snapshots stay LRU, S3-FIFO's queue order and eviction as the
//! comment describes them, snapshots that keep queue, place and counter, and bad settings as
//! `invalid-argument` values (no trap).

use faas_cache_host_test::{CacheError, Dict, EvictionPolicy, Guest, Options, RemovalCause};

fn options(max_items: Option<u32>, max_size: Option<&str>) -> Options {
    Options {
        default_ttl: None,
        max_size: max_size.map(String::from),
        max_items,
        removal_log_capacity: 64,
    }
}

fn s3fifo(g: &mut Guest, max_items: u32) -> Dict {
    g.create_with_policy(&options(Some(max_items), None), EvictionPolicy::S3Fifo)
        .expect("create")
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|k| k.to_string()).collect()
}

#[test]
fn create_and_policy_of_report_the_policy_and_cache_dict_create_stays_lru() {
    let mut g = Guest::new();
    let lru = g.create(&options(None, None)).unwrap();
    assert_eq!(g.policy_of(lru), EvictionPolicy::Lru);
    let explicit = g
        .create_with_policy(&options(None, None), EvictionPolicy::Lru)
        .unwrap();
    assert_eq!(g.policy_of(explicit), EvictionPolicy::Lru);
    let s3 = s3fifo(&mut g, 10);
    assert_eq!(g.policy_of(s3), EvictionPolicy::S3Fifo);
    // The same writes and reads: LRU moves a read key to the end, S3-FIFO moves nothing.
    for d in [lru, s3] {
        for k in ["a", "b", "c"] {
            g.set(d, k, k.as_bytes()).unwrap();
        }
        assert_eq!(g.get(d, "a"), Some(b"a".to_vec()));
    }
    assert_eq!(g.keys(lru), s(&["b", "c", "a"]));
    assert_eq!(g.keys(s3), s(&["a", "b", "c"]));
}

#[test]
fn bad_settings_are_invalid_argument_under_either_policy() {
    let mut g = Guest::new();
    for policy in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
        for bad in [
            options(Some(0), None),
            options(None, Some("0")),
            options(None, Some("12Q")),
            Options {
                default_ttl: Some(f64::NAN),
                ..options(None, None)
            },
        ] {
            let r = g.create_with_policy(&bad, policy);
            assert!(
                matches!(r, Err(CacheError::InvalidArgument(_))),
                "{policy:?} {bad:?}: {r:?}"
            );
        }
    }
}

#[test]
fn s3fifo_promotes_read_entries_evicts_unread_ones_and_remembers_them() {
    let mut g = Guest::new();
    let d = s3fifo(&mut g, 4);
    for k in ["a", "b", "c", "d"] {
        g.set(d, k, b"v").unwrap();
    }
    assert_eq!(g.get(d, "a"), Some(b"v".to_vec()));
    // "e" does not fit: "a" (read) moves to the main queue, "b" (unread) is evicted.
    g.set(d, "e", b"v").unwrap();
    assert_eq!(g.keys(d), s(&["c", "d", "e", "a"]));
    assert_eq!(g.keys_reversed(d), s(&["a", "e", "d", "c"]));
    assert_eq!(
        g.drain_removals(d, 10)
            .into_iter()
            .map(|r| (r.key, r.cause))
            .collect::<Vec<_>>(),
        [("b".to_string(), RemovalCause::EvictedCount)]
    );
    // "b" is in the ghost set: written again, it enters the main queue (evicting "c").
    g.set(d, "b", b"again").unwrap();
    assert_eq!(g.keys(d), s(&["d", "e", "a", "b"]));
    // pop-item takes the ends of that order; move-to-end moves between the queues.
    g.move_to_end(d, "d", true).unwrap();
    assert_eq!(g.keys(d), s(&["e", "a", "b", "d"]));
    g.move_to_end(d, "b", false).unwrap();
    assert_eq!(g.keys(d), s(&["b", "e", "a", "d"]));
    assert_eq!(g.pop_item(d, true), Some(("d".into(), b"v".to_vec())));
    assert_eq!(g.pop_item(d, false), Some(("b".into(), b"again".to_vec())));
    assert_eq!(g.stats(d).evicted_count, 2);
}

#[test]
fn snapshots_keep_policy_queues_and_counters_across_instances() {
    let mut g = Guest::new();
    let d = s3fifo(&mut g, 4);
    for k in ["a", "b", "c", "d"] {
        g.set(d, k, b"v").unwrap();
    }
    g.get(d, "a");
    g.set(d, "e", b"v").unwrap(); // a -> main, b evicted
    g.get(d, "c");
    let snap = g.snapshot(d);
    let mut other = Guest::new();
    let r = other.restore(&snap).unwrap();
    assert_eq!(other.policy_of(r), EvictionPolicy::S3Fifo);
    assert_eq!(other.keys(r), g.keys(d));
    assert_eq!(other.snapshot(r), snap);
    // The restored counters act: "c" was read, so the next write promotes it and evicts "d".
    for guest_and_dict in [(&mut g, d), (&mut other, r)] {
        let (guest, dict) = guest_and_dict;
        guest.set(dict, "f", b"v").unwrap();
        assert_eq!(guest.keys(dict), s(&["e", "f", "a", "c"]));
    }
    // An LRU cache restores as LRU.
    let lru = g.create(&options(Some(4), None)).unwrap();
    g.set(lru, "x", b"1").unwrap();
    let snap = g.snapshot(lru);
    let r = other.restore(&snap).unwrap();
    assert_eq!(other.policy_of(r), EvictionPolicy::Lru);
}

#[test]
fn s3fifo_under_a_byte_budget_never_exceeds_it() {
    let mut g = Guest::new();
    let d = g
        .create_with_policy(&options(None, Some("64K")), EvictionPolicy::S3Fifo)
        .unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..5_000u64 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let key = format!("k{}", rng % 700);
        if i % 3 == 0 {
            let _ = g.get(d, &key);
        } else {
            let size = 16usize << (rng % 10);
            g.set(d, &key, &vec![1; size]).unwrap();
        }
        assert!(g.byte_size(d) <= 64 * 1024);
    }
    assert!(g.stats(d).evicted_size > 0);
}
