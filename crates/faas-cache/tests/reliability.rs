//! Reliability edges of the core: failing listeners, a bounded removal log, wall-clock jumps,
//! extreme expiry times, and extreme budgets. Each test names the guarantee it checks.

use faas_cache::{Cache, CacheError, Config, Expiry, ManualClock, RemovalCause, Time};

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
