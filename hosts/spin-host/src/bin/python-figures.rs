//! `python-figures`: the Python guests' figures for the performance report (`cargo xtask bench`
//! runs it and reads its one line of JSON from stdout). Sizes of the Spin Python app alone and
//! composed with the cache; its compile and instantiate times in wasmtime (the engine and linker
//! the HTTP tests serve it with); and, in the Python test guest, nanoseconds per `FaaSCacheDict`
//! hit through the component against a plain `dict` lookup in the same interpreter.
//!
//! Needs `target/python/` built (`cargo xtask test` does it).

use spin_cache_host::client::{artifact, cache_component};
use spin_cache_host::python::PythonGuest;
use spin_cache_host::{compile_and_instantiate, compose};

const ITERATIONS: u32 = 200_000;
const RUNS: usize = 3;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> wasmtime::Result<()> {
    let hint = "build it with `cargo xtask test` (componentize-py)";
    let cache = cache_component();
    let app = artifact("target/python/spin-python-serve.wasm", hint);
    let composed = compose(&app, &cache)?;
    let mut compile = Vec::new();
    let mut instantiate = Vec::new();
    for _ in 0..RUNS {
        let (c, i) = compile_and_instantiate(&composed).await?;
        compile.push(c.as_secs_f64() * 1e3);
        instantiate.push(i.as_secs_f64() * 1e3);
    }
    let tests = compose(&artifact("target/python/tests.wasm", hint), &cache)?;
    let guest = PythonGuest::new(&tests)?;
    let mut per_op: Vec<serde_json::Value> = Vec::new();
    for _ in 0..RUNS {
        per_op.push(serde_json::from_str(&guest.run_bench(ITERATIONS)?)?);
    }
    let pick = |name: &str| {
        median(
            per_op
                .iter()
                .map(|f| f[name].as_f64().unwrap_or(f64::NAN))
                .collect(),
        )
    };
    let figures = serde_json::json!({
        "app_bytes": app.len(),
        "composed_bytes": composed.len(),
        "cache_bytes": cache.len(),
        "compile_ms": median(compile),
        "instantiate_ms": median(instantiate),
        "iterations": ITERATIONS,
        "loop_overhead_ns": pick("loop-overhead"),
        "get_ns": pick("faas-cache-get"),
        "getitem_ns": pick("faas-cache-getitem"),
        "set_ns": pick("faas-cache-set"),
        "dict_getitem_ns": pick("dict-getitem"),
        "binding_get_ns": pick("binding-get"),
        "binding_len_ns": pick("binding-len"),
    });
    println!("{figures}");
    Ok(())
}
