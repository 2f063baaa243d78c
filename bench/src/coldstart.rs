//! Section 5 of the report: what a host pays before the first answer: compiling the component,
//! pre-instantiating it, instantiating from `InstancePre`, the first call, and restoring a 1 MiB
//! and a 16 MiB snapshot (against the native core restoring the same bytes). Invariant: every
//! instantiation and restore runs in a fresh store.

use faas_cache::{Cache, SystemClock};
use faas_cache_host::Options;
use wasmtime::component::Component;

use crate::measure::{nanos, repeat, Sample};
use crate::workload::{key, value};

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ColdRow {
    pub step: String,
    /// Nanoseconds.
    pub time: Sample,
}

fn row(step: String, time: Sample) -> ColdRow {
    eprintln!(
        "  {step:<44} {:>12.1} us (spread {:.0}%)",
        time.ns / 1e3,
        time.spread * 100.0
    );
    ColdRow { step, time }
}

/// A snapshot of about `target` bytes of 100-byte entries, and its entry count.
fn snapshot_of(target: usize) -> (Vec<u8>, usize) {
    let mut g = crate::guest::instance();
    let d = g.create(&Options::new()).expect("create");
    let bytes = value();
    let mut n = 0;
    // Snapshots take ~115 bytes per entry here; check the real size in steps of 1%.
    let step = (target / 115 / 100).max(1);
    loop {
        for i in n..n + step {
            g.cache(d).set(&key(i), &bytes).expect("set");
        }
        n += step;
        if n * 108 >= target {
            let snap = g.cache(d).snapshot();
            if snap.len() >= target {
                return (snap, n);
            }
        }
    }
}

pub fn run(runs: usize, instances: usize) -> Vec<ColdRow> {
    eprintln!("cold start");
    let mut rows = Vec::new();
    let engine = crate::guest::host().engine();
    let artifact = faas_cache_artifact::COMPONENT;
    rows.push(row(
        format!("compile the component ({} KiB)", artifact.len() / 1024),
        repeat(runs, || {
            nanos(|| {
                Component::new(engine, artifact).expect("compile");
            })
        }),
    ));
    rows.push(row(
        "linker + instantiate_pre".into(),
        repeat(runs, || {
            nanos(|| {
                drop(
                    faas_cache_host::Host::builder()
                        .build_with(faas_cache_host::engine::component())
                        .expect("link"),
                )
            })
        }),
    ));
    let host = crate::guest::host();
    rows.push(row(
        "instantiate from InstancePre".into(),
        repeat(instances, || {
            nanos(|| drop(host.instantiate().expect("instantiate")))
        }),
    ));
    rows.push(row(
        "first call (create) in a new instance".into(),
        repeat(instances, || {
            let mut g = host.instantiate().expect("instantiate");
            nanos(|| {
                g.create(&Options::new()).expect("create");
            })
        }),
    ));
    for target in [1usize << 20, 16 << 20] {
        let (snap, entries) = snapshot_of(target);
        let label = format!(
            "{:.1} MiB, {entries} entries",
            snap.len() as f64 / (1 << 20) as f64
        );
        rows.push(row(
            format!("restore {label}: component"),
            repeat(runs, || {
                let mut g = host.instantiate().expect("instantiate");
                let mut restored = None;
                let ns = nanos(|| restored = Some(g.restore(&snap).expect("restore")));
                assert_eq!(g.cache(restored.expect("restored")).len() as usize, entries);
                ns
            }),
        ));
        rows.push(row(
            format!("restore {label}: native core"),
            repeat(runs, || {
                let mut restored = None;
                let ns = nanos(|| {
                    restored =
                        Some(Cache::restore(&snap, SystemClock, (1, 2)).expect("a valid snapshot"))
                });
                assert_eq!(restored.expect("restored").len(), entries);
                ns
            }),
        ));
    }
    rows
}
