//! Caches an instance `create`s under a scope's ceiling: `create` takes any settings, as in
//! `cache` (no byte limit needed), and the host keeps the instance's own caches together within
//! the ceiling by evicting from the fullest, as the component does when its host refuses memory.

use faas_cache_provider::bindings::faas::cache::cache::{HostCacheDict as _, Options};
use faas_cache_provider::{CacheCtx, CacheError, CacheView, Scope, ScopeLimits};
use wasmtime::component::{Resource, ResourceTable};

fn borrow<T: 'static>(r: &Resource<T>) -> Resource<T> {
    Resource::new_borrow(r.rep())
}

#[test]
fn own_caches_without_a_limit_are_kept_within_the_ceiling_by_eviction() {
    let scope = Scope::new(ScopeLimits {
        ceiling: Some(1 << 20),
        max_names: Some(4),
    });
    let mut ctx = CacheCtx::new(scope);
    let mut table = ResourceTable::new();
    let mut view = CacheView::new(&mut ctx, &mut table);
    let unbounded = Options {
        default_ttl: None,
        max_size: None,
        max_items: None,
        removal_log_capacity: u32::MAX,
    };
    let a = view.create(unbounded.clone()).unwrap().unwrap();
    let b = view.create(unbounded).unwrap().unwrap();
    for i in 0..3_000 {
        let cache = if i % 3 == 0 { &a } else { &b };
        view.set(borrow(cache), format!("k{i}"), vec![7; 1000])
            .unwrap()
            .unwrap();
    }
    let held: u64 = [&a, &b]
        .iter()
        .map(|c| view.byte_size(borrow(c)).unwrap())
        .sum();
    assert!(held <= 1 << 20, "{held}");
    assert_eq!(
        view.max_size_bytes(borrow(&b)).unwrap(),
        None,
        "no limit was imposed"
    );
    let evicted = view.stats(borrow(&b)).unwrap().evicted_size;
    assert!(evicted > 0);
    // The newest entry is kept: eviction goes least recently used first.
    assert!(view.contains(borrow(&b), "k2999".into()).unwrap());
    // An entry larger than the whole ceiling is refused, and nothing changes.
    let len = view.len(borrow(&b)).unwrap();
    assert_eq!(
        view.set(borrow(&b), "huge".into(), vec![0; 2 << 20])
            .unwrap(),
        Err(CacheError::OutOfMemory)
    );
    assert_eq!(view.len(borrow(&b)).unwrap(), len);
    // The removal logs keep at most one record per 64 bytes of the ceiling, and their keys
    // and values together within it (the oldest dropped and counted).
    let dropped = view.stats(borrow(&b)).unwrap().removals_dropped;
    let records = view.drain_removals(borrow(&b), u32::MAX).unwrap();
    assert!(records.len() as u64 <= (1 << 20) / 64);
    let bytes: usize = records.iter().map(|r| r.key.len() + r.value.len()).sum();
    assert!(bytes <= 1 << 20 && dropped > 0, "{bytes} {dropped}");
}
