//! `cargo xtask demo`: the faas:cache component in wasmtime, with simulated time.
//! Shows set/get, TTL expiry, LRU and byte eviction, DataTooLarge, removal events, a snapshot
//! restored in a second instance later in time, stats and the describe line.

use faas_cache_host_test::{CacheError, Dict, Expiry, Guest, Options};

fn show(v: Option<Vec<u8>>) -> String {
    match v {
        Some(bytes) => format!("{:?}", String::from_utf8_lossy(&bytes)),
        None => "(absent)".into(),
    }
}

fn removals(g: &mut Guest, d: Dict) -> String {
    let r: Vec<String> = g
        .drain_removals(d, 100)
        .iter()
        .map(|r| format!("{} ({:?})", r.key, r.cause))
        .collect();
    if r.is_empty() {
        "none".into()
    } else {
        r.join(", ")
    }
}

fn main() {
    let started = std::time::Instant::now();
    let mut g = Guest::new();
    println!(
        "faas:cache component: {} bytes, imports {:?}, compiled and instantiated in {:.0} ms\n",
        faas_cache_artifact::COMPONENT.len(),
        faas_cache_host_test::component()
            .component_type()
            .imports(faas_cache_host_test::engine())
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let d = g
        .create(&Options {
            default_ttl: Some(60.0),
            max_size: Some("2K".into()),
            max_items: Some(4),
            removal_log_capacity: 32,
        })
        .expect("create");
    println!("1. A cache: {}", g.describe(d));

    g.set(d, "user:1", b"Ada").unwrap();
    g.set_with_expiry(d, "session:9", b"token", Expiry::Ttl(5.0))
        .unwrap();
    println!(
        "2. get user:1 -> {}, get session:9 -> {}",
        show(g.get(d, "user:1")),
        show(g.get(d, "session:9"))
    );
    println!(
        "   ttl user:1 = {:?} s (default TTL), ttl session:9 = {:?} s",
        g.get_ttl(d, "user:1").unwrap(),
        g.get_ttl(d, "session:9").unwrap()
    );

    g.advance(6.0);
    println!(
        "3. Simulated clock +6 s: is-expired session:9 = {:?} (present, expired)",
        g.is_expired(d, "session:9")
    );
    println!(
        "   get session:9 -> {}; is-expired now {:?} (removed); removals: {}",
        show(g.get(d, "session:9")),
        g.is_expired(d, "session:9"),
        removals(&mut g, d)
    );

    for k in ["a", "b", "c", "d"] {
        g.set(d, k, k.as_bytes()).unwrap();
    }
    println!(
        "4. Item limit 4, wrote a b c d: keys LRU->MRU {:?}; evicted: {}",
        g.keys(d),
        removals(&mut g, d)
    );
    g.get(d, "a");
    g.set(d, "e", b"e").unwrap();
    println!(
        "   get a (now MRU), set e: keys {:?}; evicted: {}",
        g.keys(d),
        removals(&mut g, d)
    );

    g.set(d, "big", &[b'x'; 1200]).unwrap();
    println!(
        "5. Byte budget 2K, set a 1200-byte value: keys {:?}, {} bytes; evicted: {}",
        g.keys(d),
        g.byte_size(d),
        removals(&mut g, d)
    );
    match g.set(d, "huge", &[0; 4096]) {
        Err(CacheError::DataTooLarge(x)) => println!(
            "6. A 4 KiB value: DataTooLarge (entry {} bytes, budget leaves {}); the cache is unchanged: {:?}",
            x.entry_bytes,
            x.available_bytes,
            g.keys(d)
        ),
        other => println!("6. unexpected: {other:?}"),
    }

    let snapshot = g.snapshot(d);
    let mut later = Guest::new();
    later.advance(50.0);
    let r = later.restore(&snapshot).expect("restore");
    println!(
        "7. Snapshot of {} bytes restored in a new instance 50 s later: keys {:?}, ttl e = {:?} s (absolute expiry kept)",
        snapshot.len(),
        later.keys(r),
        later.get_ttl(r, "e").unwrap()
    );
    later.advance(20.0);
    println!(
        "   +20 s more: tick() purged {} entries; keys {:?}",
        later.tick(),
        later.keys(r)
    );

    let s = g.stats(d);
    println!(
        "8. Stats: hits {}, misses {}, inserts {}, updates {}, evicted for count {}, for size {}, expired {}",
        s.hits, s.misses, s.inserts, s.updates, s.evicted_count, s.evicted_size, s.expired
    );
    println!("   {}", g.describe(d));
}
