//! Section 2 of the report: the cost of crossing the component boundary in wasmtime. The floor
//! is measured in the same engine with a hand-written component (`faas_cache_bench::floor`,
//! shared with the instruction counts of `benches/instructions.rs`) whose exports do nothing:
//! `empty()` and `get(key: string) -> option<list<u8>>`, which only returns 100 static bytes
//! (the floor plus the copy every get-hit pays). Invariant: the floor and the cache are called
//! through the same typed-call path, in the same engine, in the same run.

use wasmtime::component::TypedFunc;

use faas_cache_host::Options;

use crate::measure::{per_op, repeat, Sample};
use crate::workload::{key, shuffled_keys, value};

/// One measured call shape.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct BoundaryRow {
    pub call: String,
    /// Keys carried per call (1 for single calls, the batch size for batch calls, 0 for none).
    pub keys_per_call: usize,
    /// Nanoseconds per call.
    pub per_call: Sample,
    /// Nanoseconds per key (per call when a call carries no key).
    pub per_key: f64,
}

fn row(call: &str, keys_per_call: usize, per_call: Sample) -> BoundaryRow {
    let per_key = per_call.ns / keys_per_call.max(1) as f64;
    eprintln!(
        "  {call:<28} {:>9.1} ns/call {:>8.1} ns/key (spread {:.0}%)",
        per_call.ns,
        per_key,
        per_call.spread * 100.0
    );
    BoundaryRow {
        call: call.to_string(),
        keys_per_call,
        per_call,
        per_key,
    }
}

/// Entries held by the cache during the boundary measurements.
pub const ENTRIES: usize = 1_000;
pub const BATCHES: [usize; 4] = [1, 10, 100, 1000];

pub fn run(runs: usize, calls: usize) -> Vec<BoundaryRow> {
    eprintln!("wasmtime boundary, {ENTRIES} entries");
    let mut rows = Vec::new();
    let engine = crate::guest::host().engine();
    let (mut store, instance) = faas_cache_bench::floor::instantiate(engine);
    let empty: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "empty").expect("empty");
    let get: TypedFunc<(&str,), (Option<Vec<u8>>,)> =
        instance.get_typed_func(&mut store, "get").expect("get");
    rows.push(row(
        "floor: empty()",
        0,
        repeat(runs, || {
            per_op(calls, || {
                for _ in 0..calls {
                    empty.call(&mut store, ()).expect("empty");
                }
            })
        }),
    ));
    let probes = shuffled_keys(0, ENTRIES);
    rows.push(row(
        "floor: get(key) -> 100 B",
        1,
        repeat(runs, || {
            per_op(calls, || {
                for i in 0..calls {
                    let (v,) = get.call(&mut store, (&probes[i % ENTRIES],)).expect("get");
                    assert_eq!(v.map(|v| v.len()), Some(100));
                }
            })
        }),
    ));

    for batch in BATCHES {
        let groups: Vec<Vec<String>> = probes.chunks(batch).map(<[String]>::to_vec).collect();
        // Typed here, so that the borrowed keys' lifetime is this batch's.
        let get_many = instance
            .get_typed_func::<(&[String],), (Vec<Option<Vec<u8>>>,)>(&mut store, "get-many")
            .expect("get-many");
        let batch_calls = (calls / batch).max(10);
        rows.push(row(
            &format!("floor: get-many x{batch}"),
            batch,
            repeat(runs, || {
                per_op(batch_calls, || {
                    for i in 0..batch_calls {
                        let (got,) = get_many
                            .call(&mut store, (&groups[i % groups.len()],))
                            .expect("get-many");
                        assert_eq!(got.len(), batch);
                    }
                })
            }),
        ));
    }

    let mut g = crate::guest::instance();
    let d = g.create(&Options::new()).expect("create");
    let bytes = value();
    for i in 0..ENTRIES {
        g.cache(d).set(&key(i), &bytes).expect("set");
    }
    let absent = shuffled_keys(ENTRIES, 2 * ENTRIES);
    rows.push(row(
        "cache: len()",
        0,
        repeat(runs, || {
            per_op(calls, || {
                for _ in 0..calls {
                    std::hint::black_box(g.cache(d).len());
                }
            })
        }),
    ));
    rows.push(row(
        "cache: get, hit (100 B)",
        1,
        repeat(runs, || {
            per_op(calls, || {
                for i in 0..calls {
                    let v = g.cache(d).get(&probes[i % ENTRIES]);
                    assert_eq!(v.map(|v| v.len()), Some(100));
                }
            })
        }),
    ));
    rows.push(row(
        "cache: get, miss",
        1,
        repeat(runs, || {
            per_op(calls, || {
                for i in 0..calls {
                    assert!(g.cache(d).get(&absent[i % ENTRIES]).is_none());
                }
            })
        }),
    ));
    rows.push(row(
        "cache: set, overwrite (100 B)",
        1,
        repeat(runs, || {
            per_op(calls, || {
                for i in 0..calls {
                    g.cache(d).set(&probes[i % ENTRIES], &bytes).expect("set");
                }
            })
        }),
    ));
    for batch in BATCHES {
        let groups: Vec<Vec<String>> = probes.chunks(batch).map(<[String]>::to_vec).collect();
        let batch_calls = (calls / batch).max(10);
        rows.push(row(
            &format!("cache: get-many x{batch}"),
            batch,
            repeat(runs, || {
                per_op(batch_calls, || {
                    for i in 0..batch_calls {
                        let got = g.cache(d).get_many(&groups[i % groups.len()]);
                        assert_eq!(got.len(), batch);
                    }
                })
            }),
        ));
    }
    for batch in BATCHES {
        let groups: Vec<Vec<(String, Vec<u8>)>> = probes
            .chunks(batch)
            .map(|c| c.iter().map(|k| (k.clone(), bytes.clone())).collect())
            .collect();
        let batch_calls = (calls / batch).max(10);
        rows.push(row(
            &format!("cache: set-many x{batch}"),
            batch,
            repeat(runs, || {
                per_op(batch_calls, || {
                    for i in 0..batch_calls {
                        g.cache(d)
                            .set_many(&groups[i % groups.len()])
                            .expect("set-many");
                    }
                })
            }),
        ));
    }
    rows
}
