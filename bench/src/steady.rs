//! Section 1b of the report, the steady instrument: instructions per operation counted by
//! callgrind (`benches/instructions.rs`, driven by `gungraun`), which do not move with a noisy
//! neighbour the way the wall-clock figures of section 1 do. [`run`] builds and runs that bench
//! (installing `gungraun-runner` into `target/tools` when missing) and reads the JSON summary the
//! runner prints; [`section`] and [`targets`] turn the rows into the report.
//!
//! Invariant: every figure here is a count from callgrind divided by the operations the bench
//! counted (N, which [`run`] sets through `FAAS_STEADY_OPS`), never a time; a target is judged
//! only on rows this module read from that summary.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plot::format_count;
use crate::report::{verdict, Target};

/// One library's cost of one operation at one size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SteadyRow {
    pub library: String,
    /// `get_hit` or `set_evict` (native); `get_hit`, `get` or `get_many_x100` (wasmtime, per key).
    pub op: String,
    pub entries: usize,
    /// Instructions executed (callgrind's `Ir`) per operation.
    pub instructions_per_op: f64,
    /// Last-level cache misses per operation in callgrind's cache simulation (instruction and
    /// data reads and data writes; 8 MiB LL, gungraun's fixed geometry).
    pub ll_misses_per_op: Option<f64>,
    /// Callgrind's estimated cycles per operation (Ir + 10 L1 misses + 100 LL misses).
    #[serde(default)]
    pub estimated_cycles_per_op: Option<f64>,
    /// N, the operations (keys, for the wasmtime rows) the count is divided by.
    #[serde(default)]
    pub ops: usize,
    /// Where the instructions go, most first (`callgrind_annotate`, own cost grouped by source
    /// file or function), for the faas-cache and wasmtime rows.
    #[serde(default)]
    pub top: Vec<FunctionCost>,
}

/// A share of a benchmark's instructions and what it is charged to: a source file (code inlined
/// from hashbrown shows as `hashbrown-0.15.5/src/raw/mod.rs`), a C library function, a Rust
/// module path without line tables, or JIT-compiled guest code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FunctionCost {
    pub function: String,
    /// Fraction of the benchmark's instructions, 0 to 1.
    pub share: f64,
}

/// The library names of the native rows, as section 1 names them.
pub const FAAS: &str = "faas-cache";
pub const FAAS_S3FIFO: &str = "faas-cache s3-fifo";
pub const LRU: &str = "lru";
/// The wasmtime rows: the component through the host crate, and the floor component.
pub const COMPONENT: &str = "faas-cache component (wasmtime)";
pub const FLOOR: &str = "floor component (wasmtime)";

/// Operations per benchmark: a full run and the smoke run.
const FULL_OPS: usize = 10_000;
const QUICK_OPS: usize = 2_000;
/// `cargo --config` settings of the bench's build.
const LINE_TABLES: [&str; 2] = [
    "profile.bench.package.faas-cache.debug=\"line-tables-only\"",
    "profile.bench.package.faas-cache-bench.debug=\"line-tables-only\"",
];
/// Groups kept per profiled row.
const TOP: usize = 8;

/// Builds and runs `benches/instructions.rs` under callgrind and returns its rows. `quick`: only
/// the 1 000-entry benchmarks and N = 2 000 (the smoke run); otherwise every size, N = 10 000.
/// Needs valgrind (a clear error if it is missing) and installs the matching `gungraun-runner`
/// into `target/tools` if it is not there.
pub fn run(root: &Path, quick: bool) -> Result<Vec<SteadyRow>, String> {
    let valgrind = valgrind()?;
    let runner = ensure_runner(root)?;
    let ops = if quick { QUICK_OPS } else { FULL_OPS };
    let path = std::env::join_paths(
        std::iter::once(runner.parent().expect("a bin directory").to_path_buf()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ),
    )
    .map_err(|e| e.to_string())?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let bench = |no_run: bool| {
        let mut cmd = Command::new(&cargo);
        // Line tables for the core and the bench crate (where the core's generic code is
        // instantiated), so the profile can charge inlined code to its source file; they leave
        // the instruction counts as they are (checked: identical counts with and without).
        cmd.current_dir(root)
            .arg("bench")
            .args(LINE_TABLES.iter().flat_map(|c| ["--config", c]))
            .args(["-p", "faas-cache-bench", "--bench", "instructions"])
            .env("PATH", &path)
            .env("FAAS_STEADY_OPS", ops.to_string())
            .env("GUNGRAUN_VALGRIND_BIN", &valgrind);
        if no_run {
            cmd.arg("--no-run");
        } else {
            let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
            cmd.args([
                "--".to_string(),
                "--output-format=json".to_string(),
                format!("--parallel={parallel}"),
            ]);
            if quick {
                cmd.arg("*::e1000");
            }
        }
        cmd
    };
    let start = Instant::now();
    let status = bench(true)
        .status()
        .map_err(|e| format!("cargo bench --no-run: {e}"))?;
    if !status.success() {
        return Err(format!("building the instructions bench: {status}"));
    }
    let built = start.elapsed().as_secs_f64();
    eprintln!("steady instrument: built in {built:.0} s; counting under callgrind (N = {ops})");
    let mut child = bench(false)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo bench: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut rows = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the bench's output: {e}"))?;
        if !line.trim_start().starts_with('{') {
            continue;
        }
        let summary: Value = serde_json::from_str(&line)
            .map_err(|e| format!("gungraun's summary {line:.200}: {e}"))?;
        if let Some(row) = row_of(root, &summary, ops)? {
            eprintln!(
                "  {:<32} {:<14} {:>9} entries: {:>9.1} instructions/op",
                row.library, row.op, row.entries, row.instructions_per_op
            );
            rows.push(row);
        }
    }
    let status = child.wait().map_err(|e| format!("cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("the instructions bench failed: {status}"));
    }
    if rows.is_empty() {
        return Err("the instructions bench printed no summary".into());
    }
    eprintln!(
        "steady instrument: {} rows in {:.0} s ({:.0} s with the build)",
        rows.len(),
        start.elapsed().as_secs_f64() - built,
        start.elapsed().as_secs_f64()
    );
    Ok(rows)
}

/// The valgrind to run: `$VALGRIND`, else `valgrind` on `PATH`; an error saying what to install
/// if it does not run.
fn valgrind() -> Result<PathBuf, String> {
    let program = std::env::var_os("VALGRIND").unwrap_or_else(|| "valgrind".into());
    match Command::new(&program).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout);
            eprintln!("steady instrument: {}", version.trim());
            Ok(PathBuf::from(program))
        }
        _ => Err(format!(
            "{} does not run: install Debian's valgrind package (`cargo xtask bench` does, as \
             root) or set VALGRIND to its path",
            PathBuf::from(program).display()
        )),
    }
}

/// The version of `package` in the workspace's `Cargo.lock`.
fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = root.join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let name = format!("name = \"{package}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    Err(format!("{package} is not in {}", lock.display()))
}

/// `target/tools/bin/gungraun-runner` at the version of the `gungraun` crate in `Cargo.lock`
/// (the runner refuses any other), installed with `cargo install --locked` if missing or other.
fn ensure_runner(root: &Path) -> Result<PathBuf, String> {
    let version = locked_version(root, "gungraun")?;
    let tools = root.join("target/tools");
    let runner = tools.join("bin/gungraun-runner");
    let installed = Command::new(&runner)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string());
    if installed
        .as_deref()
        .is_some_and(|v| v.split_whitespace().any(|w| w == version))
    {
        return Ok(runner);
    }
    eprintln!(
        "steady instrument: installing gungraun-runner {version} into {}",
        tools.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "gungraun-runner", "--locked", "--version"])
        .arg(&version)
        .arg("--root")
        .arg(&tools)
        .status()
        .map_err(|e| format!("cargo install gungraun-runner: {e}"))?;
    if !status.success() {
        return Err(format!("cargo install gungraun-runner {version}: {status}"));
    }
    Ok(runner)
}

/// The library and operation of a benchmark function of `benches/instructions.rs`.
fn names(function: &str) -> Option<(&'static str, &'static str)> {
    let native = |lib: &str| match lib {
        "faas_cache" => Some(FAAS),
        "faas_cache_s3fifo" => Some(FAAS_S3FIFO),
        "lru" => Some(LRU),
        "quick_cache" => Some("quick_cache"),
        "moka" => Some("moka"),
        _ => None,
    };
    if let Some(lib) = function.strip_prefix("get_hit_") {
        return native(lib).map(|l| (l, "get_hit"));
    }
    if let Some(lib) = function.strip_prefix("set_evict_") {
        return native(lib).map(|l| (l, "set_evict"));
    }
    match function {
        "wasm_get_hit_component" => Some((COMPONENT, "get_hit")),
        "wasm_get_floor" => Some((FLOOR, "get")),
        "wasm_get_many_component" => Some((COMPONENT, "get_many_x100")),
        "wasm_get_many_floor" => Some((FLOOR, "get_many_x100")),
        _ => None,
    }
}

/// This run's value of metric `key` in a summary's metrics: `{"Ir": {"values": {"new": 1200,
/// "old": 1100}, "change": {..}}}` (the `old` value and the change are from the previous run).
fn metric(metrics: &Value, key: &str) -> Option<f64> {
    let new = &metrics.get(key)?["values"]["new"];
    new.as_f64().or_else(|| new.as_str()?.parse().ok())
}

/// The row of one benchmark summary (`None` for a benchmark this module does not know).
fn row_of(root: &Path, summary: &Value, ops: usize) -> Result<Option<SteadyRow>, String> {
    let function = summary["function_name"].as_str().unwrap_or_default();
    let Some((library, op)) = names(function) else {
        return Ok(None);
    };
    let entries: usize = summary["id"]
        .as_str()
        .and_then(|id| id.strip_prefix('e'))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{function}: no entries in the id {}", summary["id"]))?;
    let profiles = summary["profiles"].as_array().cloned().unwrap_or_default();
    let callgrind = profiles
        .iter()
        .find(|p| {
            p["tool"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("callgrind"))
        })
        .ok_or_else(|| format!("{function}: no callgrind profile in the summary"))?;
    let total = &callgrind["data"]["total"]["metrics"];
    let ir = metric(total, "Ir").ok_or_else(|| format!("{function}: no Ir in {total}"))?;
    let ll = ["ILmr", "DLmr", "DLmw"]
        .iter()
        .map(|k| metric(total, k))
        .sum::<Option<f64>>();
    let n = ops as f64;
    let top = if library == FAAS || library == FAAS_S3FIFO || library == COMPONENT {
        profile(root, summary).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Some(SteadyRow {
        library: library.into(),
        op: op.into(),
        entries,
        instructions_per_op: ir / n,
        ll_misses_per_op: ll.map(|x| x / n),
        estimated_cycles_per_op: metric(total, "EstimatedCycles").map(|x| x / n),
        ops,
        top,
    }))
}

/// The callgrind output files of a benchmark (one per thread).
fn callgrind_files(root: &Path, summary: &Value) -> Vec<PathBuf> {
    let dir = summary["output_dir"].as_str().map(PathBuf::from);
    let Some(dir) = dir else { return Vec::new() };
    let dir = if dir.is_absolute() {
        dir
    } else {
        summary["project_root"]
            .as_str()
            .map_or_else(|| root.to_path_buf(), PathBuf::from)
            .join(dir)
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("callgrind.") && n.ends_with(".out"))
        })
        .collect();
    files.sort();
    files
}

/// Where a benchmark's instructions go, most first (`None` if `callgrind_annotate` is missing or
/// printed nothing usable): its own cost per function, from `callgrind_annotate`, grouped by the
/// source file the instructions come from where the bench was built with line tables (so code
/// inlined from hashbrown or ahash shows as theirs), by function elsewhere. One output file per
/// thread; `callgrind_annotate` reads one at a time, so their counts are added up here.
fn profile(root: &Path, summary: &Value) -> Option<Vec<FunctionCost>> {
    let mut counts: Vec<(String, f64)> = Vec::new();
    for file in callgrind_files(root, summary) {
        let out = Command::new("callgrind_annotate")
            .args(["--show=Ir", "--auto=no", "--threshold=100"])
            .arg(&file)
            .output()
            .ok()?;
        for (label, n) in annotate_counts(&String::from_utf8_lossy(&out.stdout)) {
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, total)) => *total += n,
                None => counts.push((label, n)),
            }
        }
    }
    let top = top_shares(counts);
    (!top.is_empty()).then_some(top)
}

/// The [`TOP`] largest groups and their shares of the total.
fn top_shares(counts: Vec<(String, f64)>) -> Vec<FunctionCost> {
    let total: f64 = counts.iter().map(|(_, n)| n).sum();
    let mut top: Vec<FunctionCost> = counts
        .into_iter()
        .filter(|_| total > 0.0)
        .map(|(function, n)| FunctionCost {
            function,
            share: n / total,
        })
        .collect();
    top.sort_by(|a, b| b.share.total_cmp(&a.share));
    top.truncate(TOP);
    top
}

/// The instructions of each group ([`label`]) in `callgrind_annotate --show=Ir` output, whose
/// lines read `1,234 (12.3%)  file:function [object]`.
fn annotate_counts(text: &str) -> Vec<(String, f64)> {
    let mut groups: Vec<(String, f64)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((count, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<f64>() else {
            continue;
        };
        let Some((_, place)) = rest
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.split_once("%)"))
        else {
            continue;
        };
        let place = place.trim();
        // Drop the object file: ` [/path/to/binary]`.
        let place = match place.rfind(" [") {
            Some(i) if place.ends_with(']') => &place[..i],
            _ => place,
        };
        if place.is_empty() || place.contains("PROGRAM TOTALS") {
            continue;
        }
        let (file, function) = place.split_once(':').unwrap_or(("???", place));
        let label = label(file, function);
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += count,
            None => groups.push((label, count)),
        }
    }
    groups
}

/// What a line of the profile is charged to: the source file for code with line tables (the
/// workspace's, a crate's from crates.io, the standard library's), the C library's function
/// otherwise, the module path of a Rust function without line tables, and JIT-compiled guest
/// code (no symbol) as such.
fn label(file: &str, function: &str) -> String {
    if function.starts_with("0x") {
        return "guest code (JIT-compiled, no symbol)".into();
    }
    if file.starts_with("./malloc/") {
        return "malloc/free (libc)".into();
    }
    if file.starts_with("./") {
        return format!("{function} (libc)");
    }
    if file == "???" {
        let path = shorten(function);
        let segments: Vec<&str> = path.split("::").collect();
        return segments[..segments.len().min(4)].join("::");
    }
    if let Some(i) = file.find("/index.crates.io-") {
        if let Some((_, inside)) = file[i + 1..].split_once('/') {
            return inside.to_string();
        }
    }
    if let Some((_, inside)) = file.split_once("/library/") {
        return inside.to_string();
    }
    // The workspace's own files, relative to its root wherever it was built.
    for top in ["/crates/", "/hosts/", "/bench/"] {
        if let Some(i) = file.find(top).filter(|_| file.starts_with('/')) {
            return file[i + 1..].to_string();
        }
    }
    file.to_string()
}

/// A function name without its argument list, generic arguments and symbol hash.
fn shorten(function: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in function.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            '(' if depth == 0 => break,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = match out.rfind("::h") {
        Some(i) if out[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => out[..i].to_string(),
        _ => out,
    };
    out.replace("::::", "::")
        .trim_start_matches("::")
        .to_string()
}

fn find<'a>(
    rows: &'a [SteadyRow],
    library: &str,
    op: &str,
    entries: usize,
) -> Option<&'a SteadyRow> {
    rows.iter()
        .find(|r| r.library == library && r.op == op && r.entries == entries)
}

fn native_sizes(rows: &[SteadyRow]) -> Vec<usize> {
    let mut s: Vec<usize> = rows
        .iter()
        .filter(|r| r.library == LRU)
        .map(|r| r.entries)
        .collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn count(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// `library`'s `op` over `base`'s at every size: (entries, ratio).
fn ratios(rows: &[SteadyRow], library: &str, base: &str, op: &str) -> Vec<(usize, f64)> {
    native_sizes(rows)
        .into_iter()
        .filter_map(|n| {
            let a = find(rows, library, op, n)?;
            let b = find(rows, base, op, n)?;
            Some((n, a.instructions_per_op / b.instructions_per_op))
        })
        .collect()
}

fn ratio_list(pairs: &[(usize, f64)]) -> String {
    pairs
        .iter()
        .map(|(n, r)| format!("{r:.2}× at {}", format_count(*n as f64)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a row's instructions go, for a missed target: its top functions by own cost.
fn where_it_goes(row: Option<&SteadyRow>) -> String {
    let Some(row) = row.filter(|r| !r.top.is_empty()) else {
        return String::new();
    };
    let list = row
        .top
        .iter()
        .take(5)
        .map(|f| format!("`{}` {:.0}%", f.function, f.share * 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "; {} {} at {}: {} instructions/op, most in {list}",
        row.library,
        row.op,
        format_count(row.entries as f64),
        count(row.instructions_per_op)
    )
}

/// The worst (highest) ratio of a list and its size.
fn worst(pairs: &[(usize, f64)]) -> Option<(usize, f64)> {
    pairs.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The instruction-count targets.
pub fn targets(rows: &[SteadyRow]) -> Vec<Target> {
    let mut out = Vec::new();
    for (op, name) in [
        (
            "get_hit",
            "native get-hit at or below `lru` at every size, both faas-cache policies \
             (instruction counts)",
        ),
        (
            "set_evict",
            "native set (new key, evicting) at or below `lru` at every size, both faas-cache \
             policies (instruction counts)",
        ),
    ] {
        let lru_ratio = ratios(rows, FAAS, LRU, op);
        let s3_ratio = ratios(rows, FAAS_S3FIFO, LRU, op);
        if lru_ratio.is_empty() && s3_ratio.is_empty() {
            continue;
        }
        let met = lru_ratio.iter().chain(&s3_ratio).all(|(_, x)| *x <= 1.0);
        let mut measured = format!(
            "LRU {}; S3-FIFO {}",
            ratio_list(&lru_ratio),
            ratio_list(&s3_ratio)
        );
        if !met {
            let (library, (n, _)) = [(FAAS, worst(&lru_ratio)), (FAAS_S3FIFO, worst(&s3_ratio))]
                .into_iter()
                .filter_map(|(l, w)| Some((l, w?)))
                .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                .expect("a ratio");
            measured.push_str(&where_it_goes(find(rows, library, op, n)));
        }
        out.push(Target {
            name,
            measured,
            met: Some(met),
        });
    }
    let hit = ratios(rows, FAAS_S3FIFO, FAAS, "get_hit");
    if !hit.is_empty() {
        let met = hit.iter().all(|(_, x)| *x <= 1.0);
        let mut measured = ratio_list(&hit);
        if !met {
            let (n, _) = worst(&hit).expect("a ratio");
            measured.push_str(&where_it_goes(find(rows, FAAS_S3FIFO, "get_hit", n)));
        }
        out.push(Target {
            name: "native S3-FIFO get-hit at or below LRU's (instruction counts)",
            measured,
            met: Some(met),
        });
    }
    let set = ratios(rows, FAAS_S3FIFO, FAAS, "set_evict");
    if !set.is_empty() {
        let met = set.iter().all(|(_, x)| *x <= 1.1);
        let mut measured = ratio_list(&set);
        if !met {
            let (n, _) = worst(&set).expect("a ratio");
            measured.push_str(&where_it_goes(find(rows, FAAS_S3FIFO, "set_evict", n)));
        }
        out.push(Target {
            name:
                "native S3-FIFO set (new key, evicting) within 1.1× of LRU's (instruction counts)",
            measured,
            met: Some(met),
        });
    }
    let wasm = |library: &str, op: &str| {
        rows.iter()
            .find(|r| r.library == library && r.op == op)
            .map(|r| (r, r.instructions_per_op))
    };
    if let (Some((get, g)), Some((_, f))) = (wasm(COMPONENT, "get_hit"), wasm(FLOOR, "get")) {
        let x = g / f;
        let mut measured = format!(
            "{} vs {} instructions per call: {x:.2}×; the cache's own work is {} of them",
            count(g),
            count(f),
            count(g - f)
        );
        if x > 1.3 {
            measured.push_str(&where_it_goes(Some(get)));
        }
        out.push(Target {
            name: "through wasmtime, get-hit within 1.3× of the floor component's get \
                   (instruction counts)",
            measured,
            met: Some(x <= 1.3),
        });
    }
    if let (Some((_, single)), Some((many, batch))) =
        (wasm(COMPONENT, "get_hit"), wasm(COMPONENT, "get_many_x100"))
    {
        let gain = single / batch;
        let floor = match (wasm(FLOOR, "get"), wasm(FLOOR, "get_many_x100")) {
            (Some((_, a)), Some((_, b))) => format!("; the floor component itself: {:.1}×", a / b),
            _ => String::new(),
        };
        let mut measured = format!(
            "{} instructions per key in get-many x100 vs {} per single get: {gain:.1}×{floor}",
            count(batch),
            count(single)
        );
        if gain < 3.0 {
            measured.push_str(&where_it_goes(Some(many)));
        }
        out.push(Target {
            name: "get-many at 100 keys ≥ 3× the throughput of single gets (instruction counts)",
            measured,
            met: Some(gain >= 3.0),
        });
    }
    out
}

/// Section 1b: the instruction counts, their ratios to `lru`, the wasmtime rows and the targets.
pub fn section(s: &mut String, rows: &[SteadyRow]) {
    let _ = writeln!(
        s,
        "## 1b. Steady instrument: instructions per operation (callgrind)\n"
    );
    if rows.is_empty() {
        let _ = writeln!(s, "Not measured in this run.\n");
        return;
    }
    let n = rows.iter().map(|r| r.ops).max().unwrap_or(0);
    let _ = writeln!(
        s,
        "Counted by callgrind (valgrind) through `gungraun` 0.20 (`cargo bench -p \
         faas-cache-bench --bench instructions`): each benchmark runs N = {} operations on a \
         cache built, filled and checked in an untimed setup, and the count is divided by N. \
         Counts do not depend on the machine's load, so these ratios hold where the wall-clock \
         ones of section 1 spread. *LL misses* come from callgrind's cache simulation (8 MiB \
         last-level cache); *est. cycles* is its estimate (instructions + 10 × L1 misses + 100 × \
         LL misses). Same keys, values, hasher and item limits as section 1; set = a new key \
         into a cache full at its item limit, evicting one entry.\n",
        format_count(n as f64)
    );
    let _ = writeln!(
        s,
        "| library | operation | entries | instructions/op | × `lru` | LL misses/op | est. cycles/op |\n|---|---|---:|---:|---:|---:|---:|"
    );
    let libraries = [FAAS, FAAS_S3FIFO, LRU, "quick_cache", "moka"];
    for op in ["get_hit", "set_evict"] {
        for n in native_sizes(rows) {
            for library in libraries {
                let Some(r) = find(rows, library, op, n) else {
                    continue;
                };
                let x = find(rows, LRU, op, n)
                    .map(|l| format!("{:.2}×", r.instructions_per_op / l.instructions_per_op))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "| {library} | {op} | {} | {} | {x} | {} | {} |",
                    format_count(n as f64),
                    count(r.instructions_per_op),
                    r.ll_misses_per_op
                        .map(|m| format!("{m:.2}"))
                        .unwrap_or_default(),
                    r.estimated_cycles_per_op.map(count).unwrap_or_default()
                );
            }
        }
    }
    s.push('\n');

    let wasm: Vec<&SteadyRow> = rows
        .iter()
        .filter(|r| r.library == COMPONENT || r.library == FLOOR)
        .collect();
    if !wasm.is_empty() {
        let floor = rows
            .iter()
            .find(|r| r.library == FLOOR && r.op == "get")
            .map(|r| r.instructions_per_op);
        let _ = writeln!(
            s,
            "Through wasmtime ({} entries, 100-byte values): the component called through the \
             host crate as section 2 calls it, and the floor component whose `get` only returns \
             100 bytes already in its memory. Per key.\n",
            wasm[0].entries
        );
        let _ = writeln!(
            s,
            "| component | call | instructions/key | × floor `get` | LL misses/key |\n|---|---|---:|---:|---:|"
        );
        for r in &wasm {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.library,
                r.op,
                count(r.instructions_per_op),
                floor
                    .map(|f| format!("{:.2}×", r.instructions_per_op / f))
                    .unwrap_or_default(),
                r.ll_misses_per_op
                    .map(|m| format!("{m:.2}"))
                    .unwrap_or_default()
            );
        }
        s.push('\n');
    }

    let profiled: Vec<&SteadyRow> = rows
        .iter()
        .filter(|r| !r.top.is_empty())
        .filter(|r| r.library == COMPONENT || native_sizes(rows).last() == Some(&r.entries))
        .collect();
    if !profiled.is_empty() {
        let _ = writeln!(
            s,
            "Where faas-cache's instructions go: each benchmark's instructions by the source \
             file they were compiled from (`callgrind_annotate`, own cost; code inlined from \
             `hashbrown` or `ahash` counts as theirs; the core and the bench crate carry line \
             tables, the rest is named by function), largest first.\n"
        );
        let _ = writeln!(s, "| benchmark | largest shares |\n|---|---|");
        for r in profiled {
            let list = r
                .top
                .iter()
                .take(6)
                .map(|f| format!("`{}` {:.0}%", f.function, f.share * 100.0))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                s,
                "| {} {} at {} | {list} |",
                r.library,
                r.op,
                format_count(r.entries as f64)
            );
        }
        s.push('\n');
    }

    let _ = writeln!(s, "| target | this run | verdict |\n|---|---|---|");
    for t in targets(rows) {
        let _ = writeln!(s, "| {} | {} | {} |", t.name, t.measured, verdict(t.met));
    }
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The section alone, for real: `cargo test --release -p faas-cache-bench --bin
    /// faas-cache-bench -- --ignored --nocapture run_for_real` (`FAAS_STEADY_QUICK=1`: the smoke
    /// pass). Prints the section and writes the rows to `target/steady/rows.json`.
    #[test]
    #[ignore = "builds and runs the instructions bench under callgrind: minutes"]
    fn run_for_real() {
        let root = crate::root();
        let quick = std::env::var_os("FAAS_STEADY_QUICK").is_some();
        let start = Instant::now();
        let rows = run(&root, quick).expect("the steady instrument runs");
        let mut s = String::new();
        section(&mut s, &rows);
        println!("{s}");
        println!("{:.0} s in all", start.elapsed().as_secs_f64());
        let out = root.join("target/steady");
        std::fs::create_dir_all(&out).expect("target/steady");
        let json = serde_json::to_string_pretty(&rows).expect("rows serialize");
        std::fs::write(out.join("rows.json"), json + "\n").expect("write the rows");
    }

    fn row(library: &str, op: &str, entries: usize, ir: f64) -> SteadyRow {
        SteadyRow {
            library: library.into(),
            op: op.into(),
            entries,
            instructions_per_op: ir,
            ll_misses_per_op: Some(0.5),
            estimated_cycles_per_op: None,
            ops: 10_000,
            top: vec![FunctionCost {
                function: "crates/faas-cache/src/slab.rs".into(),
                share: 0.4,
            }],
        }
    }

    #[test]
    fn names_cover_every_bench_function() {
        assert_eq!(names("get_hit_faas_cache"), Some((FAAS, "get_hit")));
        assert_eq!(
            names("set_evict_faas_cache_s3fifo"),
            Some((FAAS_S3FIFO, "set_evict"))
        );
        assert_eq!(names("wasm_get_floor"), Some((FLOOR, "get")));
        assert_eq!(names("get_hit_other"), None);
    }

    #[test]
    fn metric_reads_this_runs_value() {
        let v: Value = serde_json::from_str(
            r#"{"Ir":{"change":{"diff_pct":"9.1","factor":"1.09"},"values":{"new":1200,"old":1100}},
                "EstimatedCycles":{"values":{"new":3.5}}}"#,
        )
        .unwrap();
        assert_eq!(metric(&v, "Ir"), Some(1200.0));
        assert_eq!(metric(&v, "EstimatedCycles"), Some(3.5));
        assert_eq!(metric(&v, "DLmr"), None);
    }

    #[test]
    fn annotate_lines_are_grouped_by_source() {
        let text = "\
--------------------------------------------------------------------------------
Ir                 
--------------------------------------------------------------------------------
2,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                  file:function
--------------------------------------------------------------------------------
1,000,000 (50.00%)  /w/crates/faas-cache/src/slab.rs:faas_cache::cache::Cache<C>::get [/x/bench]
  320,000 (16.00%)  ???:0x000000000480e0c0 [???]
  200,000 (10.00%)  /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/hashbrown-0.15.5/src/raw/mod.rs:faas_cache::cache::Cache<C>::get
  150,000 ( 7.50%)  ./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]
  150,000 ( 7.50%)  ./malloc/./malloc/malloc.c:malloc [/usr/lib/x86_64-linux-gnu/libc.so.6]
  100,000 ( 5.00%)  ???:wasmtime::runtime::component::concurrent::<impl wasmtime::runtime::store::StoreOpaque>::set_thread [/x/bench]
   80,000 ( 4.00%)  /rustc/5980/library/core/src/slice/index.rs:faas_cache::cache::Cache<C>::get
";
        let top = top_shares(annotate_counts(text));
        let got: Vec<(&str, f64)> = top
            .iter()
            .map(|f| (f.function.as_str(), (f.share * 1000.0).round() / 10.0))
            .collect();
        assert_eq!(
            got,
            [
                ("crates/faas-cache/src/slab.rs", 50.0),
                ("guest code (JIT-compiled, no symbol)", 16.0),
                ("malloc/free (libc)", 15.0),
                ("hashbrown-0.15.5/src/raw/mod.rs", 10.0),
                ("wasmtime::runtime::component::concurrent", 5.0),
                ("core/src/slice/index.rs", 4.0),
            ]
        );
    }

    #[test]
    fn targets_judge_ratios_and_say_where_the_cost_is() {
        let mut rows = Vec::new();
        for n in [1_000, 1_000_000] {
            rows.push(row(LRU, "get_hit", n, 100.0));
            rows.push(row(FAAS, "get_hit", n, 90.0));
            rows.push(row(FAAS_S3FIFO, "get_hit", n, 80.0));
            rows.push(row(LRU, "set_evict", n, 300.0));
            rows.push(row(FAAS, "set_evict", n, 400.0));
            rows.push(row(FAAS_S3FIFO, "set_evict", n, 420.0));
        }
        rows.push(row(COMPONENT, "get_hit", 1_000, 1_200.0));
        rows.push(row(FLOOR, "get", 1_000, 1_000.0));
        rows.push(row(COMPONENT, "get_many_x100", 1_000, 300.0));
        let t = targets(&rows);
        let met: Vec<Option<bool>> = t.iter().map(|t| t.met).collect();
        assert_eq!(
            met,
            [
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(true),
                Some(true)
            ]
        );
        assert!(t.iter().all(|t| t.name.contains("(instruction counts)")));
        assert!(t[1].measured.contains("slab.rs"), "{}", t[1].measured);
        let mut s = String::new();
        section(&mut s, &rows);
        assert!(s.contains("## 1b. Steady instrument"));
        assert!(
            s.contains("| faas-cache | set_evict | 1M | 400 | 1.33× |"),
            "{s}"
        );
    }
}
