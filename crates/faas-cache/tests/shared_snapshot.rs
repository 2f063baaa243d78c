//! The snapshot format is shared by every host: this test pins the bytes of one snapshot in
//! `tests/fixtures/shared.fcds`. The JavaScript tests (`js/test/snapshot.test.js`) restore the same
//! file and build the same cache through jco, asserting byte-identical output, so a snapshot made
//! in Rust restores in JavaScript and the other way round.
//!
//! Regenerate after an intended format change with `FAAS_CACHE_UPDATE_FIXTURES=1 cargo test`.

use faas_cache::{Cache, Config, Expiry, ManualClock, Time};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shared.fcds");

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

#[test]
fn shared_snapshot_bytes_are_pinned() {
    let clock = ManualClock::new(START);
    let bytes = shared_cache(&clock).snapshot();
    if std::env::var_os("FAAS_CACHE_UPDATE_FIXTURES").is_some() {
        std::fs::write(FIXTURE, &bytes).unwrap();
    }
    let pinned = std::fs::read(FIXTURE).expect("tests/fixtures/shared.fcds");
    assert_eq!(
        bytes, pinned,
        "the snapshot format changed: bump SNAPSHOT_VERSION"
    );
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
