//! The snapshot format is shared by every host: these tests pin the bytes of two snapshots, an
//! LRU cache in `tests/fixtures/shared.fcds` and an S3-FIFO cache with entries in both queues in
//! `tests/fixtures/shared-s3fifo.fcds`. The JavaScript tests (`js/test/snapshot.test.js`) restore
//! the same files and build the same caches through jco, asserting byte-identical output, so a
//! snapshot made in Rust restores in JavaScript and the other way round.
//! `tests/fixtures/shared-v1.fcds` is the LRU fixture as format version 1 wrote it: it must
//! restore for as long as version 1 is read.
//!
//! Regenerate after an intended format change with `FAAS_CACHE_UPDATE_FIXTURES=1 cargo test`.

use faas_cache::{Cache, Config, EvictionPolicy, Expiry, ManualClock, Time};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shared.fcds");
const FIXTURE_S3FIFO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/shared-s3fifo.fcds"
);
const FIXTURE_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shared-v1.fcds");

/// 2023-11-14T22:13:20Z, the fake time the JavaScript test also uses.
const START: Time = Time::from_unix(1_700_000_000, 0);

/// The cache both languages build: settings, order and expiries of every kind.
fn shared_cache(clock: &ManualClock) -> Cache<ManualClock> {
    let config = Config {
        default_ttl: Some(60.0),
        max_items: Some(100),
        removal_log_capacity: 16,
        ..Config::default()
    }
    .with_max_size("64K")
    .unwrap();
    let mut cache = Cache::with_clock_and_seed(config, clock.clone(), (7, 9)).unwrap();
    cache.set("default-ttl", b"sixty seconds".to_vec()).unwrap();
    cache
        .set_with_expiry("never", vec![0u8, 1, 2, 255], Expiry::Never)
        .unwrap();
    cache
        .set_with_expiry(
            "ttl-2.5",
            "héllo wörld".as_bytes().to_vec(),
            Expiry::Ttl(2.5),
        )
        .unwrap();
    cache
        .set_with_expiry(
            "at",
            b"until 1700000100".to_vec(),
            Expiry::At(1_700_000_100.0),
        )
        .unwrap();
    cache.set("empty", Vec::new()).unwrap();
    // Touch the first key so the LRU order is not the insertion order.
    assert!(cache.get("default-ttl").is_some());
    cache
}

/// The S3-FIFO cache both languages build: ten keys fill the small queue (item limit 10, so its
/// target is one entry); `a` is read once and `b` twice; writing `k` moves `a` and `b` to the main
/// queue and evicts `c` into the ghost set; writing `c` again puts it straight into the main
/// queue (evicting `d`); `a` and `b`, promoted with cleared counters, are read once and twice
/// again. Order: `e`..`k` (small), then `a`, `b`, `c` (main) with counters 1, 2, 0.
fn shared_s3fifo_cache(clock: &ManualClock) -> Cache<ManualClock> {
    let config = Config {
        max_items: Some(10),
        policy: EvictionPolicy::S3Fifo,
        ..Config::default()
    };
    let mut cache = Cache::with_clock_and_seed(config, clock.clone(), (7, 9)).unwrap();
    for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        cache.set(key, key.as_bytes().to_vec()).unwrap();
    }
    assert!(cache.get("a").is_some());
    assert!(cache.get("b").is_some() && cache.get("b").is_some());
    cache.set("k", b"k".to_vec()).unwrap();
    cache
        .set_with_expiry("c", b"c again".to_vec(), Expiry::Ttl(30.0))
        .unwrap();
    // The move to main cleared their counters: `a` read once and `b` twice again, in main.
    assert!(cache.get("a").is_some());
    assert!(cache.get("b").is_some() && cache.get("b").is_some());
    cache
}

fn assert_pinned(bytes: &[u8], path: &str) {
    if std::env::var_os("FAAS_CACHE_UPDATE_FIXTURES").is_some() {
        std::fs::write(path, bytes).unwrap();
    }
    let pinned = std::fs::read(path).expect(path);
    assert_eq!(
        bytes, pinned,
        "the snapshot format changed: keep older versions readable, then regenerate ({path})"
    );
}

#[test]
fn shared_snapshot_bytes_are_pinned() {
    let clock = ManualClock::new(START);
    assert_pinned(&shared_cache(&clock).snapshot(), FIXTURE);
    assert_pinned(&shared_s3fifo_cache(&clock).snapshot(), FIXTURE_S3FIFO);
}

#[test]
fn shared_s3fifo_snapshot_keeps_queues_and_counters() {
    let pinned = std::fs::read(FIXTURE_S3FIFO).unwrap();
    let clock = ManualClock::new(START);
    let mut cache = Cache::restore(&pinned, clock.clone(), (1, 1)).unwrap();
    assert_eq!(cache.policy(), EvictionPolicy::S3Fifo);
    let keys: Vec<String> = cache.keys().map(str::to_owned).collect();
    assert_eq!(
        keys,
        ["d", "e", "f", "g", "h", "i", "j", "k", "a", "b", "c"][1..]
    );
    assert_eq!(cache.get_ttl("c").unwrap(), Some(30.0));
    // The restored counters decide what goes next: the small queue is at its target, so `e`
    // (unread) is evicted by the next write, and then `f`; `a`, `b`, `c` stay in main.
    cache.set("l", b"l".to_vec()).unwrap();
    cache.set("m", b"m".to_vec()).unwrap();
    assert_eq!(cache.peek("e"), None);
    assert_eq!(cache.peek("f"), None);
    assert_eq!(
        cache.snapshot()[..],
        {
            let mut same = shared_s3fifo_cache(&clock);
            same.set("l", b"l".to_vec()).unwrap();
            same.set("m", b"m".to_vec()).unwrap();
            same.snapshot()
        }[..]
    );
    cache.check_invariants().unwrap();
}

#[test]
fn a_version_1_snapshot_restores_as_the_same_lru_cache() {
    let v1 = std::fs::read(FIXTURE_V1).unwrap();
    assert_eq!(v1[4], 1, "format version 1");
    let clock = ManualClock::new(START);
    let restored = Cache::restore(&v1, clock.clone(), (1, 1)).unwrap();
    assert_eq!(restored.policy(), EvictionPolicy::Lru);
    assert_eq!(restored.snapshot(), shared_cache(&clock).snapshot());
}

#[test]
fn shared_snapshot_restores_with_order_and_expiries() {
    let pinned = std::fs::read(FIXTURE).unwrap();
    let clock = ManualClock::new(START);
    let mut cache = Cache::restore(&pinned, clock.clone(), (1, 1)).unwrap();
    let keys: Vec<String> = cache.keys().map(str::to_owned).collect();
    assert_eq!(keys, ["never", "ttl-2.5", "at", "empty", "default-ttl"]);
    assert_eq!(cache.get_ttl("default-ttl").unwrap(), Some(60.0));
    assert_eq!(cache.get_ttl("never").unwrap(), None);
    assert_eq!(cache.get_ttl("at").unwrap(), Some(100.0));
    assert_eq!(cache.max_size_bytes(), Some(64 * 1024));
    clock.set(Time::from_unix(1_700_000_003, 0));
    assert_eq!(cache.get("ttl-2.5"), None);
    assert_eq!(cache.len(), 4);
}
