//! `BENCHMARKS.md`: tables, target verdicts and plot links, all computed from one `Results`.
//! Invariant: every number in the report comes from `Results`; the hand-written analysis is
//! read from `bench/analysis.md` and only explains, it quotes no figure that a rerun changes.

use std::fmt::Write;

use crate::plot::{format_count, Written};
use crate::{Results, Row};

/// The native operations, in report order, with their titles.
pub const OPS: [(&str, &str); 6] = [
    ("get_hit", "get, hit"),
    ("get_miss", "get, miss"),
    ("set_new", "set, new key, no eviction"),
    ("set_evict", "set, new key, evicting (bounded to n/2)"),
    (
        "mixed_zipf",
        "mixed 90% get / 10% set, Zipf(1) keys over 2n",
    ),
    ("ttl_purge", "TTL purge, per expired entry (k = n/10)"),
];

pub const RUST_LIBRARIES: [&str; 5] = [
    "faas-cache",
    "faas-cache s3-fifo",
    "lru",
    "quick_cache",
    "moka",
];
const BASELINE: &str = "lru";
const FAAS: &str = "faas-cache";
const FAAS_S3FIFO: &str = "faas-cache s3-fifo";
const PYTHON_ORIGINAL: &str = "faas-cache-dict";

pub fn ns(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} ms", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1} µs", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.2} µs", v / 1e3)
    } else {
        format!("{v:.1} ns")
    }
}

fn find<'a>(rows: &'a [Row], library: &str, op: &str, entries: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.library == library && r.op == op && r.entries == entries)
}

fn sizes(rows: &[Row]) -> Vec<usize> {
    let mut s: Vec<usize> = rows.iter().map(|r| r.entries).collect();
    s.sort_unstable();
    s.dedup();
    s
}

/// One target of the issue and whether this run meets it (`None`: not measured).
pub struct Target {
    pub name: &'static str,
    pub measured: String,
    pub met: Option<bool>,
}

fn ratio_list(pairs: &[(usize, f64)]) -> String {
    pairs
        .iter()
        .map(|(n, r)| format!("{:.2}× at {}", r, format_count(*n as f64)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn targets(r: &Results) -> Vec<Target> {
    let mut out = Vec::new();
    // 1. get-hit within 1.5x of lru.
    let hit: Vec<(usize, f64)> = sizes(&r.native)
        .into_iter()
        .filter_map(|n| {
            let f = find(&r.native, FAAS, "get_hit", n)?;
            let l = find(&r.native, BASELINE, "get_hit", n)?;
            Some((n, f.ns_per_op / l.ns_per_op))
        })
        .collect();
    out.push(Target {
        name: "native get-hit within 1.5× of `lru`",
        measured: ratio_list(&hit),
        met: (!hit.is_empty()).then(|| hit.iter().all(|(_, x)| *x <= 1.5)),
    });
    // 2. per-op at the largest size within 1.5x of the smallest.
    let all = sizes(&r.native);
    if let (Some(&lo), Some(&hi)) = (all.first(), all.last()) {
        let per_op: Vec<(&str, f64)> = OPS
            .iter()
            .filter_map(|(op, _)| {
                let a = find(&r.native, FAAS, op, lo)?;
                let b = find(&r.native, FAAS, op, hi)?;
                Some((*op, b.ns_per_op / a.ns_per_op))
            })
            .collect();
        out.push(Target {
            name: "per-op cost at the largest size within 1.5× of the smallest",
            measured: format!(
                "{} vs {}: {}",
                format_count(hi as f64),
                format_count(lo as f64),
                per_op
                    .iter()
                    .map(|(op, x)| format!("{op} {x:.2}×"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            met: (!per_op.is_empty()).then(|| per_op.iter().all(|(_, x)| *x <= 1.5)),
        });
    }
    // 3. wasmtime get-hit within 1.3x of the floor plus copy.
    let b = |call: &str| r.boundary.iter().find(|x| x.call == call);
    if let (Some(get), Some(floor)) = (b("cache: get, hit (100 B)"), b("floor: get(key) -> 100 B"))
    {
        let x = get.per_call.ns / floor.per_call.ns;
        let handle = match (b("cache: len()"), b("floor: empty()")) {
            (Some(len), Some(empty)) => format!(
                "; a resource-handle borrow alone (`len()` − `empty()`) costs {}",
                ns(len.per_call.ns - empty.per_call.ns)
            ),
            _ => String::new(),
        };
        out.push(Target {
            name: "through wasmtime, get-hit within 1.3× of the floor plus copy",
            measured: format!(
                "{} vs {}: {x:.2}×{handle}",
                ns(get.per_call.ns),
                ns(floor.per_call.ns)
            ),
            met: Some(x <= 1.3),
        });
    }
    // 4. batch >= 5x single-call throughput at 100 keys.
    let gain = |single: &str, batch: &str| Some(b(single)?.per_key / b(batch)?.per_key);
    if let (Some(g), Some(s)) = (
        gain("cache: get, hit (100 B)", "cache: get-many x100"),
        gain("cache: set, overwrite (100 B)", "cache: set-many x100"),
    ) {
        let floor = gain("floor: get(key) -> 100 B", "floor: get-many x100")
            .map(|f| format!("; the empty floor component itself: {f:.1}×"))
            .unwrap_or_default();
        out.push(Target {
            name: "batch calls at 100 keys ≥ 5× the throughput of single calls",
            measured: format!("get-many {g:.1}×, set-many {s:.1}×{floor}"),
            met: Some(g >= 5.0 && s >= 5.0),
        });
    }
    // 5. >= 1000x the Python original on writes at 100k (its largest size).
    if let Some(&n) = sizes(&r.python).last() {
        let writes: Vec<(&str, f64)> = ["set_new", "set_evict"]
            .into_iter()
            .filter_map(|op| {
                let p = find(&r.python, PYTHON_ORIGINAL, op, n)?;
                let f = find(&r.native, FAAS, op, n)?;
                Some((op, p.ns_per_op / f.ns_per_op))
            })
            .collect();
        if !writes.is_empty() {
            out.push(Target {
                name: "≥ 1000× faster than the Python original on writes at 100k",
                measured: format!(
                    "at {}: {}",
                    format_count(n as f64),
                    writes
                        .iter()
                        .map(|(op, x)| format!("{op} {x:.0}×"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                met: Some(n >= 100_000 && writes.iter().all(|(_, x)| *x >= 1000.0)),
            });
        }
    }
    // 6. memory <= 1.25 x budget + 1 MiB.
    if !r.memory.is_empty() {
        let worst = r
            .memory
            .iter()
            .map(|m| m.after_churn.max(m.after_fill) as f64 / m.bound() as f64)
            .fold(0.0, f64::max);
        out.push(Target {
            name: "linear memory ≤ 1.25 × (budget + removal log's bound) + 1 MiB after fill and \
                   churn (both policies; LRU with an undrained log of 100,000 records)",
            measured: format!("worst case at {:.0}% of the bound", worst * 100.0),
            met: Some(worst <= 1.0),
        });
    }
    // 7. S3-FIFO's speed: get-hit no slower than LRU's, set within 1.2x.
    let policy_ratio = |op: &str| -> Vec<(usize, f64)> {
        sizes(&r.native)
            .into_iter()
            .filter_map(|n| {
                let s3 = find(&r.native, FAAS_S3FIFO, op, n)?;
                let lru = find(&r.native, FAAS, op, n)?;
                Some((n, s3.ns_per_op / lru.ns_per_op))
            })
            .collect()
    };
    let hit = policy_ratio("get_hit_ab");
    if !hit.is_empty() {
        out.push(Target {
            name: "native S3-FIFO get-hit no slower than LRU get-hit (ratio ≤ 1.00, interleaved runs)",
            measured: ratio_list(&hit),
            met: Some(hit.iter().all(|(_, x)| *x <= 1.0)),
        });
    }
    let sets: Vec<(usize, f64)> = policy_ratio("set_evict_ab");
    if !sets.is_empty() {
        out.push(Target {
            name: "native S3-FIFO set within 1.2× of LRU set (new key, evicting; interleaved runs)",
            measured: ratio_list(&sets),
            met: Some(sets.iter().all(|(_, x)| *x <= 1.2)),
        });
    }
    // A new process's first instance from the compilation cache.
    out.extend(crate::steady::targets(&r.steady));
    out.extend(kv_host_targets(r));
    if let Some((measured, met)) = crate::coldstart::target(&r.cold) {
        out.push(Target {
            name: "a new process's first instance ready in < 20 ms with the compiled artifact \
                   there (wasmtime's compilation cache), debug or release",
            measured,
            met: Some(met),
        });
    }
    out.extend(crate::hitratio_report::targets(r));
    if let Some(serve) = &r.serve {
        out.extend(serve_targets(serve));
    }
    out
}

fn serve_hit<'a>(s: &'a crate::serve::Serve, key: &str) -> Option<&'a crate::serve::HitRow> {
    s.hit.iter().find(|h| h.key == key)
}

/// Section 11's targets: hit rate, a guest's `get` and the server's memory.
fn serve_targets(s: &crate::serve::Serve) -> Vec<Target> {
    let mut out = Vec::new();
    if let (Some(provided), Some(ceiling)) =
        (serve_hit(s, "provided-fresh"), serve_hit(s, "ceiling"))
    {
        let gap = (ceiling.hit_rate() - provided.hit_rate()) * 100.0;
        out.push(Target {
            name: "faas-cache-serve, fresh instance per request: hit rate within 1 point of one \
                   composed instance never recycled (Zipf 1.0)",
            measured: format!(
                "{:.2}% vs {:.2}%: {gap:.2} points",
                provided.hit_rate() * 100.0,
                ceiling.hit_rate() * 100.0
            ),
            met: Some(gap <= 1.0),
        });
    }
    let g = &s.get;
    out.push(Target {
        name: "a guest's `get` hit (100 B) through the provider no slower than through the \
               composed component (ratio ≤ 1.00, interleaved runs)",
        measured: format!(
            "{} vs {}: {:.2}×",
            ns(g.provider.ns),
            ns(g.composed.ns),
            g.ratio.ns
        ),
        met: Some(g.ratio.ns <= 1.0),
    });
    let mib = |b: u64| b as f64 / 1048576.0;
    out.push(Target {
        name: "faas-cache-serve RSS ≤ 1.25 × ceiling + 16 MiB after fill and churn (`--ceiling \
               64M`, MALLOC_ARENA_MAX=2)",
        measured: s.memory.as_ref().map_or_else(
            || "not measured".into(),
            |m| {
                format!(
                    "{:.1} MiB of {:.0} MiB ({:.0}%)",
                    mib(m.rss),
                    mib(m.bound()),
                    100.0 * m.rss as f64 / m.bound() as f64
                )
            },
        ),
        met: s.memory.as_ref().map(|m| m.rss <= m.bound()),
    });
    out
}

pub(crate) fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "not measured",
    }
}

/// The `--only` name of the section a `## N.` heading opens, if it is a measured one.
fn section_of(heading: &str) -> Option<&'static str> {
    let number = heading.strip_prefix("## ")?.split(' ').next()?;
    Some(match number {
        "1." | "3." => "native",
        "1b." => "steady",
        "2." => "boundary",
        "4." => "memory",
        "5." => "cold",
        "6." => "python",
        "7." => "kv",
        "7b." => "kvhost",
        "8." => "hit",
        "9." => "pyguest",
        "11." => "serve",
        "12." => "js",
        _ => return None,
    })
}

/// Puts the date each section was measured under its heading.
fn date_sections(markdown: &str, r: &Results) -> String {
    let mut out = String::with_capacity(markdown.len() + 1024);
    for line in markdown.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(date) = section_of(line).and_then(|k| r.section_dates.get(k)) {
            out.push_str(&format!("\n*Measured {date}.*\n"));
        }
    }
    out
}

pub fn markdown(r: &Results, plots: &[Written], plot_dir: &str) -> String {
    date_sections(&markdown_undated(r, plots, plot_dir), r)
}

fn markdown_undated(r: &Results, plots: &[Written], plot_dir: &str) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Generated by `cargo xtask bench{}` on {} in {:.1} minutes (each section says when it \
         was measured: `--only` measures some again and keeps the others). Do not edit: the \
         tables come from `bench/results.json`, the analysis from `bench/analysis.md`.\n",
        if m.quick { " --quick" } else { "" },
        m.date,
        m.minutes
    );
    let _ = writeln!(s, "## Machine and method\n");
    let _ = writeln!(
        s,
        "- {} ({} cores), {}, wasmtime 48 (features `component-model`, `cranelift`, `runtime`, \
         `std`), {}.",
        m.cpu, m.cores, m.rustc, m.python
    );
    let _ = writeln!(
        s,
        "- One thread. Keys `key-<i>`, values of 100 bytes. Every Rust figure is the median of {} \
         runs, Python figures of 3; the *spread* is (max − min) / median over those runs.",
        m.runs
    );
    let _ = writeln!(
        s,
        "- Commands: `cargo xtask bench` (this report), `cargo xtask bench --quick` (a smoke run \
         into `target/bench-quick/`), `cargo xtask bench --report-only` (rebuild this file from \
         `bench/results.json`).\n"
    );

    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| target | this run | verdict |\n|---|---|---|");
    for t in targets(r) {
        let _ = writeln!(s, "| {} | {} | {} |", t.name, t.measured, verdict(t.met));
    }
    s.push('\n');

    let native_sizes = sizes(&r.native);
    let _ = writeln!(
        s,
        "## 1. Native: ns per operation, and the ratio to `lru`\n"
    );
    for (op, title) in OPS {
        let _ = writeln!(s, "### {title}\n");
        let _ = write!(s, "| library |");
        for n in &native_sizes {
            let _ = write!(s, " {} |", format_count(*n as f64));
        }
        let _ = write!(s, "\n|---|");
        for _ in &native_sizes {
            s.push_str("---:|");
        }
        s.push('\n');
        for lib in RUST_LIBRARIES {
            if !native_sizes
                .iter()
                .any(|n| find(&r.native, lib, op, *n).is_some())
            {
                continue;
            }
            let _ = write!(s, "| {lib} |");
            for n in &native_sizes {
                match find(&r.native, lib, op, *n) {
                    Some(row) => {
                        let ratio = find(&r.native, BASELINE, op, *n)
                            .map(|b| format!(" ({:.2}×)", row.ns_per_op / b.ns_per_op))
                            .unwrap_or_default();
                        let _ = write!(
                            s,
                            " {}{ratio} ±{:.0}% |",
                            ns(row.ns_per_op),
                            row.spread * 100.0
                        );
                    }
                    None => s.push_str(" n/a |"),
                }
            }
            s.push('\n');
        }
        if let Some(p) = plots.iter().find(|p| p.file == format!("{op}.svg")) {
            let _ = writeln!(s, "\n![{}]({plot_dir}/{})", p.title, p.file);
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "`lru` and `quick_cache` have no TTL, so they have no purge row; `moka`'s purge is its \
         `run_pending_tasks` after real time passed (it has no clock to move).\n"
    );
    let ab: Vec<usize> = native_sizes
        .iter()
        .copied()
        .filter(|n| find(&r.native, FAAS_S3FIFO, "get_hit_ab", *n).is_some())
        .collect();
    if !ab.is_empty() {
        let _ = writeln!(
            s,
            "### LRU against S3-FIFO, runs interleaved\n\nThe same core under both policies, one \
             run of each in turn (so a noisy neighbour slows both alike): S3-FIFO's ns/op and \
             its ratio to LRU's.\n"
        );
        let _ = writeln!(
            s,
            "| operation | entries | lru | s3-fifo | s3-fifo / lru |\n|---|---:|---:|---:|---:|"
        );
        for (op, title) in [
            ("get_hit_ab", "get, hit"),
            ("set_evict_ab", "set, evicting"),
        ] {
            for &n in &ab {
                if let (Some(l), Some(x)) = (
                    find(&r.native, FAAS, op, n),
                    find(&r.native, FAAS_S3FIFO, op, n),
                ) {
                    let _ = writeln!(
                        s,
                        "| {title} | {} | {} ±{:.0}% | {} ±{:.0}% | {:.2}× |",
                        format_count(n as f64),
                        ns(l.ns_per_op),
                        l.spread * 100.0,
                        ns(x.ns_per_op),
                        x.spread * 100.0,
                        x.ns_per_op / l.ns_per_op
                    );
                }
            }
        }
        s.push('\n');
    }

    if !r.steady.is_empty() {
        crate::steady::section(&mut s, &r.steady);
    }

    if !r.boundary.is_empty() {
        let floor = r
            .boundary
            .iter()
            .find(|b| b.call == "floor: empty()")
            .map(|b| b.per_call.ns);
        let _ = writeln!(
            s,
            "## 2. Through the component boundary (wasmtime, {} entries)\n",
            crate::boundary::ENTRIES
        );
        let _ = writeln!(
            s,
            "The floor is a hand-written component in the same engine whose `empty()` does \
             nothing and whose `get(key)` returns 100 bytes already in its memory.\n"
        );
        let _ = writeln!(
            s,
            "| call | keys/call | ns/call | ns/key | × empty call | spread |\n|---|---:|---:|---:|---:|---:|"
        );
        for b in &r.boundary {
            let x = floor
                .map(|f| format!("{:.1}×", b.per_call.ns / f))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {x} | ±{:.0}% |",
                b.call,
                b.keys_per_call,
                ns(b.per_call.ns),
                ns(b.per_key),
                b.per_call.spread * 100.0
            );
        }
        s.push('\n');
    }

    let _ = writeln!(
        s,
        "## 3. Scaling: per-op cost at each size over the cost at the smallest\n"
    );
    let _ = write!(s, "| library | operation |");
    let mut all_sizes = native_sizes.clone();
    all_sizes.extend(sizes(&r.python));
    all_sizes.sort_unstable();
    all_sizes.dedup();
    for n in &all_sizes {
        let _ = write!(s, " {} |", format_count(*n as f64));
    }
    let _ = write!(s, "\n|---|---|");
    for _ in &all_sizes {
        s.push_str("---:|");
    }
    s.push('\n');
    let mut libs: Vec<(String, bool)> = RUST_LIBRARIES
        .iter()
        .map(|l| (l.to_string(), false))
        .collect();
    for row in &r.python {
        if !libs.iter().any(|(l, _)| *l == row.library) {
            libs.push((row.library.clone(), true));
        }
    }
    for (lib, python) in &libs {
        let rows = if *python { &r.python } else { &r.native };
        for (op, _) in OPS {
            let base = all_sizes.iter().find_map(|n| find(rows, lib, op, *n));
            let Some(base) = base else { continue };
            let name = if *python {
                format!("{lib} (Python)")
            } else {
                lib.clone()
            };
            let _ = write!(s, "| {name} | {op} |");
            for n in &all_sizes {
                match find(rows, lib, op, *n) {
                    Some(x) => {
                        let _ = write!(s, " {:.2}× |", x.ns_per_op / base.ns_per_op);
                    }
                    None => s.push_str(" |"),
                }
            }
            s.push('\n');
        }
    }
    s.push('\n');

    if !r.memory.is_empty() {
        let mib = |b: f64| b / (1 << 20) as f64;
        let _ = writeln!(
            s,
            "## 4. Memory: component linear memory against the byte budget\n"
        );
        let _ = writeln!(
            s,
            "Fill: 100-byte values until the budget is full twice over. Churn: ten budgets of \
             values of 16 B to 64 KiB (log-uniform), three writes in four new keys. Linear \
             memory never shrinks, so the churn figure is the peak. *+ log* rows keep a removal \
             log of 100,000 records that nothing drains: the log is bounded in bytes by the \
             cache's limit as well (`wit/cache.wit`), so its bound adds one budget; records past \
             either bound are dropped, oldest first, and counted.\n"
        );
        let _ = writeln!(
            s,
            "| policy | budget | after fill | after churn | bound (1.25× (budget + log) + 1 MiB) | churn / budget | entries at end | writes | log records held / dropped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for m in &r.memory {
            let log = if m.removal_log_capacity > 0 {
                format!("{} / {}", m.removals_held, m.removals_dropped)
            } else {
                "no log".into()
            };
            let _ = writeln!(
                s,
                "| {}{} | {:.0} MiB | {:.2} MiB | {:.2} MiB | {:.2} MiB | {:.2} | {} | {} | {log} |",
                m.policy,
                if m.removal_log_capacity > 0 { " + log" } else { "" },
                mib(m.budget as f64),
                mib(m.after_fill as f64),
                mib(m.after_churn as f64),
                mib(m.bound() as f64),
                m.after_churn as f64 / m.budget as f64,
                m.entries,
                m.writes
            );
        }
        if let Some(p) = plots.iter().find(|p| p.file == "memory.svg") {
            let _ = writeln!(s, "\n![{}]({plot_dir}/{})", p.title, p.file);
        }
        s.push('\n');
    }

    if !r.cold.is_empty() {
        let _ = writeln!(s, "## 5. Cold start\n");
        let _ = writeln!(s, "| step | time | spread |\n|---|---:|---:|");
        for c in &r.cold {
            let _ = writeln!(
                s,
                "| {} | {} | ±{:.0}% |",
                c.step,
                ns(c.time.ns),
                c.time.spread * 100.0
            );
        }
        s.push('\n');
        let notes = crate::coldstart::notes(&r.cold);
        if !notes.is_empty() {
            s.push_str(&notes);
            s.push('\n');
        }
    }

    if !r.python.is_empty() {
        let _ = writeln!(
            s,
            "## 6. The Python original and `cachetools`, against the native core\n"
        );
        let _ = writeln!(
            s,
            "Python 3.11, `faas-cache-dict` 0.8.0 (the original) and `cachetools` 8.0.2 \
             (`LRUCache`, `TTLCache` for the purge), driven by `bench/python/bench.py`. The \
             original walks the whole dict on every write, so its caches are filled through \
             `OrderedDict.__setitem__` with its own entry layout; every timed call goes through \
             its public API.\n"
        );
        let _ = writeln!(
            s,
            "| operation | entries | faas-cache-dict | cachetools | faas-cache (native) | original / faas-cache |\n|---|---:|---:|---:|---:|---:|"
        );
        for (op, _) in OPS {
            for n in sizes(&r.python) {
                let p = find(&r.python, PYTHON_ORIGINAL, op, n);
                let c = find(&r.python, "cachetools", op, n);
                let f = find(&r.native, FAAS, op, n);
                if p.is_none() && c.is_none() {
                    continue;
                }
                let cell = |x: Option<&Row>| x.map(|x| ns(x.ns_per_op)).unwrap_or_default();
                let ratio = match (p, f) {
                    (Some(p), Some(f)) => format!("{:.0}×", p.ns_per_op / f.ns_per_op),
                    _ => String::new(),
                };
                let _ = writeln!(
                    s,
                    "| {op} | {} | {} | {} | {} | {ratio} |",
                    format_count(n as f64),
                    cell(p),
                    cell(c),
                    cell(f)
                );
            }
        }
        s.push('\n');
    }

    if !r.kv.is_empty() {
        kv_section(&mut s, &r.kv);
    }
    if let Some(k) = &r.kv_host {
        kv_host_section(&mut s, k, kv_saving(&r.kv));
    }
    if !r.hitratio.is_empty() {
        crate::hitratio_report::section(&mut s, r, plots, plot_dir);
    }
    if let Some(p) = &r.python_guest {
        crate::pyguest::section(&mut s, p);
    }
    match crate::reliability::load(&crate::root()) {
        Ok(checks) => crate::reliability::section(&mut s, &checks),
        Err(e) => {
            let _ = writeln!(s, "## 10. Reliability\n\nNot recorded: {e}.\n");
        }
    }

    if let Some(serve) = &r.serve {
        serve_section(&mut s, serve);
    }
    if let Some(js) = &r.js {
        crate::js::section(&mut s, js);
    }

    let analysis = crate::root().join("bench/analysis.md");
    if let Ok(text) = std::fs::read_to_string(analysis) {
        s.push_str(&text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// Section 7: the L1 tier against Redis round trips, as ratios to the native `GET` baseline.
fn kv_section(s: &mut String, rows: &[crate::kv::KvRow]) {
    let _ = writeln!(
        s,
        "## 7. The L1 tier in front of Redis (`faas:kv-l1`, `wasi:keyvalue` draft2)\n"
    );
    let _ = writeln!(
        s,
        "A private `redis-server` on loopback holds 10,000 keys with 100-byte values. The \
         baseline is a `GET` from the native `redis` client in the same run. The L1 rows call the \
         L1 component's exports in wasmtime; the app rows call the example app's `run(\"get k\")` \
         export, alone (its `wasi:keyvalue` imports go to the host, which asks Redis) or composed \
         with the L1 by `wac plug`. The Zipf rows run 90% reads and 10% writes over the 10,000 \
         keys, starting with a cold L1.\n"
    );
    let _ = writeln!(
        s,
        "| case | time per op | ops/s | spread | Redis round trips per op | time / Redis GET |\n|---|---:|---:|---:|---:|---:|"
    );
    let base = rows.first().map(|r| r.time.ns).unwrap_or(1.0);
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | ±{:.0}% | {:.3} | {:.2}× |",
            r.case,
            ns(r.time.ns),
            format_count(1e9 / r.time.ns),
            r.time.spread * 100.0,
            r.round_trips_per_op,
            r.time.ns / base
        );
    }
    let zipf: Vec<_> = rows.iter().filter(|r| r.case.starts_with("Zipf")).collect();
    if let [without, with] = zipf[..] {
        let _ = writeln!(
            s,
            "\nOn the Zipf workload the L1 saves {:.1}% of Redis round trips and runs {:.1}× as \
             many operations per second.",
            100.0 * (1.0 - with.round_trips_per_op / without.round_trips_per_op),
            without.time.ns / with.time.ns
        );
    }
    s.push('\n');
}

/// The share of Redis round trips the component's L1 saves on the Zipf rows of section 7 (one
/// long-lived instance).
fn kv_saving(rows: &[crate::kv::KvRow]) -> Option<f64> {
    let zipf: Vec<_> = rows.iter().filter(|r| r.case.starts_with("Zipf")).collect();
    match zipf[..] {
        [without, with] if without.round_trips_per_op > 0.0 => {
            Some(1.0 - with.round_trips_per_op / without.round_trips_per_op)
        }
        _ => None,
    }
}

/// Section 7b's targets: the saving against one long-lived instance's, and the staleness.
fn kv_host_targets(r: &Results) -> Vec<Target> {
    let Some(k) = &r.kv_host else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let (Some(host), Some(long)) = (k.saving(), kv_saving(&r.kv)) {
        out.push(Target {
            name: "the host's L1, a fresh instance per request: round trips saved within 5 points \
                   of one long-lived instance's L1 (Zipf 90/10)",
            measured: format!(
                "{:.1}% saved against {:.1}% (§7)",
                100.0 * host,
                100.0 * long
            ),
            met: Some(host >= long - 0.05),
        });
    }
    out.push(Target {
        name: "staleness after another client's write: p99 until both hosts serve the new value \
               < 10 ms",
        measured: format!(
            "p50 {:.2} ms, p99 {:.2} ms over {} writes",
            k.staleness(0.5) / 1000.0,
            k.staleness(0.99) / 1000.0,
            k.staleness_us.len()
        ),
        met: Some(k.staleness(0.99) < 10_000.0),
    });
    out
}

/// Section 7b: the L1 held by the host.
fn kv_host_section(s: &mut String, k: &crate::kv_host::KvHost, long: Option<f64>) {
    let _ = writeln!(
        s,
        "## 7b. The L1 in the host (`faas-cache-serve --keyvalue`)\n"
    );
    let _ = writeln!(
        s,
        "The test app's `kv-get` / `kv-set` over HTTP, a fresh instance per request, through \
         `faas-cache-serve`'s `wasi:keyvalue` (`hosts/faas-kv-provider`) on a private \
         `redis-server`: the same Zipf(1) 90/10 sequence over 10,000 keys as §7. *No L1* is an \
         L1 whose entries never outlive their read (TTL 0, untracked). The composed component \
         saves nothing here: each instance takes its L1 with it (§7 measures it in one \
         long-lived instance{}).\n",
        long.map(|l| format!(", where it saves {:.1}%", 100.0 * l))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "| setup | requests | Redis round trips per request | requests/s |\n|---|---:|---:|---:|"
    );
    for r in &k.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {} |",
            r.case,
            format_count(r.requests as f64),
            r.round_trips_per_request,
            format_count(r.requests_per_second)
        );
    }
    if let Some(saving) = k.saving() {
        let _ = writeln!(
            s,
            "\nThe host's L1 saves {:.1}% of the round trips.",
            100.0 * saving
        );
    }
    let _ = writeln!(
        s,
        "\n**Staleness.** Two hosts (two routers with their own L1, as two processes would \
         have) on the same Redis both hold a key; a plain Redis client writes it; both are \
         polled over HTTP until they serve the new value: p50 {:.2} ms, p99 {:.2} ms, max \
         {:.2} ms over {} writes (without tracking it would be up to the 5 s TTL).\n",
        k.staleness(0.5) / 1000.0,
        k.staleness(0.99) / 1000.0,
        k.staleness(1.0) / 1000.0,
        k.staleness_us.len()
    );
    let _ = writeln!(
        s,
        "**What tracking costs a miss** (an L1 `get` that goes to Redis, called natively, \
         untracked and tracked runs interleaved): {} untracked (±{:.0}%), {} tracked (±{:.0}%), \
         {:.2}×.\n",
        ns(k.miss_untracked.ns),
        k.miss_untracked.spread * 100.0,
        ns(k.miss_tracked.ns),
        k.miss_tracked.spread * 100.0,
        k.miss_tracked.ns / k.miss_untracked.ns
    );
}

/// Section 11: caches that outlive the instance (`faas-cache-serve`).
fn serve_section(s: &mut String, v: &crate::serve::Serve) {
    let _ = writeln!(
        s,
        "## 11. Caches that outlive the instance (faas-cache-serve)\n"
    );
    let _ = writeln!(
        s,
        "One app (`hosts/faas-cache-serve/app`, a WASIp2 `wasi:http` handler that imports \
         `faas:cache/{{cache,policy,named}}`) served over loopback by the `faas-cache-serve` \
         library in the bench's process (its engine, linker, router and `serve_until`, a tokio \
         runtime), driven by a plain keep-alive HTTP/1.1 client. *Composed*: the app with the \
         cache component plugged into its imports by `wac-graph` 0.12, so the cache lives in the \
         instance. *Provided*: the same app alone, its imports served natively by the host \
         (`faas-cache-provider`), so the cache lives in the app's scope and outlives every \
         instance. Each request `op=hit&key=K` reads `K` from the named cache `items` (4 MiB, \
         LRU) and stores a 100-byte value on a miss.\n"
    );

    let _ = writeln!(
        s,
        "### Hit rate on one stream\n\n{} requests, keys Zipf(1.0) over {}, the same stream for \
         every setup, one client.\n",
        format_count(v.requests as f64),
        format_count(v.keys as f64)
    );
    let _ = writeln!(
        s,
        "| setup | instance reuse | hits | hit rate | time per request |\n|---|---|---:|---:|---:|"
    );
    for h in &v.hit {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2}% | {} |",
            h.setup,
            h.reuse,
            h.hits,
            h.hit_rate() * 100.0,
            ns(h.us_per_request * 1e3)
        );
    }
    s.push('\n');

    let g = &v.get;
    let _ = writeln!(
        s,
        "### A guest's `get` hit, provider against composed\n\nThe app's `op=loop&key=k&n=N` \
         makes `N` gets of one 100-byte value in one request, fresh instance per request on both \
         setups; ns per get = (t(N) − t(0)) / N with N = {} and t(0) the median of 5 requests. \
         {} runs, the two setups interleaved; medians and spread (max − min) / median.\n",
        format_count(g.gets as f64),
        g.runs
    );
    let _ = writeln!(s, "| cache | ns per get | spread |\n|---|---:|---:|");
    for (name, x) in [
        ("provided by the host (`faas-cache-provider`)", &g.provider),
        ("composed component (in the instance)", &g.composed),
    ] {
        let _ = writeln!(s, "| {name} | {} | ±{:.0}% |", ns(x.ns), x.spread * 100.0);
    }
    let _ = writeln!(
        s,
        "| provider / composed (per run) | {:.2}× | ±{:.0}% |\n",
        g.ratio.ns,
        g.ratio.spread * 100.0
    );
    if g.ratio.ns > 1.0 {
        let bare = v.lock.iter().find(|l| l.case.starts_with("bare"));
        let locked = v
            .lock
            .iter()
            .find(|l| l.threads == 1 && !l.case.starts_with("bare"));
        let share = match (bare, locked) {
            (Some(bare), Some(locked)) => format!(
                "Of that, the named cache's lock costs {} natively (uncontended; the lock table \
                 below), and the rest is the host call itself",
                ns((locked.time.ns - bare.time.ns).max(0.0))
            ),
            _ => "It is the host call".into(),
        };
        let _ = writeln!(
            s,
            "The target (ratio ≤ 1.00) is missed: a `get` through the provider costs {} more \
             than through the composed component ({:.2}×). {share}: wasmtime leaves compiled \
             code for the host, the key is copied out of guest memory into a host string, the \
             value is copied out of the cache and lowered back into guest memory through the \
             guest's `realloc`; the composed component's `get` is compiled adapter code between \
             two instances of one store, memory to memory.\n",
            ns(g.provider.ns - g.composed.ns),
            g.ratio.ns
        );
    }

    if !v.throughput.is_empty() || !v.lock.is_empty() {
        let _ = writeln!(
            s,
            "### Throughput and the lock\n\n{} concurrent keep-alive clients (threads of the \
             bench's process, on the same {} cores as the server) for {:.1} s per run, runs of \
             the two cases interleaved; median requests/s.\n",
            v.clients,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            v.seconds
        );
        let _ = writeln!(
            s,
            "| case | requests/s | spread | requests |\n|---|---:|---:|---:|"
        );
        for t in &v.throughput {
            let _ = writeln!(
                s,
                "| {} | {} | ±{:.0}% | {} |",
                t.case,
                format_count(t.per_second()),
                t.per_request.spread * 100.0,
                t.requests
            );
        }
        let by = |k: &str| v.throughput.iter().find(|t| t.key == k);
        if let (Some(hit), Some(nop)) = (by("provided-hit"), by("nop")) {
            let _ = writeln!(
                s,
                "\nWith the cache provided, the server answers {:.2}× the requests per second of \
                 the same app making no cache call.",
                hit.per_second() / nop.per_second()
            );
        }
        let bare = v.lock.iter().find(|l| l.threads == 1).map(|l| l.time.ns);
        let _ = writeln!(
            s,
            "\nThe lock's cost, natively: `get` hits of 1,000 keys with 100-byte values, on the \
             bare core and on a scope's named cache (`Scope::open`, an `Arc<Mutex<Cache>>`) \
             locked per call; ns per get as each thread sees it.\n"
        );
        let _ = writeln!(
            s,
            "| cache | threads | ns per get | spread | × bare |\n|---|---:|---:|---:|---:|"
        );
        for l in &v.lock {
            let _ = writeln!(
                s,
                "| {} | {} | {} | ±{:.0}% | {} |",
                l.case,
                l.threads,
                ns(l.time.ns),
                l.time.spread * 100.0,
                bare.map(|b| format!("{:.2}×", l.time.ns / b))
                    .unwrap_or_default()
            );
        }
        s.push('\n');
    }

    let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
    match &v.memory {
        Some(m) => {
            let _ = writeln!(
                s,
                "### The server's memory\n\nThe built `faas-cache-serve` binary, spawned with \
                 `--ceiling {}M` and `{}` in its environment, serving the app with a fresh \
                 instance per request. `op=fill` requests filled {} named caches of {} each (the \
                 ceiling) with values of 100 B to 8 KiB (log-uniform per request, three requests \
                 in four writing new keys, the fourth overwriting earlier ones): {} of values in \
                 {} requests, {:.1}× the ceiling. RSS is the process's `VmRSS` from \
                 `/proc/PID/status`, the peak its `VmHWM`.\n",
                m.ceiling >> 20,
                m.env,
                m.caches,
                mib(m.cache_limit),
                mib(m.written),
                m.requests,
                m.written as f64 / m.ceiling as f64
            );
            let _ = writeln!(s, "| | |\n|---|---:|");
            let _ = writeln!(
                s,
                "| RSS, idle (after one request that touches no cache) | {} |",
                mib(m.idle_rss)
            );
            let _ = writeln!(s, "| RSS after the fill and churn | {} |", mib(m.rss));
            let _ = writeln!(s, "| peak RSS | {} |", mib(m.peak_rss));
            let _ = writeln!(
                s,
                "| the caches' accounted bytes at the end | {} |",
                mib(m.accounted)
            );
            let _ = writeln!(s, "| bound: 1.25 × ceiling + 16 MiB | {} |", mib(m.bound()));
            let _ = writeln!(
                s,
                "| RSS over the idle server | {} ({:.2}× the ceiling) |\n",
                mib(m.rss.saturating_sub(m.idle_rss)),
                m.rss.saturating_sub(m.idle_rss) as f64 / m.ceiling as f64
            );
            if m.rss > m.bound() {
                let _ = writeln!(
                    s,
                    "The target is missed by {}: the server holds {} above its idle size for \
                     caches that account for {}.\n",
                    mib(m.rss - m.bound()),
                    mib(m.rss.saturating_sub(m.idle_rss)),
                    mib(m.accounted)
                );
            }
        }
        None => {
            let _ = writeln!(
                s,
                "### The server's memory\n\nNot measured: the `faas-cache-serve` binary was not \
                 built (`cargo build --release -p faas-cache-serve`).\n"
            );
        }
    }

    let _ = writeln!(s, "| target | this run | verdict |\n|---|---|---|");
    for t in serve_targets(v) {
        let _ = writeln!(s, "| {} | {} | {} |", t.name, t.measured, verdict(t.met));
    }
    let provided = serve_hit(v, "provided-fresh");
    let ceiling = serve_hit(v, "ceiling");
    if let (Some(p), Some(c)) = (provided, ceiling) {
        let gap = (c.hit_rate() - p.hit_rate()) * 100.0;
        if gap > 1.0 {
            let _ = writeln!(
                s,
                "\nThe hit-rate target is missed: a fresh instance per request with the cache \
                 provided loses {gap:.2} points to the ceiling."
            );
        }
    }
    s.push('\n');
}
