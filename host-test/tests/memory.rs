//! The memory bound under a hard host limit (wasmtime `StoreLimits`): a churn of mixed sizes far
//! beyond the budget never traps, and when the host limit is below the budget the cache evicts
//! (a full cache) instead of trapping. Both eviction policies are held to the same bound.

use faas_cache_host_test::{CacheError, EvictionPolicy, Guest, Options};

const POLICIES: [EvictionPolicy; 2] = [EvictionPolicy::Lru, EvictionPolicy::S3Fifo];

const MIB: usize = 1 << 20;

fn churn(g: &mut Guest, d: faas_cache_host_test::Dict, total_bytes: usize) -> (u64, u64) {
    let mut rng = 0x1234_5678_9abc_def1u64;
    let (mut written, mut oom) = (0usize, 0u64);
    let mut i = 0u64;
    while written < total_bytes {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // 16 B to 64 KiB, log-uniform.
        let size = 16usize << (rng % 13);
        let size = size.min(64 * 1024);
        match g.set(d, &format!("key-{}", rng % 5000), &vec![i as u8; size]) {
            Ok(()) => {}
            Err(CacheError::OutOfMemory) => oom += 1,
            Err(e) => panic!("set failed: {e:?}"),
        }
        if i.is_multiple_of(7) {
            let _ = g.get(d, &format!("key-{}", (rng >> 20) % 5000));
        }
        written += size;
        i += 1;
    }
    (i, oom)
}

#[test]
fn churn_of_ten_budgets_under_a_limit_of_one_and_a_half_budgets_never_traps() {
    for policy in POLICIES {
        churn_under_a_limit(policy);
    }
}

fn churn_under_a_limit(policy: EvictionPolicy) {
    let budget = 8 * MIB;
    let limit = budget * 3 / 2 + 2 * MIB;
    let mut g = Guest::with_memory_limit(limit);
    let d = g
        .create_with_policy(
            &Options {
                max_size: Some("8M".into()),
                ..opts(None, 64)
            },
            policy,
        )
        .unwrap();
    let (writes, oom) = churn(&mut g, d, 10 * budget);
    let memory = g.memory_bytes();
    println!(
        "{policy:?}: {writes} writes, {oom} out-of-memory, linear memory {:.2} MiB for a {} MiB budget (ratio {:.3}), {} refused growths",
        memory as f64 / MIB as f64,
        budget / MIB,
        memory as f64 / budget as f64,
        g.refused_growths()
    );
    assert!(g.byte_size(d) <= budget as u64);
    assert!(memory <= limit);
    // The cache still works.
    g.set(d, "after", b"ok").unwrap();
    assert_eq!(g.get(d, "after"), Some(b"ok".to_vec()));
}

#[test]
fn host_limit_below_the_budget_evicts_instead_of_trapping() {
    for policy in POLICIES {
        evicts_under_a_host_limit(policy);
    }
}

fn evicts_under_a_host_limit(policy: EvictionPolicy) {
    let limit = 4 * MIB;
    let mut g = Guest::with_memory_limit(limit);
    let d = g
        .create_with_policy(
            &Options {
                max_size: Some("64M".into()),
                ..opts(None, 16)
            },
            policy,
        )
        .unwrap();
    let (writes, oom) = churn(&mut g, d, 64 * MIB);
    println!(
        "{policy:?}: {writes} writes, {oom} out-of-memory errors, {} refused growths, {} entries left",
        g.refused_growths(),
        g.len(d)
    );
    assert!(g.refused_growths() > 0, "the test must hit the host limit");
    assert!(
        g.stats(d).evicted_size > 0,
        "memory pressure evicts like a full cache"
    );
    // Calls that need memory for their results keep working.
    let _ = g.keys(d);
    let _ = g.items(d);
    let snap = g.snapshot(d);
    assert!(!snap.is_empty());
    g.set(d, "after", b"ok").unwrap();
    assert_eq!(g.get(d, "after"), Some(b"ok".to_vec()));
    // A value four times the largest of the churn: the allocator evicts until it can receive it.
    // (A single argument that cannot be placed in the host's memory even with the cache empty
    // cannot be received at all: the canonical ABI copies it in before the guest can refuse.)
    g.set(d, "large", &vec![0; MIB / 4]).unwrap();
    assert_eq!(g.get(d, "large").map(|v| v.len()), Some(MIB / 4));
}

fn opts(default_ttl: Option<f64>, log: u32) -> Options {
    Options {
        default_ttl,
        max_size: None,
        max_items: None,
        removal_log_capacity: log,
    }
}

/// Fills `d` with 1 KiB entries until the host has refused memory a few hundred times.
fn fill_until_refused(g: &mut Guest, d: faas_cache_host_test::Dict, prefix: &str) {
    let mut i = 0;
    while g.refused_growths() < 200 {
        g.set(d, &format!("{prefix}{i}"), &[7; 1024]).unwrap();
        i += 1;
    }
}

#[test]
fn entries_with_ttls_are_evicted_under_pressure_without_reading_the_clock_in_the_allocator() {
    // Evicting while the host copies arguments in must not call an import (wasmtime forbids it).
    for policy in POLICIES {
        let mut g = Guest::with_memory_limit(4 * MIB);
        let d = g
            .create_with_policy(&opts(Some(1000.0), 16), policy)
            .unwrap();
        fill_until_refused(&mut g, d, "k");
        g.advance(2000.0);
        fill_until_refused(&mut g, d, "after-expiry-");
        assert!(g.stats(d).evicted_size > 0, "{policy:?}");
    }
}

#[test]
fn set_default_with_a_large_key_under_pressure_does_not_trap() {
    let mut g = Guest::with_memory_limit(4 * MIB);
    let d = g.create(&opts(None, 0)).unwrap();
    fill_until_refused(&mut g, d, "k");
    let key = "x".repeat(MIB);
    assert_eq!(g.set_default(d, &key, b"v"), Ok(b"v".to_vec()));
    // Reading it copies the 1 MiB key in again: memory pressure may evict the entry for that.
    assert!(matches!(g.get(d, &key).as_deref(), Some(b"v") | None));
}

#[test]
fn drain_removals_and_get_many_under_pressure_return_what_fits() {
    let mut g = Guest::with_memory_limit(8 * MIB);
    let a = g.create(&opts(None, 1_000_000)).unwrap();
    for i in 0..30_000 {
        g.set(a, &format!("a{i}"), b"v").unwrap();
    }
    g.clear(a);
    let b = g.create(&opts(None, 0)).unwrap();
    fill_until_refused(&mut g, b, "b");
    let mut drained = 0;
    loop {
        let n = g.drain_removals(a, u32::MAX).len();
        if n == 0 {
            break;
        }
        drained += n;
    }
    assert!(drained > 0);
    let keys: Vec<String> = (0..40_000).map(|i| format!("b{i}")).collect();
    assert_eq!(g.get_many(b, &keys).len(), keys.len(), "one result per key");
}

#[test]
fn arguments_that_cannot_fit_under_the_cap_are_refused_with_an_error_not_a_trap() {
    let mut g = Guest::with_memory_limit(4 * MIB);
    let d = g.create(&opts(None, 0)).unwrap();
    g.set(d, "small", b"v").unwrap();
    // Larger than the cap: the canonical ABI could not copy it in, and the instance would trap.
    let huge = vec![7u8; 5 * MIB];
    assert_eq!(g.set(d, "big", &huge), Err(CacheError::OutOfMemory));
    assert_eq!(g.set_default(d, "big", &huge), Err(CacheError::OutOfMemory));
    let huge_key = "k".repeat(5 * MIB);
    assert_eq!(g.get(d, &huge_key), None, "such a key cannot be stored");
    assert!(!g.contains(d, &huge_key));
    assert!(!g.delete(d, &huge_key));
    assert_eq!(g.get_ttl(d, &huge_key), Err(CacheError::KeyNotFound));
    assert_eq!(g.restore(&huge), Err(CacheError::OutOfMemory));
    // Nothing was lost: the instance lives on with its entry.
    assert_eq!(g.get(d, "small"), Some(b"v".to_vec()));
    // A batch whose whole does not fit is sent in runs that do: the same answers as one call.
    let entries: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("e{i}"), vec![i as u8; MIB]))
        .collect();
    assert_eq!(g.set_many(d, &entries), Ok(()));
    let mut keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
    keys.push(huge_key.clone());
    let values = g.get_many(d, &keys);
    assert_eq!(values.len(), keys.len());
    assert_eq!(
        values[5].as_deref(),
        Some(&[5u8; MIB][..]),
        "the last one written is kept"
    );
    assert_eq!(values[6], None);
    let with_huge = vec![
        ("ok".to_owned(), b"1".to_vec()),
        (huge_key.clone(), b"2".to_vec()),
    ];
    let e = g.set_many(d, &with_huge).unwrap_err();
    assert_eq!((e.index, e.error), (1, CacheError::OutOfMemory));
    assert_eq!(
        g.get(d, "ok"),
        Some(b"1".to_vec()),
        "entries before the failure are written"
    );
    assert!(g.delete_many(d, &keys) >= 1, "e5 at least was live");
    assert_eq!(g.get(d, "e5"), None);
}
