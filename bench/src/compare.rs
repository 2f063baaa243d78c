//! `faas-cache-bench --compare-component OLD.wasm`: the built component against another build of
//! it (say, main before a change), in one process, one engine, with their runs interleaved
//! (new, old, new, ...) so that a noisy neighbour slows both alike. Prints the size of each and,
//! per call, both medians and their ratio. Invariant: both components get the same keys, values
//! and call sequence; only the component bytes differ.

use faas_cache_host::{engine, seed::TEST_SEED, CacheId, Host, Instance, Options};
use wasmtime::component::Component;

use crate::measure::{per_op, Sample};
use crate::report::ns;
use crate::workload::{key, shuffled_keys, value};

const ENTRIES: usize = 1_000;

fn filled(component: &Component) -> (Instance, CacheId) {
    let host = Host::builder()
        .simulated_clock()
        .seed(TEST_SEED)
        .build_with(component)
        .expect("link the component");
    let mut instance = host.instantiate().expect("instantiate");
    let id = instance.create(&Options::new()).expect("create");
    for i in 0..ENTRIES {
        instance.cache(id).set(&key(i), &value()).expect("set");
    }
    (instance, id)
}

type Case = fn(&mut Instance, CacheId, &[String], &[String], usize);

pub fn run(old_path: &str, runs: usize, calls: usize) -> Result<(), String> {
    let old_bytes = std::fs::read(old_path).map_err(|e| format!("{old_path}: {e}"))?;
    let engine = engine::engine();
    let old = Component::new(engine, &old_bytes).map_err(|e| format!("{old_path}: {e}"))?;
    let new = engine::component();
    println!(
        "component size: new {} bytes, old {} bytes ({:+} bytes)",
        faas_cache_host::COMPONENT.len(),
        old_bytes.len(),
        faas_cache_host::COMPONENT.len() as i64 - old_bytes.len() as i64
    );
    let mut subjects = [filled(new), filled(&old)];
    let present = shuffled_keys(0, ENTRIES);
    let absent = shuffled_keys(ENTRIES, 2 * ENTRIES);
    let cases: [(&str, Case); 4] = [
        ("len()", |g, d, _, _, n| {
            for _ in 0..n {
                std::hint::black_box(g.cache(d).len());
            }
        }),
        ("get, hit (100 B)", |g, d, p, _, n| {
            for i in 0..n {
                assert!(g.cache(d).get(&p[i % p.len()]).is_some());
            }
        }),
        ("get, miss", |g, d, _, a, n| {
            for i in 0..n {
                assert!(g.cache(d).get(&a[i % a.len()]).is_none());
            }
        }),
        ("set, overwrite (100 B)", |g, d, p, _, n| {
            let v = value();
            for i in 0..n {
                g.cache(d).set(&p[i % p.len()], &v).expect("set");
            }
        }),
    ];
    println!("| call | new | old | new / old |\n| --- | --- | --- | --- |");
    for (name, case) in cases {
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..runs.max(1) {
            for (which, (instance, id)) in subjects.iter_mut().enumerate() {
                times[which].push(per_op(calls, || {
                    case(instance, *id, &present, &absent, calls)
                }));
            }
        }
        let [new_t, old_t] = times.map(Sample::of);
        println!(
            "| {name} | {} | {} | {:.3} |",
            ns(new_t.ns),
            ns(old_t.ns),
            new_t.ns / old_t.ns
        );
    }
    Ok(())
}
