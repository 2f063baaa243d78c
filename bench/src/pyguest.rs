//! Section 9 of the report: Python guests (componentize-py). The figures come from the Spin
//! stand-in host's `python-figures` binary (`hosts/spin-host`, which runs it in wasmtime with
//! WASI), which this module runs and whose one line of JSON it keeps.
//! Invariant: nothing here measures; it only runs that binary and renders what it printed.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// What `python-figures` printed (see its doc comment for each figure).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PyGuest {
    pub app_bytes: u64,
    pub composed_bytes: u64,
    pub cache_bytes: u64,
    pub compile_ms: f64,
    pub instantiate_ms: f64,
    pub iterations: u64,
    pub loop_overhead_ns: f64,
    pub get_ns: f64,
    pub getitem_ns: f64,
    pub set_ns: f64,
    pub dict_getitem_ns: f64,
    /// The generated binding's `get`, without the package's wrapper.
    pub binding_get_ns: f64,
    /// The generated binding's `len` (no arguments, a `u32` back).
    pub binding_len_ns: f64,
}

/// Runs `python-figures` (needs `target/python/`, which `cargo xtask test` builds).
pub fn run(root: &Path) -> Result<PyGuest, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--package",
            "spin-cache-host",
            "--bin",
            "python-figures",
        ])
        .output()
        .map_err(|e| format!("python-figures: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python-figures failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).map_err(|e| format!("python-figures printed {line:?}: {e}"))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB ({bytes} bytes)", bytes as f64 / 1048576.0)
}

/// Section 9.
pub fn section(s: &mut String, p: &PyGuest) {
    let _ = writeln!(s, "## 9. Python guests (componentize-py)\n");
    let _ = writeln!(
        s,
        "The Spin Python example (`examples/spin-python`, componentize-py 0.25.1 with CPython 3.14, \
         served build) and the Python package's test guest (`python/tests`), composed with the \
         cache by `wac-graph` and run in wasmtime 48 by `hosts/spin-host` (`python-figures`). \
         Times are medians of 3 runs; per-call figures are in the guest, {} iterations each, \
         from Python's `time.perf_counter_ns`, with the loop's own cost ({:.0} ns) subtracted.\n",
        p.iterations, p.loop_overhead_ns
    );
    let _ = writeln!(s, "| | |\n|---|---:|");
    let _ = writeln!(s, "| the Python app alone | {} |", mib(p.app_bytes));
    let _ = writeln!(
        s,
        "| composed with the cache ({} bytes of it) | {} |",
        p.cache_bytes,
        mib(p.composed_bytes)
    );
    let _ = writeln!(
        s,
        "| compile in wasmtime (cranelift) | {:.0} ms |",
        p.compile_ms
    );
    let _ = writeln!(s, "| instantiate | {:.2} ms |", p.instantiate_ms);
    let net = |ns: f64| (ns - p.loop_overhead_ns).max(0.0);
    let dict = net(p.dict_getitem_ns).max(1.0);
    let _ = writeln!(
        s,
        "\n| call, from Python | ns per call | / `dict[key]` |\n|---|---:|---:|"
    );
    for (name, ns) in [
        (
            "`dict[key]` (a plain dict in the same guest)",
            p.dict_getitem_ns,
        ),
        ("`cache.get(key)`, a hit through the component", p.get_ns),
        ("`cache[key]`, a hit", p.getitem_ns),
        ("`cache[key] = value` (64 bytes), an update", p.set_ns),
        (
            "componentize-py's binding alone: `get(key)`, a hit",
            p.binding_get_ns,
        ),
        ("componentize-py's binding alone: `len()`", p.binding_len_ns),
    ] {
        let _ = writeln!(s, "| {name} | {:.0} | {:.1}× |", net(ns), net(ns) / dict);
    }
    let _ = writeln!(
        s,
        "\nA call from Python costs mostly componentize-py's own per-call work (its binding \
         alone), not the cache: the package's wrapper adds {:.0} ns to a `get`.\n",
        net(p.get_ns) - net(p.binding_get_ns)
    );
}
