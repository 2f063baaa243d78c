//! Section 8 of `BENCHMARKS.md`: the hit-ratio table, its plots and its targets, computed from
//! `Results::hitratio` (see `hitratio`). Invariant: a row missing from the results (libCacheSim
//! could not run, or refused a size) shows as a blank cell and leaves its target "not measured",
//! never as a number.

use std::fmt::Write;
use std::path::Path;

use crate::hitratio::{HitRow, LIBCACHESIM, PERCENTS};
use crate::plot::{format_count, line_chart, Series, Written};
use crate::report::Target;
use crate::Results;

const LRU: &str = "faas-cache lru";
const S3FIFO: &str = "faas-cache s3-fifo";

/// The subjects in table order: ours, then libCacheSim's, then the Rust peers.
fn subjects() -> Vec<String> {
    let mut out = vec![LRU.to_string(), S3FIFO.to_string()];
    out.extend(LIBCACHESIM.iter().map(|a| format!("libCacheSim {a}")));
    out.extend(["moka".to_string(), "quick_cache".to_string()]);
    out
}

/// The traces in the order they were run.
fn traces(rows: &[HitRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if !out.contains(&r.trace) {
            out.push(r.trace.clone());
        }
    }
    out
}

fn find<'a>(rows: &'a [HitRow], trace: &str, percent: f64, subject: &str) -> Option<&'a HitRow> {
    rows.iter()
        .find(|r| r.trace == trace && r.percent == percent && r.subject == subject)
}

/// Every (trace, percent) row that both `a` and `b` have, with both rows.
fn pairs<'a>(rows: &'a [HitRow], a: &str, b: &str) -> Vec<(&'a HitRow, &'a HitRow)> {
    let mut out = Vec::new();
    for t in traces(rows) {
        for p in PERCENTS {
            if let (Some(x), Some(y)) = (find(rows, &t, p, a), find(rows, &t, p, b)) {
                out.push((x, y));
            }
        }
    }
    out
}

fn label(r: &HitRow) -> String {
    format!("{} at {}%", r.trace, r.percent)
}

pub fn targets(r: &Results) -> Vec<Target> {
    let rows = &r.hitratio;
    let mut out = Vec::new();
    let lru = pairs(rows, LRU, "libCacheSim LRU");
    if !lru.is_empty() {
        let equal = lru.iter().filter(|(a, b)| a.misses == b.misses).count();
        let (worst, at) = lru
            .iter()
            .map(|(ours, theirs)| {
                (
                    (ours.miss_ratio - theirs.miss_ratio).abs() * 100.0,
                    label(ours),
                )
            })
            .fold((-1.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
        out.push(Target {
            name: "hit ratio: our `lru` misses exactly as libCacheSim's LRU, every row",
            measured: format!(
                "{equal} of {} rows equal; largest gap {worst:.3} points ({at})",
                lru.len()
            ),
            met: Some(equal == lru.len()),
        });
    }
    let s3 = pairs(rows, S3FIFO, "libCacheSim S3FIFO");
    if !s3.is_empty() {
        let ratio =
            |(ours, theirs): &(&HitRow, &HitRow)| ours.misses as f64 / theirs.misses.max(1) as f64;
        let (worst, at) = s3
            .iter()
            .map(|p| (ratio(p), label(p.0)))
            .fold((-1.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
        let same_rule = pairs(
            rows,
            S3FIFO,
            &format!("libCacheSim {}", crate::hitratio::ONE_READ),
        );
        let (rule_worst, rule_at) = same_rule
            .iter()
            .map(|p| (ratio(p), label(p.0)))
            .fold((-1.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
        let cause = if worst > 1.02 && !same_rule.is_empty() {
            format!(
                "; against libCacheSim's S3FIFO promoting after one read in the small queue, as \
                 `wit/policy.wit` says ours does (its default waits for two), worst \
                 {rule_worst:.4}× ({rule_at}): the gap is the contract's promotion rule"
            )
        } else {
            String::new()
        };
        out.push(Target {
            name: "hit ratio: our `s3-fifo` misses ≤ 1.02× libCacheSim's S3FIFO, every row",
            measured: format!("{} rows; worst {worst:.4}× ({at}){cause}", s3.len()),
            met: Some(worst <= 1.02),
        });
        let real: Vec<String> = s3
            .iter()
            .filter(|p| crate::traces::NAMES.contains(&p.0.trace.as_str()) && ratio(p) < 1.0)
            .map(|p| format!("{} {:.4}×", label(p.0), ratio(p)))
            .collect();
        if s3
            .iter()
            .any(|p| crate::traces::NAMES.contains(&p.0.trace.as_str()))
        {
            out.push(Target {
                name: "hit ratio: our `s3-fifo` below libCacheSim's S3FIFO on a real trace",
                measured: if real.is_empty() {
                    "on no real-trace row".into()
                } else {
                    real.join("; ")
                },
                met: Some(!real.is_empty()),
            });
        }
    }
    if let (Some(l), Some(s)) = (
        find(rows, "zipf-1.0", 1.0, LRU),
        find(rows, "zipf-1.0", 1.0, S3FIFO),
    ) {
        let fewer = 1.0 - s.misses as f64 / l.misses as f64;
        out.push(Target {
            name: "hit ratio: `s3-fifo` ≥ 15% fewer misses than `lru` at 1%, Zipf 1.0",
            measured: format!(
                "{:.1}% vs {:.1}% miss ratio: {:.1}% fewer misses",
                s.miss_ratio * 100.0,
                l.miss_ratio * 100.0,
                fewer * 100.0
            ),
            met: Some(fewer >= 0.15),
        });
    }
    let agree: Vec<(&HitRow, &HitRow)> = [LRU, S3FIFO]
        .iter()
        .flat_map(|s| pairs(rows, s, &format!("{s} (wasmtime)")))
        .collect();
    if !agree.is_empty() {
        out.push(Target {
            name: "hit ratio: the component through wasmtime misses exactly as the native core",
            measured: agree
                .iter()
                .map(|(n, w)| format!("{}: {} vs {} misses", n.subject, n.misses, w.misses))
                .collect::<Vec<_>>()
                .join("; "),
            met: Some(agree.iter().all(|(n, w)| n.misses == w.misses)),
        });
    }
    out
}

pub fn section(s: &mut String, r: &Results, plots: &[Written], plot_dir: &str) {
    let rows = &r.hitratio;
    let requests = rows.first().map_or(0, |x| x.requests);
    let _ = writeln!(s, "## 8. Hit ratio: LRU and S3-FIFO against libCacheSim\n");
    let _ = writeln!(
        s,
        "Miss ratio (%) of every subject on the identical request sequence ({} requests per synthetic \
         trace), written to a file that libCacheSim ({}) reads as oracleGeneral records. A \
         request is a `get`; a miss `set`s the object. Zipf traces draw from {} objects; \
         *+scans* ends each 5% of the requests with a one-time scan of fresh objects (10% of all \
         requests); the variable-size trace has values of 16 B to 16 KiB (log-uniform) and is \
         bounded by bytes, each object weighing what faas-cache's accounting charges (postcard \
         key and value plus the per-entry overhead) in every subject. Cache sizes are 0.1%, 1% \
         and 10% of the objects (or of their bytes). `bench/src/hitratio.rs` makes the traces, \
         `bench/python/hitratio.py` runs libCacheSim (default parameters: its S3FIFO promotes \
         after two reads in the small queue, ours after one, as `wit/policy.wit` says). \
         *Belady* is libCacheSim's offline optimum (each record carries its object's next \
         request; on rows bounded by bytes it is libCacheSim's `BeladySize`), and the last \
         column is how far our `s3-fifo` stands from it.\n\n\
         Real traces, beside the synthetic ones: {}.\n",
        format_count(requests as f64),
        r.libcachesim
            .as_deref()
            .map(|v| format!("`libcachesim` {v}"))
            .unwrap_or_else(|| "which did not run".into()),
        rows.iter()
            .filter(|x| !x.by_bytes)
            .map(|x| (x.cache_size as f64 / x.percent * 100.0).round() as u64)
            .next()
            .map_or_else(|| "n".into(), |n| format_count(n as f64)),
        crate::traces::SOURCES,
    );
    let subjects = subjects();
    let _ = write!(s, "| trace | size |");
    for sub in &subjects {
        let _ = write!(s, " {sub} |");
    }
    let _ = write!(s, " s3-fifo − Belady (points) |\n|---|---:|");
    for _ in &subjects {
        s.push_str("---:|");
    }
    s.push_str("---:|\n");
    for t in traces(rows) {
        for p in PERCENTS {
            let Some(any) = rows.iter().find(|x| x.trace == t && x.percent == p) else {
                continue;
            };
            let size = if any.by_bytes {
                format!("{p}% ({} B)", format_count(any.cache_size as f64))
            } else {
                format!("{p}% ({})", format_count(any.cache_size as f64))
            };
            let _ = write!(s, "| {t} | {size} |");
            for sub in &subjects {
                match find(rows, &t, p, sub) {
                    Some(x) => {
                        let _ = write!(s, " {:.2} |", x.miss_ratio * 100.0);
                    }
                    None => s.push_str(" |"),
                }
            }
            match (
                find(rows, &t, p, S3FIFO),
                find(rows, &t, p, "libCacheSim Belady"),
            ) {
                (Some(ours), Some(best)) => {
                    let _ = write!(s, " {:+.2} |", (ours.miss_ratio - best.miss_ratio) * 100.0);
                }
                _ => s.push_str(" |"),
            }
            s.push('\n');
        }
    }
    let through: Vec<&HitRow> = rows
        .iter()
        .filter(|x| x.subject.ends_with("(wasmtime)"))
        .collect();
    if !through.is_empty() {
        let _ = writeln!(
            s,
            "\nThrough wasmtime (the component's `policy.create`, `get` and `set`): {}.",
            through
                .iter()
                .map(|x| format!(
                    "{} on {} at {}%: {:.2}%",
                    x.subject,
                    x.trace,
                    x.percent,
                    x.miss_ratio * 100.0
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let gains: Vec<String> = traces(rows)
        .iter()
        .flat_map(|t| PERCENTS.iter().map(move |p| (t.clone(), *p)))
        .filter_map(|(t, p)| {
            let l = find(rows, &t, p, LRU)?;
            let x = find(rows, &t, p, S3FIFO)?;
            Some(format!(
                "{t} {p}%: {:+.1}%",
                -100.0 * (1.0 - x.misses as f64 / l.misses.max(1) as f64)
            ))
        })
        .collect();
    if !gains.is_empty() {
        let _ = writeln!(
            s,
            "\nMisses of `s3-fifo` relative to `lru` (negative: fewer): {}.",
            gains.join(", ")
        );
    }
    s.push('\n');
    for p in plots.iter().filter(|p| p.file.starts_with("hitratio_")) {
        let _ = writeln!(s, "![{}]({plot_dir}/{})", p.title, p.file);
    }
    s.push('\n');
}

/// One plot per trace: miss ratio (%) against the cache size (%), one line per subject.
pub fn plots(r: &Results, dir: &Path) -> Result<Vec<Written>, String> {
    let rows = &r.hitratio;
    let mut out = Vec::new();
    for t in traces(rows) {
        let series: Vec<Series> = subjects()
            .into_iter()
            .filter_map(|sub| {
                let pts: Vec<(f64, f64)> = PERCENTS
                    .iter()
                    .filter_map(|&p| find(rows, &t, p, &sub).map(|x| (p, x.miss_ratio * 100.0)))
                    .collect();
                (!pts.is_empty()).then_some((sub, pts))
            })
            .collect();
        if series.is_empty() {
            continue;
        }
        let slug: String = t
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = format!("hitratio_{slug}.svg");
        line_chart(
            &dir.join(&file),
            &format!("{t}: miss ratio vs cache size"),
            "cache size (% of objects)",
            "miss ratio (%)",
            &series,
            false,
        )?;
        out.push(Written {
            file,
            title: format!("hit ratio, {t}"),
        });
    }
    Ok(out)
}
