//! Hostile input through the boundary: every call with malformed, huge, empty or extreme
//! arguments returns a value or a typed error and never traps (a trap would panic here, see
//! the `call!` wrapper), and the cache stays usable afterwards.

use faas_cache_host_test::{options, CacheError, Expiry, Guest, Options};

fn opts(max_size: Option<&str>, max_items: Option<u32>, log: u32) -> Options {
    Options {
        default_ttl: None,
        max_size: max_size.map(String::from),
        max_items,
        removal_log_capacity: log,
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    let mut g = Guest::new();
    let huge = "9".repeat(100_000);
    for size in [
        "",
        " ",
        "0",
        "-1",
        "-1M",
        "12X",
        "1e400G",
        "NaN",
        "inf",
        "0x10",
        "１K",
        "1.2.3K",
        "K",
        "\u{0}",
        huge.as_str(),
        "18446744073709551616",
        "16777216T",
    ] {
        let e = g.create(&opts(Some(size), None, 0)).unwrap_err();
        assert!(
            matches!(e, CacheError::InvalidArgument(_)),
            "{size:?}: {e:?}"
        );
    }
    for ttl in [
        f64::NAN,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -f64::MIN_POSITIVE,
    ] {
        let mut o = options();
        o.default_ttl = Some(ttl);
        assert!(matches!(g.create(&o), Err(CacheError::InvalidArgument(_))));
    }
    assert!(matches!(
        g.create(&opts(None, Some(0), 0)),
        Err(CacheError::InvalidArgument(_))
    ));
}

#[test]
fn extreme_but_valid_settings_work() {
    let mut g = Guest::new();
    let max = g
        .create(&opts(
            Some("18446744073709551615"),
            Some(u32::MAX),
            u32::MAX,
        ))
        .unwrap();
    g.set(max, "k", b"v").unwrap();
    assert_eq!(g.max_size_bytes(max), Some(u64::MAX));
    let one_byte = g.create(&opts(Some("1"), None, 10)).unwrap();
    assert!(g.byte_size(one_byte) <= 1);
    let e = g.set(one_byte, "", b"").unwrap_err();
    assert!(
        matches!(e, CacheError::DataTooLarge(ref x) if x.available_bytes == 0),
        "{e:?}"
    );
    assert_eq!(g.len(one_byte), 0);
    let mut o = options();
    o.default_ttl = Some(f64::MAX);
    let long = g.create(&o).unwrap();
    g.set(long, "k", b"v").unwrap();
    // Deadlines are clamped to the year 2262: still a TTL, about 7.5e9 s away.
    assert!(g.get_ttl(long, "k").unwrap().unwrap() > 7e9);
    o.default_ttl = Some(f64::MIN_POSITIVE);
    let tiny = g.create(&o).unwrap();
    g.set(tiny, "k", b"v").unwrap();
    assert_eq!(
        g.get(tiny, "k"),
        Some(b"v".to_vec()),
        "5e-324 s rounds to 0 ns: live at its instant"
    );
}

#[test]
fn huge_empty_and_odd_keys_and_values() {
    let mut g = Guest::new();
    let d = g.create(&opts(Some("1M"), None, 4)).unwrap();
    g.set(d, "", b"").unwrap();
    assert_eq!(g.get(d, ""), Some(vec![]));
    let odd = "k\u{0}\u{ffff}😀\r\n";
    g.set(d, odd, b"v").unwrap();
    assert!(g.contains(d, odd));
    let huge_key = "x".repeat(2 << 20);
    assert!(matches!(
        g.set(d, &huge_key, b"v"),
        Err(CacheError::DataTooLarge(_))
    ));
    assert!(matches!(
        g.set(d, "k", &vec![7; 3 << 20]),
        Err(CacheError::DataTooLarge(_))
    ));
    assert_eq!(g.get(d, &huge_key), None);
    assert!(!g.delete(d, &huge_key));
    assert!(matches!(
        g.set_ttl(d, &huge_key, Some(1.0)),
        Err(CacheError::KeyNotFound)
    ));
    let unbounded = g.create(&options()).unwrap();
    g.set(unbounded, "big", &vec![1; 8 << 20]).unwrap();
    assert_eq!(g.get(unbounded, "big").map(|v| v.len()), Some(8 << 20));
    assert_eq!(g.len(d), 2);
}

#[test]
fn garbage_snapshots_are_corrupt_snapshot_errors() {
    let mut g = Guest::new();
    let d = g.create(&opts(Some("1M"), Some(10), 3)).unwrap();
    g.set_with_expiry(d, "a", b"1", Expiry::Ttl(10.0)).unwrap();
    g.set(d, "b", &[2; 300]).unwrap();
    let good = g.snapshot(d);
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0xff; 64],
        b"FCDS".to_vec(),
        b"FCDS\x01".to_vec(),
    ];
    // Every single-byte corruption and every truncation of a real snapshot.
    for i in 0..good.len() {
        inputs.push(good[..i].to_vec());
        for x in [0x00, 0x7f, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] = x;
            inputs.push(bad);
        }
    }
    // Lengths and counts that claim far more than is there.
    let mut claims = b"FCDS\x01\x00\x00\x00\x00".to_vec();
    claims.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    inputs.push(claims);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for n in [1usize, 7, 100, 10_000] {
        let bytes = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        inputs.push(bytes);
    }
    for input in &inputs {
        match g.restore(input) {
            Ok(r) => {
                // A corruption that still decodes is a valid cache within its limits.
                let _ = (g.keys(r), g.byte_size(r), g.snapshot(r));
                g.drop_dict(r);
            }
            Err(CacheError::CorruptSnapshot(m)) => assert!(!m.is_empty()),
            Err(e) => panic!("restore gave {e:?}"),
        }
    }
    assert_eq!(g.keys(d), ["a", "b"]);
}

/// A deterministic stream of random calls with random arguments for a few seconds: no trap, every
/// error a typed value, the accounting within limits.
#[test]
fn random_calls_with_random_arguments_never_trap() {
    let seconds: f64 = std::env::var("FAAS_CACHE_HOSTILE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let mut g = Guest::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let floats = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        0.0,
        -0.0,
        1e-9,
        0.5,
        3.0,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
        1.7e9,
    ];
    let sizes = [
        "",
        "0",
        "1",
        "100",
        "4K",
        "0.5M",
        "12X",
        "-1",
        "18446744073709551615",
        "1e400G",
    ];
    let d = g.create(&opts(Some("64K"), Some(50), 16)).unwrap();
    let start = std::time::Instant::now();
    let mut calls = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        let r = next();
        let key = format!("k{}", r % 40);
        let val = vec![(r >> 8) as u8; ((r >> 16) % 5000) as usize];
        let f = floats[(r >> 32) as usize % floats.len()];
        match r % 23 {
            0 => drop(g.get(d, &key)),
            1 => drop(g.set(d, &key, &val)),
            2 => drop(g.set_with_expiry(d, &key, &val, Expiry::Ttl(f))),
            3 => drop(g.set_with_expiry(d, &key, &val, Expiry::At(g.now_secs() + f))),
            4 => drop(g.delete(d, &key)),
            5 => drop(g.pop(d, &key)),
            6 => drop(g.pop_item(d, r & 1 == 0)),
            7 => drop(g.set_default(d, &key, &val)),
            8 => drop(g.move_to_end(d, &key, r & 1 == 0)),
            9 => drop(g.get_ttl(d, &key)),
            10 => drop(g.set_ttl(d, &key, Some(f))),
            11 => drop(g.expire_at(d, &key, f)),
            12 => drop(g.set_default_ttl(d, if r & 2 == 0 { None } else { Some(f) })),
            13 => drop(g.change_byte_size(d, Some(sizes[(r >> 40) as usize % sizes.len()]))),
            14 => drop(g.change_max_items(d, Some(((r >> 40) % 60) as u32))),
            15 => drop(g.items(d)),
            16 => drop(g.drain_removals(d, (r >> 40) as u32 % 20)),
            17 => g.advance(f64::from((r >> 40) as u32 % 5000) / 1000.0),
            18 => drop(g.tick()),
            19 => {
                let snap = g.snapshot(d);
                let r2 = g.restore(&snap).unwrap();
                assert_eq!(g.keys(r2), g.keys(d));
                g.drop_dict(r2);
            }
            20 => drop(g.describe(d)),
            21 => drop(g.set_many(d, &[(key.clone(), val.clone()), (format!("{key}x"), val)])),
            _ => g.advance(-f64::from((r >> 40) as u32 % 3000)),
        }
        if let Some(limit) = g.max_size_bytes(d) {
            assert!(g.byte_size(d) <= limit);
        }
        calls += 1;
    }
    println!("{calls} random calls in {seconds} s: no trap");
    assert!(calls > 100);
}
