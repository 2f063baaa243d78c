//! S3-FIFO, one test per bullet of the `s3-fifo` comment in `wit/policy.wit` (the spec), on the
//! core with a manual clock. The step-by-step comparison with a model is in `tests/model.rs`.

use std::sync::{Arc, Mutex};

use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD};
use faas_cache::{
    Cache, CacheError, Config, EvictionPolicy, Expiry, ManualClock, RemovalCause, Time,
};

type Events = Arc<Mutex<Vec<(String, RemovalCause)>>>;

fn cache(max_items: Option<u32>, max_size_bytes: Option<u64>) -> (Cache<ManualClock>, Events) {
    let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
    let config = Config {
        max_items,
        max_size_bytes,
        policy: EvictionPolicy::S3Fifo,
        ..Config::default()
    };
    let mut c = Cache::with_clock_and_seed(config, clock, (3, 5)).unwrap();
    let events: Events = Arc::default();
    let seen = Arc::clone(&events);
    c.set_removal_listener(move |r| seen.lock().unwrap().push((r.key.clone(), r.cause)));
    (c, events)
}

fn fill(c: &mut Cache<ManualClock>, keys: &[&str]) {
    for k in keys {
        c.set(*k, k.as_bytes().to_vec()).unwrap();
    }
}

fn keys(c: &mut Cache<ManualClock>) -> Vec<String> {
    c.keys().map(str::to_owned).collect()
}

fn taken(events: &Events) -> Vec<(String, RemovalCause)> {
    std::mem::take(&mut *events.lock().unwrap())
}

#[test]
fn policy_is_reported_and_lru_is_the_default() {
    let (c, _) = cache(None, None);
    assert_eq!(c.policy(), EvictionPolicy::S3Fifo);
    assert_eq!(c.config().policy, EvictionPolicy::S3Fifo);
    let lru = Cache::new(Config::default()).unwrap();
    assert_eq!(lru.policy(), EvictionPolicy::Lru);
    assert_eq!(lru.s3fifo_standing("x"), None);
}

#[test]
fn a_read_raises_the_counter_to_at_most_three_and_moves_nothing() {
    let (mut c, _) = cache(Some(10), None);
    fill(&mut c, &["a", "b", "c"]);
    for expected in [1, 2, 3, 3] {
        assert!(c.get("a").is_some());
        assert_eq!(c.s3fifo_standing("a"), Some((false, expected)));
    }
    // set-default's hit and get-many (a get per key in the component) are reads too.
    assert_eq!(c.set_default("b", b"other".to_vec()).unwrap(), b"b");
    assert_eq!(c.s3fifo_standing("b"), Some((false, 1)));
    assert_eq!(keys(&mut c), ["a", "b", "c"], "reads move nothing");
    assert_eq!(c.stats().hits, 5);
}

#[test]
fn peek_contains_and_is_expired_change_nothing() {
    let (mut c, _) = cache(Some(10), None);
    fill(&mut c, &["a", "b"]);
    let before = c.snapshot();
    assert!(c.peek("a").is_some() && c.contains("b"));
    assert_eq!(c.is_expired("a"), Some(false));
    assert_eq!(c.s3fifo_standing("a"), Some((false, 0)));
    assert_eq!(c.snapshot(), before);
    assert_eq!(c.stats().hits, 0);
}

#[test]
fn a_new_key_enters_the_small_queue_and_a_remembered_one_the_main_queue() {
    let (mut c, events) = cache(Some(3), None);
    fill(&mut c, &["a", "b", "c"]);
    assert!(["a", "b", "c"]
        .iter()
        .all(|k| c.s3fifo_standing(k) == Some((false, 0))));
    c.get("a");
    fill(&mut c, &["d"]); // "a" -> main, "b" evicted and remembered
    assert_eq!(taken(&events), [("b".into(), RemovalCause::EvictedCount)]);
    assert_eq!(c.ghost_len(), 1);
    assert_eq!(keys(&mut c), ["c", "d", "a"]);
    assert_eq!(
        c.s3fifo_standing("d"),
        Some((false, 0)),
        "small, newest end"
    );
    // Remembered when written: straight to main (the ghost set forgets "b" as the write begins),
    // and making room for it evicts "c" into the ghost set.
    fill(&mut c, &["b"]);
    assert_eq!(c.s3fifo_standing("b"), Some((true, 0)));
    assert_eq!(keys(&mut c), ["d", "a", "b"], "main queue, newest end");
    assert_eq!(c.ghost_len(), 1, "c remembered");
    c.check_invariants().unwrap();
}

#[test]
fn overwriting_a_live_key_keeps_queue_and_place_resets_expiry_and_counts_as_a_read() {
    let (mut c, events) = cache(Some(10), None);
    fill(&mut c, &["a", "b", "c"]);
    c.set_with_expiry("b", b"new".to_vec(), Expiry::Ttl(5.0))
        .unwrap();
    assert_eq!(keys(&mut c), ["a", "b", "c"]);
    assert_eq!(c.s3fifo_standing("b"), Some((false, 1)));
    assert_eq!(c.get_ttl("b").unwrap(), Some(5.0));
    c.set("b", b"newer".to_vec()).unwrap();
    assert_eq!(c.get_ttl("b").unwrap(), None, "expiry reset by the write");
    assert_eq!(c.s3fifo_standing("b"), Some((false, 2)));
    assert_eq!(
        taken(&events),
        [
            ("b".into(), RemovalCause::Replaced),
            ("b".into(), RemovalCause::Replaced)
        ]
    );
    assert_eq!(c.stats().updates, 2);
}

#[test]
fn making_room_purges_expired_entries_first() {
    let (mut c, events) = cache(Some(3), None);
    fill(&mut c, &["a", "b"]);
    c.set_with_expiry("short", b"x".to_vec(), Expiry::Ttl(1.0))
        .unwrap();
    c.clock().advance_secs(2.0);
    fill(&mut c, &["d"]);
    assert_eq!(taken(&events), [("short".into(), RemovalCause::Expired)]);
    assert_eq!(keys(&mut c), ["a", "b", "d"]);
    assert_eq!(c.ghost_len(), 0, "an expired key is not remembered");
}

#[test]
fn the_small_queue_is_evicted_while_it_holds_its_target_of_the_item_limit() {
    // Item limit 20: the small queue's target is 2 entries.
    let (mut c, events) = cache(Some(20), None);
    let names: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
    for k in &names {
        c.set(k.as_str(), vec![1]).unwrap();
    }
    for k in &names[..18] {
        c.get(k); // all but the two newest are read
    }
    // Each write moves read small entries to main until an unread one is evicted.
    c.set("n0", vec![1]).unwrap();
    assert_eq!(taken(&events), [("k18".into(), RemovalCause::EvictedCount)]);
    assert_eq!(
        c.s3fifo_standing("k00"),
        Some((true, 0)),
        "promoted with its counter cleared (the paper's rule; libCacheSim's too)"
    );
    // Now the small queue holds k19 and n0 (its target): the next write evicts k19.
    c.set("n1", vec![1]).unwrap();
    assert_eq!(taken(&events), [("k19".into(), RemovalCause::EvictedCount)]);
    // The small queue holds n0, n1 (at target): n0 is unread and goes.
    c.set("n2", vec![1]).unwrap();
    assert_eq!(taken(&events), [("n0".into(), RemovalCause::EvictedCount)]);
    c.check_invariants().unwrap();
}

#[test]
fn below_its_target_the_main_queue_goes_round_lowering_counters_until_an_unread_entry() {
    let (mut c, events) = cache(Some(4), None);
    fill(&mut c, &["a", "b", "c", "d"]);
    for k in ["a", "b", "c", "d"] {
        c.get(k);
    }
    c.get("a");
    // All four are read: the write moves them all to main with their counters cleared (small
    // empties but for the key being written), then the main queue's oldest, a, is unread.
    c.set("e", vec![1]).unwrap();
    assert_eq!(taken(&events), [("a".into(), RemovalCause::EvictedCount)]);
    assert_eq!(keys(&mut c), ["e", "b", "c", "d"]);
    for k in ["b", "c", "d"] {
        assert_eq!(c.s3fifo_standing(k), Some((true, 0)), "{k}");
    }
    // Reads in main: b twice, c once; e once in small.
    for k in ["b", "b", "c", "e"] {
        c.get(k);
    }
    // The write promotes e (counter cleared), then the main queue goes round: b (2) -> 1,
    // c (1) -> 0, then d is unread: evicted.
    c.set("f", vec![1]).unwrap();
    assert_eq!(taken(&events), [("d".into(), RemovalCause::EvictedCount)]);
    assert_eq!(keys(&mut c), ["f", "e", "b", "c"]);
    assert_eq!(c.s3fifo_standing("b"), Some((true, 1)));
    assert_eq!(c.s3fifo_standing("c"), Some((true, 0)));
    assert_eq!(c.s3fifo_standing("e"), Some((true, 0)));
    assert_eq!(
        c.ghost_len(),
        0,
        "a key evicted from main is not remembered"
    );
    c.check_invariants().unwrap();
}

#[test]
fn the_byte_budget_evicts_as_evicted_size_and_the_written_key_never_goes() {
    let budget = CACHE_OVERHEAD + 4 * entry_bytes(2, 100);
    let (mut c, events) = cache(None, Some(budget));
    for k in ["k0", "k1", "k2", "k3"] {
        c.set(k, vec![0; 100]).unwrap();
    }
    c.get("k0");
    c.set("k4", vec![0; 100]).unwrap();
    assert_eq!(taken(&events), [("k1".into(), RemovalCause::EvictedSize)]);
    // Growing a live entry evicts others, never itself, wherever it sits.
    c.set("k0", vec![0; 250]).unwrap();
    assert!(c.peek("k0").is_some());
    let evicted: Vec<_> = taken(&events)
        .into_iter()
        .filter(|(_, cause)| *cause != RemovalCause::Replaced)
        .collect();
    assert!(
        !evicted.is_empty()
            && evicted
                .iter()
                .all(|(k, cause)| k != "k0" && *cause == RemovalCause::EvictedSize)
    );
    assert!(c.byte_size() <= budget);
    // An entry larger than the budget fails and changes nothing.
    let before = c.snapshot();
    assert!(matches!(
        c.set("huge", vec![0; budget as usize]),
        Err(CacheError::DataTooLarge { .. })
    ));
    assert_eq!(c.snapshot(), before);
    c.check_invariants().unwrap();
}

#[test]
fn a_move_between_queues_is_no_removal() {
    let (mut c, events) = cache(Some(2), None);
    fill(&mut c, &["a", "b"]);
    c.get("a");
    c.get("b");
    c.set("c", vec![1]).unwrap();
    // a and b both moved to main; the main queue went round until a was unread.
    assert_eq!(taken(&events), [("a".into(), RemovalCause::EvictedCount)]);
    assert_eq!(c.stats().evicted_count, 1);
}

#[test]
fn keys_values_items_list_small_then_main_oldest_first_and_pop_item_takes_the_ends() {
    let (mut c, _) = cache(Some(4), None);
    fill(&mut c, &["a", "b", "c", "d"]);
    c.get("b");
    c.set("e", vec![]).unwrap(); // a (unread) is evicted; b (read) is not the oldest yet
    assert_eq!(keys(&mut c), ["b", "c", "d", "e"]);
    c.get("b");
    c.get("c");
    c.set("f", vec![]).unwrap(); // b, c -> main; d evicted
    assert_eq!(keys(&mut c), ["e", "f", "b", "c"]);
    assert_eq!(
        c.keys().rev().collect::<Vec<_>>(),
        ["c", "b", "f", "e"],
        "keys-reversed"
    );
    let values: Vec<Vec<u8>> = c.values().map(<[u8]>::to_vec).collect();
    assert_eq!(
        values,
        [b"".to_vec(), b"".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
    assert_eq!(c.pop_item(true), Some(("c".into(), b"c".to_vec())));
    assert_eq!(c.pop_item(false), Some(("e".into(), vec![])));
    assert_eq!(keys(&mut c), ["f", "b"]);
    c.check_invariants().unwrap();
}

#[test]
fn move_to_end_goes_to_the_main_queues_newest_end_or_the_small_queues_oldest_end() {
    let (mut c, _) = cache(Some(10), None);
    fill(&mut c, &["a", "b", "c"]);
    c.get("a");
    c.get("a");
    c.move_to_end("a", true).unwrap();
    assert_eq!(c.s3fifo_standing("a"), Some((true, 2)), "counter kept");
    assert_eq!(keys(&mut c), ["b", "c", "a"]);
    c.move_to_end("c", true).unwrap();
    assert_eq!(keys(&mut c), ["b", "a", "c"]);
    c.move_to_end("a", false).unwrap();
    assert_eq!(c.s3fifo_standing("a"), Some((false, 0)), "counter 0");
    assert_eq!(keys(&mut c), ["a", "b", "c"]);
    assert_eq!(c.move_to_end("zz", true), Err(CacheError::KeyNotFound));
    c.check_invariants().unwrap();
}

#[test]
fn the_ghost_set_never_remembers_more_keys_than_the_cache_holds_entries() {
    let (mut c, _) = cache(Some(10), None);
    for i in 0..10_000u32 {
        let key = format!("k{}", (i * 7919) % 300);
        if i % 3 == 0 {
            c.get(&key);
        } else {
            c.set(key, vec![1]).unwrap();
        }
        if i % 97 == 0 {
            c.check_invariants().unwrap();
        }
        // Both queues together (no entry expires here, so `len` purges nothing).
        let entries = keys(&mut c).len();
        assert_eq!(entries, c.len());
        assert!(c.ghost_len() as usize <= entries);
    }
}

#[test]
fn one_hit_wonders_fill_the_ghost_set_up_to_the_entries_held_oldest_forgotten_first() {
    // Nothing is ever read: every entry stays in the small queue, the main queue stays empty
    // (the old bound, the main queue's length, would have remembered nothing).
    let (mut c, events) = cache(Some(10), None);
    let names: Vec<String> = (0..30).map(|i| format!("k{i:02}")).collect();
    for (i, k) in names.iter().enumerate() {
        c.set(k.as_str(), vec![1]).unwrap();
        c.check_invariants().unwrap();
        assert!(names[..=i]
            .iter()
            .all(|k| c.s3fifo_standing(k).is_none_or(|s| s == (false, 0))));
        assert!(c.ghost_len() as usize <= c.len(), "never more than len()");
        // Each write past 10 evicts the oldest, remembered while the cache holds 9 entries.
        assert_eq!(
            c.ghost_len() as usize,
            i.saturating_sub(9).min(9),
            "after {k}"
        );
    }
    assert_eq!(c.len(), 10);
    assert_eq!(
        c.ghost_len(),
        9,
        "len() - 1: each key was remembered while the other 9 entries stayed"
    );
    assert_eq!(taken(&events).len(), 20, "k00..k19 evicted");
    // The ghost set holds k11..k19, the newest evicted; k00..k10 were forgotten, oldest first.
    // k11 is remembered: it goes straight to the main queue (evicting k20 into the ghost set).
    c.set("k11", vec![1]).unwrap();
    assert_eq!(c.s3fifo_standing("k11"), Some((true, 0)));
    assert_eq!(taken(&events), [("k20".into(), RemovalCause::EvictedCount)]);
    assert_eq!(c.ghost_len(), 9);
    // k10 was forgotten: it enters the small queue (evicting k21, which pushes k12 out).
    c.set("k10", vec![1]).unwrap();
    assert_eq!(c.s3fifo_standing("k10"), Some((false, 0)));
    assert_eq!(c.ghost_len(), 9);
    c.set("k12", vec![1]).unwrap();
    assert_eq!(
        c.s3fifo_standing("k12"),
        Some((false, 0)),
        "the oldest was forgotten"
    );
    c.set("k19", vec![1]).unwrap();
    assert_eq!(
        c.s3fifo_standing("k19"),
        Some((true, 0)),
        "the newest is kept"
    );
    c.check_invariants().unwrap();
    // Removals shrink the cache: the ghost set follows it down, never above len().
    let mut ghost = c.ghost_len() as usize;
    while let Some((key, _)) = c.pop_item(false) {
        ghost = ghost.min(c.len());
        assert_eq!(c.ghost_len() as usize, ghost, "after popping {key}");
        c.check_invariants().unwrap();
    }
    assert_eq!(c.ghost_len(), 0);
}

#[test]
fn the_ghost_set_costs_no_accounted_bytes() {
    let budget = 64 * 1024;
    let (mut c, _) = cache(None, Some(budget));
    for i in 0..20_000u32 {
        c.set(format!("key-{}", i % 3000), vec![7; (i % 300) as usize])
            .unwrap();
        if i % 2 == 0 {
            c.get(&format!("key-{}", (i * 31) % 3000));
        }
        assert!(c.byte_size() <= budget);
    }
    assert!(c.ghost_len() > 0);
    let entries: u64 = c.iter().map(|(k, v)| entry_bytes(k.len(), v.len())).sum();
    assert_eq!(c.byte_size(), CACHE_OVERHEAD + entries);
}

#[test]
fn snapshots_keep_policy_queue_place_and_counter_but_not_the_ghost_set() {
    let (mut c, _) = cache(Some(4), None);
    fill(&mut c, &["a", "b", "c", "d"]);
    c.get("a");
    c.get("a");
    c.set("e", vec![]).unwrap(); // a -> main (2 reads), b evicted and remembered
    c.get("c");
    assert_eq!(c.ghost_len(), 1);
    let bytes = c.snapshot();
    let mut r = Cache::restore(&bytes, c.clock().clone(), (9, 9)).unwrap();
    assert_eq!(r.policy(), EvictionPolicy::S3Fifo);
    assert_eq!(keys(&mut r), keys(&mut c));
    for k in ["a", "c", "d", "e"] {
        assert_eq!(r.s3fifo_standing(k), c.s3fifo_standing(k), "{k}");
    }
    assert_eq!(r.ghost_len(), 0);
    assert_eq!(r.snapshot(), bytes);
    r.check_invariants().unwrap();
    // The ghost set is not restored: "b" comes back into the small queue of the restored cache.
    r.set("b", vec![]).unwrap();
    c.set("b", vec![]).unwrap();
    assert_eq!(r.s3fifo_standing("b"), Some((false, 0)));
    assert_eq!(c.s3fifo_standing("b"), Some((true, 0)));
}

#[test]
fn a_snapshot_with_a_bad_queue_byte_is_corrupt() {
    let (mut c, _) = cache(Some(4), None);
    fill(&mut c, &["a", "b"]);
    c.move_to_end("a", true).unwrap(); // b small, a main
    let bytes = c.snapshot();
    // The last entry's queue byte is the last byte before the 4-byte checksum; each altered
    // snapshot is resealed so that the parser, not the checksum, is what refuses it.
    let last = bytes.len() - 1 - 4;
    assert_eq!(bytes[last], 4, "a: main queue, counter 0");
    for bad in [8u8, 9, 255] {
        let mut b = bytes.clone();
        b[last] = bad;
        faas_cache::reseal(&mut b);
        assert!(
            matches!(
                Cache::restore(&b, c.clock().clone(), (1, 1)),
                Err(CacheError::CorruptSnapshot(_))
            ),
            "{bad}"
        );
    }
    // A small entry after a main one breaks the queue order.
    c.move_to_end("b", true).unwrap();
    c.move_to_end("a", true).unwrap(); // main: b, a
    let mut b = c.snapshot();
    let last = b.len() - 1 - 4;
    b[last] = 0;
    faas_cache::reseal(&mut b);
    assert!(
        matches!(
            Cache::restore(&b, c.clock().clone(), (1, 1)),
            Err(CacheError::CorruptSnapshot(_))
        ),
        "a small entry after a main one"
    );
}
