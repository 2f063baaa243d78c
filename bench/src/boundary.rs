//! Section 2 of the report: the cost of crossing the component boundary in wasmtime. The floor
//! is measured in the same engine with a hand-written component whose exports do nothing:
//! `empty()` and `get(key: string) -> option<list<u8>>`, which only returns 100 static bytes
//! (the floor plus the copy every get-hit pays). Invariant: the floor and the cache are called
//! through the same typed-call path, in the same engine, in the same run.

use wasmtime::component::{Component, Linker, TypedFunc};
use wasmtime::Store;

use faas_cache_host::Options;

use crate::measure::{per_op, repeat, Sample};
use crate::workload::{key, shuffled_keys, value};

/// The floor component, in one core module: `empty`; `get`, which returns 100 bytes that
/// already sit in its memory (its key goes to a fixed arena); and `get-many`, which answers every
/// key with those 100 bytes (its arguments go to a bump arena reset after each call).
const FLOOR_WAT: &str = r#"
(component
  (core module $m
    (memory (export "memory") 3)
    (global $bump (mut i32) (i32.const 16384))
    (func (export "empty"))
    (func (export "realloc-fixed") (param i32 i32 i32 i32) (result i32)
      (i32.const 4096))
    (func (export "realloc-bump") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.const 7)) (i32.const -8)))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "get") (param i32 i32) (result i32)
      (i32.store8 (i32.const 64) (i32.const 1))
      (i32.store (i32.const 68) (i32.const 256))
      (i32.store (i32.const 72) (i32.const 100))
      (i32.const 64))
    (func (export "get-many") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $e i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $e (i32.add (i32.const 131072) (i32.mul (local.get $i) (i32.const 12))))
          (i32.store8 (local.get $e) (i32.const 1))
          (i32.store (i32.add (local.get $e) (i32.const 4)) (i32.const 256))
          (i32.store (i32.add (local.get $e) (i32.const 8)) (i32.const 100))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (global.set $bump (i32.const 16384))
      (i32.store (i32.const 80) (i32.const 131072))
      (i32.store (i32.const 84) (local.get $len))
      (i32.const 80)))
  (core instance $i (instantiate $m))
  (func (export "empty") (canon lift (core func $i "empty")))
  (func (export "get") (param "key" string) (result (option (list u8)))
    (canon lift (core func $i "get") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc-fixed"))))
  (func (export "get-many") (param "keys" (list string)) (result (list (option (list u8))))
    (canon lift (core func $i "get-many") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc-bump")))))
"#;

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
    let floor_binary = wat::parse_str(FLOOR_WAT).expect("the floor component parses");
    let floor = Component::new(engine, floor_binary).expect("the floor component compiles");
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &floor)
        .expect("instantiate the floor");
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
