//! Reliability edges of the core: failing listeners, a bounded removal log, wall-clock jumps,
//! extreme expiry times, and extreme budgets. Each test names the guarantee it checks.

use std::sync::{Arc, Mutex};

use faas_cache::{
    Cache, CacheError, Clock, Config, EvictionPolicy, Expiry, ManualClock, RemovalCause, Stats,
    SystemClock, Time,
};

const START: Time = Time::from_unix(1_700_000_000, 0);
const HOUR: f64 = 3600.0;

fn cache_with(config: Config) -> (Cache<ManualClock>, ManualClock) {
    let clock = ManualClock::new(START);
    let cache = Cache::with_clock_and_seed(config, clock.clone(), (1, 2)).unwrap();
    (cache, clock)
}

fn logged() -> Config {
    Config {
        removal_log_capacity: 100,
        ..Config::default()
    }
}

#[test]
fn a_panicking_listener_loses_no_removal_and_leaves_the_cache_consistent() {
    let (mut cache, _) = cache_with(logged());
    cache.set_removal_listener(|r| panic!("listener failed on {}", r.key));
    cache.set("a", b"1".to_vec()).unwrap();
    cache.set("b", b"2".to_vec()).unwrap();
    assert!(cache.delete("a"));
    cache.clear();
    let log: Vec<_> = cache
        .drain_removals(u32::MAX)
        .into_iter()
        .map(|r| (r.key, r.cause))
        .collect();
    assert_eq!(
        log,
        [
            ("a".to_owned(), RemovalCause::Deleted),
            ("b".to_owned(), RemovalCause::Cleared)
        ]
    );
    assert_eq!(cache.stats().listener_panics, 2);
    assert_eq!(cache.stats().removed, 2);
    cache.check_invariants().unwrap();
    cache.set("c", b"3".to_vec()).unwrap();
    assert_eq!(cache.get("c"), Some(&b"3"[..]));
}

#[test]
fn the_removal_log_is_bounded_and_counts_what_it_dropped() {
    let (mut cache, _) = cache_with(Config {
        removal_log_capacity: 3,
        ..Config::default()
    });
    for i in 0..10 {
        cache.set(format!("k{i}"), vec![0; 10]).unwrap();
    }
    cache.clear();
    let kept: Vec<_> = cache
        .drain_removals(u32::MAX)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(kept, ["k7", "k8", "k9"]);
    assert_eq!(cache.stats().removals_dropped, 7);
}

#[test]
fn the_wall_clock_jumping_back_by_hours_extends_ttls_and_loses_nothing() {
    let (mut cache, clock) = cache_with(Config::default());
    cache
        .set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(60.0))
        .unwrap();
    clock.advance_secs(-3.0 * HOUR);
    assert_eq!(cache.get_ttl("k").unwrap(), Some(3.0 * HOUR + 60.0));
    assert_eq!(cache.purge_expired(), 0);
    assert_eq!(cache.get("k"), Some(&b"v"[..]));
    cache.check_invariants().unwrap();
}

#[test]
fn the_wall_clock_jumping_forward_by_hours_expires_everything_due() {
    let (mut cache, clock) = cache_with(logged());
    for i in 0..100 {
        let ttl = f64::from(i) * 60.0;
        cache
            .set_with_expiry(format!("k{i}"), b"v".to_vec(), Expiry::Ttl(ttl))
            .unwrap();
    }
    clock.advance_secs(HOUR);
    assert_eq!(
        cache.purge_expired(),
        60,
        "ttl < 3600 s expired, ttl = 3600 s lives (E < now)"
    );
    assert_eq!(cache.len(), 40);
    cache.check_invariants().unwrap();
}

#[test]
fn expire_at_in_the_past_and_at_f64_extremes() {
    let (mut cache, _) = cache_with(Config::default());
    for key in ["past", "min", "neg-inf", "max", "inf"] {
        cache.set(key, b"v".to_vec()).unwrap();
    }
    cache.expire_at("past", 1_600_000_000.0).unwrap();
    cache.expire_at("min", f64::MIN).unwrap();
    cache.expire_at("neg-inf", f64::NEG_INFINITY).unwrap();
    cache.expire_at("max", f64::MAX).unwrap();
    cache.expire_at("inf", f64::INFINITY).unwrap();
    assert!(matches!(
        cache.expire_at("max", f64::NAN),
        Err(CacheError::InvalidArgument(_))
    ));
    assert_eq!(cache.is_expired("past"), Some(true));
    assert_eq!(cache.is_expired("min"), Some(true));
    assert_eq!(cache.is_expired("neg-inf"), Some(true));
    assert_eq!(
        cache.is_expired("max"),
        Some(false),
        "clamped to the year 2262, still live"
    );
    assert_eq!(cache.get_ttl("inf").unwrap(), None, "+inf: never expires");
    assert!(cache.get_ttl("max").unwrap().unwrap() > 7e9);
    assert_eq!(cache.purge_expired(), 3);
    cache.check_invariants().unwrap();
}

#[test]
fn tick_on_an_empty_cache_does_nothing() {
    let (mut cache, clock) = cache_with(Config::default());
    assert_eq!(cache.purge_expired(), 0);
    clock.advance_secs(1e6);
    assert_eq!(cache.purge_expired(), 0);
    assert_eq!(cache.len(), 0);
    cache.check_invariants().unwrap();
}

#[test]
fn a_one_byte_cache_refuses_every_entry_and_stays_within_its_byte() {
    let (mut cache, _) = cache_with(Config {
        max_size_bytes: Some(1),
        ..Config::default()
    });
    assert!(cache.byte_size() <= 1);
    assert!(matches!(
        cache.set("", Vec::new()),
        Err(CacheError::DataTooLarge { .. })
    ));
    assert_eq!(cache.len(), 0);
    assert!(cache.byte_size() <= 1);
    cache.check_invariants().unwrap();
}

#[test]
fn a_u64_max_byte_cache_behaves_as_unbounded() {
    let (mut cache, _) = cache_with(Config {
        max_size_bytes: Some(u64::MAX),
        ..Config::default()
    });
    for i in 0..1000 {
        cache.set(format!("k{i}"), vec![1; 100]).unwrap();
    }
    assert_eq!(cache.len(), 1000);
    assert_eq!(cache.max_size_bytes(), Some(u64::MAX));
    assert_eq!(cache.stats().evicted_size, 0);
    cache.check_invariants().unwrap();
}

/// Every record the log was handed: terminal removals plus the `Replaced` values of overwrites
/// (with a log, every overwrite reports its old value).
fn records_handed_to_the_log(s: &Stats) -> u64 {
    s.removed + s.evicted_size + s.evicted_count + s.expired + s.updates
}

/// A small deterministic generator (xorshift64*), so the churn is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A length from 16 B to 32 KiB, spread evenly over the powers of two in between.
    fn value_len(&mut self) -> usize {
        let bits = 4 + self.next() % 11; // 2^4 ..= 2^14, then up to twice that
        let base = 1usize << bits;
        (base + (self.next() as usize) % (base + 1)).min(32 * 1024)
    }
}

#[test]
fn the_removal_log_keeps_its_records_within_the_byte_limit_under_churn() {
    const LIMIT: u64 = 4 << 20;
    for policy in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
        let (mut cache, clock) = cache_with(Config {
            max_size_bytes: Some(LIMIT),
            removal_log_capacity: 100_000,
            policy,
            ..Config::default()
        });
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut drained, mut drained_bytes, mut max_held) = (0u64, 0u64, 0u64);
        for i in 0..12_000u32 {
            let key = format!("key-{}", rng.next() % 1500);
            match rng.next() % 20 {
                0 => {
                    cache.delete(&key);
                }
                1 => {
                    cache.get(&key);
                }
                2 => cache
                    .set_with_expiry(key, vec![2; rng.value_len()], Expiry::Ttl(1.0))
                    .unwrap(),
                3 => clock.advance_secs(0.5),
                _ => cache.set(key, vec![1; rng.value_len()]).unwrap(),
            }
            let held = cache.removal_log_bytes();
            assert!(held <= LIMIT, "{policy:?} op {i}: the log holds {held} B");
            max_held = max_held.max(held);
            if i % 3000 == 2999 {
                // Draining gives the bytes back.
                let records = cache.drain_removals(5000);
                let bytes: u64 = records
                    .iter()
                    .map(|r| (r.key.len() + r.value.len()) as u64)
                    .sum();
                assert_eq!(cache.removal_log_bytes(), held - bytes);
                drained += records.len() as u64;
                drained_bytes += bytes;
                cache.check_invariants().unwrap();
            }
        }
        cache.clear();
        assert!(cache.removal_log_bytes() <= LIMIT);
        let rest = cache.drain_removals(u32::MAX);
        drained += rest.len() as u64;
        drained_bytes += rest
            .iter()
            .map(|r| (r.key.len() + r.value.len()) as u64)
            .sum::<u64>();
        assert_eq!(cache.removal_log_bytes(), 0);
        let stats = cache.stats();
        assert_eq!(
            drained + stats.removals_dropped,
            records_handed_to_the_log(&stats),
            "{policy:?}: every record is drained or counted as dropped ({stats:?})"
        );
        // The byte bound, not the count (never reached), is what dropped records.
        assert!(stats.removals_dropped > 0, "{policy:?}");
        assert!(records_handed_to_the_log(&stats) < 100_000, "{policy:?}");
        assert!(
            max_held > LIMIT / 2,
            "{policy:?}: the log filled up to {max_held} B"
        );
        assert!(drained_bytes > LIMIT, "{policy:?}");
        cache.check_invariants().unwrap();
    }
}

#[test]
fn a_lower_byte_limit_drops_the_oldest_records_until_the_rest_fit() {
    let (mut cache, _) = cache_with(Config {
        max_size_bytes: Some(1 << 20),
        removal_log_capacity: 1000,
        ..Config::default()
    });
    // Ten records of 10,002 bytes each (2-byte key, 10,000-byte value).
    for i in 0..10 {
        cache.set(format!("k{i}"), vec![0; 10_000]).unwrap();
        assert!(cache.delete(&format!("k{i}")));
    }
    assert_eq!(cache.removal_log_bytes(), 100_020);
    cache.set_max_size_bytes(Some(35_000)).unwrap();
    assert_eq!(
        cache.removal_log_bytes(),
        30_006,
        "the three newest records fit"
    );
    assert_eq!(cache.stats().removals_dropped, 7);
    // A record larger than the whole limit is dropped itself: the older ones stay.
    cache.set("big", vec![0; 30_000]).unwrap();
    cache.change_byte_size(Some("20K")).unwrap(); // evicts "big" (30,003 bytes > 20,480)
    assert_eq!(cache.stats().evicted_size, 1);
    assert_eq!(
        cache.stats().removals_dropped,
        7 + 1 + 1,
        "k7 for the limit, then big"
    );
    assert_eq!(cache.removal_log_bytes(), 20_004);
    // Without a byte limit only the count bounds the log.
    cache.set_max_size_bytes(None).unwrap();
    cache.set("huge", vec![0; 1 << 20]).unwrap();
    assert!(cache.delete("huge"));
    assert_eq!(cache.removal_log_bytes(), 20_004 + 4 + (1 << 20));
    let stats = cache.stats();
    let keys: Vec<_> = cache
        .drain_removals(u32::MAX)
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys, ["k8", "k9", "huge"]);
    assert_eq!(
        keys.len() as u64 + stats.removals_dropped,
        records_handed_to_the_log(&stats)
    );
    cache.check_invariants().unwrap();
}

#[test]
fn a_cache_is_send_and_works_behind_a_mutex_from_several_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Cache<SystemClock>>();
    assert_send::<Cache<ManualClock>>();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ManualClock>();

    let (mut cache, clock) = cache_with(Config {
        max_items: Some(50),
        ..logged()
    });
    let seen = Arc::new(Mutex::new(0u64));
    let sink = Arc::clone(&seen);
    cache.set_removal_listener(move |_| *sink.lock().unwrap() += 1);
    let cache = Arc::new(Mutex::new(cache));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (cache, clock) = (Arc::clone(&cache), clock.clone());
            std::thread::spawn(move || {
                for i in 0..250 {
                    clock.advance_secs(0.001);
                    let mut c = cache.lock().unwrap();
                    c.set(format!("t{t}-{i}"), vec![t; 8]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut cache = Arc::try_unwrap(cache).ok().unwrap().into_inner().unwrap();
    assert_eq!(cache.len(), 50);
    assert_eq!(cache.stats().evicted_count, 950);
    assert_eq!(
        *seen.lock().unwrap(),
        950,
        "the listener saw every eviction"
    );
    assert_eq!(
        clock.now(),
        START.add_secs_f64(1.0),
        "clones share one time"
    );
    cache.check_invariants().unwrap();
}
