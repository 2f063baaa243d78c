//! Snapshots detect corruption: a snapshot travels through files, key-value and object stores,
//! where bits rot and uploads are cut short. Every single-bit flip of a real snapshot, and random
//! flips and truncations of a 1 MiB one, are `CorruptSnapshot`, never a cache serving altered
//! data; a snapshot naming a key twice is corrupt even when the first copy expired or was evicted
//! while restoring. Figures printed: how many damaged snapshots were tried.

use faas_cache::{
    reseal, sealed, Cache, CacheError, Config, EvictionPolicy, Expiry, ManualClock, Time,
};

const START: Time = Time::from_unix(1_700_000_000, 0);

fn clock() -> ManualClock {
    ManualClock::new(START)
}

fn small_snapshot(policy: EvictionPolicy) -> Vec<u8> {
    let config = Config {
        default_ttl: Some(60.0),
        max_items: Some(100),
        policy,
        ..Config::default()
    }
    .with_max_size("64K")
    .unwrap();
    let mut c = Cache::with_clock_and_seed(config, clock(), (1, 2)).unwrap();
    for i in 0..12 {
        c.set(
            format!("user:{i}"),
            format!("{{\"id\":{i},\"name\":\"n{i}\"}}").into_bytes(),
        )
        .unwrap();
    }
    c.set_with_expiry("session", b"token".to_vec(), Expiry::Ttl(5.0))
        .unwrap();
    c.set_with_expiry("pinned", vec![7; 40], Expiry::Never)
        .unwrap();
    c.get("user:3");
    c.snapshot()
}

fn is_corrupt(bytes: &[u8]) -> bool {
    matches!(
        Cache::restore(bytes, clock(), (3, 4)),
        Err(CacheError::CorruptSnapshot(_))
    )
}

#[test]
fn every_single_bit_flip_of_a_snapshot_is_corrupt() {
    for policy in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
        let bytes = small_snapshot(policy);
        assert!(
            (200..1000).contains(&bytes.len()),
            "a few hundred bytes: {}",
            bytes.len()
        );
        assert!(Cache::restore(&bytes, clock(), (3, 4)).is_ok());
        let mut tried = 0;
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(
                is_corrupt(&damaged),
                "{policy:?}: flipping bit {bit} (byte {}) was not detected",
                bit / 8
            );
            tried += 1;
        }
        println!(
            "{policy:?}: {tried} single-bit flips of a {} byte snapshot, all corrupt-snapshot",
            bytes.len()
        );
    }
}

#[test]
fn every_truncation_and_any_trailing_byte_is_corrupt() {
    let bytes = small_snapshot(EvictionPolicy::Lru);
    for cut in 0..bytes.len() {
        assert!(is_corrupt(&bytes[..cut]), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(is_corrupt(&longer));
}

/// splitmix64, for reproducible damage.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[test]
fn a_thousand_random_flips_and_truncations_of_a_1_mib_snapshot_are_corrupt() {
    let mut c = Cache::with_clock_and_seed(Config::default(), clock(), (1, 2)).unwrap();
    let (mut i, mut payload) = (0u64, 0usize);
    while payload < 1 << 20 {
        let (key, value) = (
            format!("key:{i}"),
            vec![(i % 251) as u8; 200 + (i % 300) as usize],
        );
        payload += key.len() + value.len();
        c.set(key, value).unwrap();
        i += 1;
    }
    let bytes = c.snapshot();
    assert!(bytes.len() >= 1 << 20, "{} bytes", bytes.len());
    let mut state = 42;
    let (mut flips, mut cuts) = (0, 0);
    for n in 0..1000 {
        let damaged = if n % 2 == 0 {
            let mut d = bytes.clone();
            let flipped = 1 + next(&mut state) % 3; // one to three bits
            for _ in 0..flipped {
                let bit = (next(&mut state) % (bytes.len() as u64 * 8)) as usize;
                d[bit / 8] ^= 1 << (bit % 8);
            }
            if d == bytes {
                continue; // two flips of the same bit
            }
            flips += 1;
            d
        } else {
            cuts += 1;
            bytes[..(next(&mut state) % bytes.len() as u64) as usize].to_vec()
        };
        assert!(is_corrupt(&damaged), "damage {n} was not detected");
    }
    println!(
        "{flips} random flips and {cuts} truncations of a {} byte snapshot: all corrupt-snapshot",
        bytes.len()
    );
}

#[test]
fn a_snapshot_with_its_checksum_made_to_match_reaches_the_parser() {
    let mut bytes = small_snapshot(EvictionPolicy::Lru);
    let last = bytes.len() - 5;
    bytes[last] ^= 0x01;
    assert!(is_corrupt(&bytes));
    reseal(&mut bytes);
    // Now the damage is the parser's to find or, as here inside an expiry, to accept.
    let _ = Cache::restore(&bytes, clock(), (3, 4));
}

/// `entries` as a crafted version 2 LRU snapshot with default settings.
fn crafted(entries: &[(&str, &[u8], Option<i128>)]) -> Vec<u8> {
    let mut body = b"FCDS".to_vec();
    body.push(2); // version
    body.extend_from_slice(&[0, 0, 0, 0]); // no TTL, no byte limit, no item limit, no log
    body.push(0); // LRU
    body.push(entries.len() as u8);
    for (key, value, deadline) in entries {
        body = postcard::to_extend(&(key, serde_bytes(value), deadline), body).unwrap();
    }
    sealed(&body)
}

fn serde_bytes(v: &[u8]) -> Vec<u8> {
    v.to_vec()
}

#[test]
fn a_duplicate_key_is_corrupt_even_when_its_first_copy_expired_or_was_evicted() {
    let now = 1_700_000_000i128 * 1_000_000_000;
    let live = crafted(&[("a", b"1", None), ("b", b"2", None)]);
    assert!(Cache::restore(&live, clock(), (3, 4)).is_ok());
    // Both copies live.
    assert!(is_corrupt(&crafted(&[
        ("a", b"1", None),
        ("a", b"2", None)
    ])));
    // The first copy expired before the restore: it is skipped, and still the key is named twice.
    assert!(is_corrupt(&crafted(&[
        ("a", b"old", Some(now - 1_000_000_000)),
        ("a", b"new", None)
    ])));
    // The first copy is evicted while restoring (item limit 1): named twice all the same.
    let mut body = b"FCDS".to_vec();
    body.extend_from_slice(&[2, 0, 0, 1, 1, 0, 0, 3]); // max_items Some(1), LRU, 3 entries
    for (key, value) in [("a", b"1"), ("b", b"2"), ("a", b"3")] {
        body = postcard::to_extend(&(key, value.to_vec(), None::<i128>), body).unwrap();
    }
    assert!(is_corrupt(&sealed(&body)));
}
