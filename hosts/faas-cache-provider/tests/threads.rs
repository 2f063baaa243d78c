//! Many instances on many threads hammering one named cache through the provider's host
//! functions (what a guest's calls reach): no lost or torn writes, and the core's invariant
//! check holds after.

use std::sync::{Arc, Barrier};

use faas_cache_provider::bindings::faas::cache::cache::{Host as _, HostCacheDict as _};
use faas_cache_provider::bindings::faas::cache::named::Host as _;
use faas_cache_provider::{CacheCtx, CacheView, EvictionPolicy, Options, Scope, ScopeLimits};
use wasmtime::component::ResourceTable;

fn options(max: &str) -> Options {
    Options {
        default_ttl: None,
        max_size: Some(max.into()),
        max_items: None,
        removal_log_capacity: 16,
    }
}

#[test]
fn threads_hammering_one_named_cache_lose_and_tear_nothing() {
    const THREADS: usize = 8;
    const ROUNDS: u32 = 4_000;
    let scope = Scope::new(ScopeLimits::default());
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let scope = scope.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                // Each round is an instance: a fresh ctx and table, as under --reuse 1.
                barrier.wait();
                for round in 0..ROUNDS {
                    let mut ctx = CacheCtx::new(scope.clone());
                    let mut table = ResourceTable::new();
                    let mut view = CacheView::new(&mut ctx, &mut table);
                    let cache = view
                        .open("shared".into(), options("8M"), EvictionPolicy::S3Fifo)
                        .unwrap()
                        .unwrap();
                    let own = format!("t{t}:own");
                    // A value whose every byte names its writer and round: a torn write shows.
                    let value = format!("{t:02}:{round:05}").repeat(20).into_bytes();
                    view.set(cache_rep(&cache), own.clone(), value.clone())
                        .unwrap()
                        .unwrap();
                    let read = view.get(cache_rep(&cache), own.clone()).unwrap();
                    assert_eq!(read.as_deref(), Some(&value[..]), "own key of thread {t}");
                    // A key every thread writes: whatever is read is one whole write.
                    view.set(cache_rep(&cache), "contended".into(), value)
                        .unwrap()
                        .unwrap();
                    if let Some(v) = view.get(cache_rep(&cache), "contended".into()).unwrap() {
                        let first = &v[..8];
                        assert!(v.chunks(8).all(|c| c == first), "torn value");
                    }
                    view.set(
                        cache_rep(&cache),
                        format!("t{t}:r{round}"),
                        vec![t as u8; 32],
                    )
                    .unwrap()
                    .unwrap();
                    let _ = view.drain_removals(cache_rep(&cache), 4).unwrap();
                    view.drop(cache).unwrap();
                    let _ = view.tick().unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut ctx = CacheCtx::new(scope.clone());
    let mut table = ResourceTable::new();
    let mut view = CacheView::new(&mut ctx, &mut table);
    let cache = view
        .open("shared".into(), options("8M"), EvictionPolicy::S3Fifo)
        .unwrap()
        .unwrap();
    // No write lost: the 8 MiB cache holds every key written (8 x 4,001 small entries).
    let len = view.len(cache_rep(&cache)).unwrap() as usize;
    assert_eq!(len, THREADS * (ROUNDS as usize + 1) + 1);
    for t in 0..THREADS {
        let last = format!("{t:02}:{:05}", ROUNDS - 1).repeat(20).into_bytes();
        assert_eq!(
            view.peek(cache_rep(&cache), format!("t{t}:own")).unwrap(),
            Some(last)
        );
    }
    let stats = view.stats(cache_rep(&cache)).unwrap();
    assert_eq!(
        stats.inserts + stats.updates,
        (THREADS as u64) * u64::from(ROUNDS) * 3
    );
    assert_eq!(scope.names(), ["shared"]);
    scope.check_invariants().unwrap();
}

/// A borrow of the handle for one call (the generated traits take the resource by value).
fn cache_rep<T: 'static>(r: &wasmtime::component::Resource<T>) -> wasmtime::component::Resource<T> {
    wasmtime::component::Resource::new_borrow(r.rep())
}
