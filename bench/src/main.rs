//! `cargo xtask bench` (or `cargo run --release -p faas-cache-bench`): the performance report.
//!
//! Runs six sections and writes `BENCHMARKS.md`, `bench/results.json` and `bench/plots/*.svg`:
//! 1. the native core next to `lru`, `quick_cache` and `moka` (`native`);
//! 2. calls through the component boundary in wasmtime against an empty-call floor (`boundary`);
//! 3. scaling from 1k to 1M entries (from section 1);
//! 4. linear memory against the byte budget after a fill and a churn (`memory`);
//! 5. cold start: compile or load from the compilation cache, `InstancePre`, first call, restore,
//!    a new process's first answer (`coldstart`);
//! 6. the Python original and `cachetools` (`python`);
//! 7. the `faas:kv-l1` tier in front of a real Redis (`kv`; needs `redis-server`);
//! 8. hit ratio of both eviction policies, `moka`, `quick_cache` and libCacheSim (`hit`);
//! 9. the Python guests (`pyguest`);
//! 11. caches that outlive the instance: `faas-cache-serve` against the composed component
//!     (`serve`; its memory part spawns the built `faas-cache-serve` binary).
//!
//! Flags: `--quick` (a smoke run into `target/bench-quick/`), `--skip-python`, `--report-only`
//! (rebuild the report from `results.json` without measuring), `--only native,boundary,memory,
//! cold,python,kv,kvhost,hit,pyguest,serve,steady,js` (measure those sections again and keep the others from
//! `results.json`) and `--sizes 1000,1000000` (other native sizes, for investigation).

mod boundary;
mod coldstart;
mod compare;
mod guest;
mod headline;
mod hitratio;
mod hitratio_report;
mod js;
mod kv;
mod kv_host;
mod measure;
mod memory;
mod native;
mod plot;
mod pyguest;
mod python;
mod reliability;
mod report;
mod serve;
mod steady;
mod traces;

use faas_cache_bench::{subjects, workload};

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

use serde::{Deserialize, Serialize};

/// One measured operation of one library at one size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub library: String,
    pub op: String,
    pub entries: usize,
    pub ns_per_op: f64,
    pub spread: f64,
}

impl Row {
    pub fn new(library: &str, op: &str, entries: usize, sample: measure::Sample) -> Row {
        Row {
            library: library.into(),
            op: op.into(),
            entries,
            ns_per_op: sample.ns,
            spread: sample.spread,
        }
    }
}

/// Where and how the figures were taken.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub rustc: String,
    pub python: String,
    pub date: String,
    pub runs: usize,
    pub quick: bool,
    pub minutes: f64,
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    pub machine: Machine,
    pub native: Vec<Row>,
    pub python: Vec<Row>,
    pub boundary: Vec<boundary::BoundaryRow>,
    pub memory: Vec<memory::MemoryRow>,
    pub cold: Vec<coldstart::ColdRow>,
    #[serde(default)]
    pub kv: Vec<kv::KvRow>,
    #[serde(default)]
    pub hitratio: Vec<hitratio::HitRow>,
    /// The libCacheSim version of the hit-ratio rows (`None`: it did not run).
    #[serde(default)]
    pub libcachesim: Option<String>,
    /// Bytes of the measured `faas:cache` component.
    #[serde(default)]
    pub component_bytes: Option<u64>,
    /// Section 9: the Python guests (`None`: not measured).
    #[serde(default)]
    pub python_guest: Option<pyguest::PyGuest>,
    /// Section 11: caches that outlive the instance (`None`: not measured).
    #[serde(default)]
    pub serve: Option<serve::Serve>,
    /// Section 12: the JavaScript benchmark's output (`None`: not measured).
    #[serde(default)]
    pub js: Option<js::JsBench>,
    /// Section 7b: the L1 held by `faas-cache-serve --keyvalue` (`None`: not measured).
    #[serde(default)]
    pub kv_host: Option<kv_host::KvHost>,
    /// Section 1b: instructions per operation under callgrind (empty: not measured).
    #[serde(default)]
    pub steady: Vec<steady::SteadyRow>,
    /// When each section (by its `--only` name) was last measured: `--only` keeps the others'
    /// rows, and their dates with them.
    #[serde(default)]
    pub section_dates: std::collections::BTreeMap<String, String>,
}

/// The sections `--only` names, in report order.
pub const SECTIONS: [&str; 12] = [
    "native", "steady", "boundary", "memory", "cold", "python", "kv", "kvhost", "hit", "pyguest",
    "serve", "js",
];

/// How much each section measures.
struct Scale {
    sizes: &'static [usize],
    runs: usize,
    ops: usize,
    boundary_calls: usize,
    python_sizes: &'static [usize],
    python_runs: usize,
    python_ops: usize,
    budgets_mib: &'static [usize],
    instances: usize,
    kv_ops: usize,
    hit: hitratio::Plan,
    serve: serve::Plan,
    kv_host: kv_host::Plan,
}

const FULL: Scale = Scale {
    sizes: &[1_000, 10_000, 100_000, 1_000_000],
    runs: 5,
    ops: 200_000,
    boundary_calls: 200_000,
    python_sizes: &[1_000, 10_000, 100_000],
    python_runs: 3,
    python_ops: 20_000,
    budgets_mib: &[1, 4, 16, 64, 128],
    instances: 50,
    kv_ops: 20_000,
    hit: hitratio::Plan {
        objects: 100_000,
        requests: 1_000_000,
    },
    serve: serve::Plan {
        keys: 20_000,
        requests: 20_000,
        loop_gets: 200_000,
        loop_runs: 9,
        clients: 16,
        seconds: 3.0,
        throughput_runs: 2,
        lock_ops: 1_000_000,
        lock_runs: 5,
        fill_bytes: 3 * (64 << 20),
        debug_binary: false,
    },
    kv_host: kv_host::Plan {
        requests: 20_000,
        writes: 200,
        misses: 20_000,
        runs: 5,
    },
};

const QUICK: Scale = Scale {
    sizes: &[1_000, 10_000],
    runs: 2,
    ops: 20_000,
    boundary_calls: 20_000,
    python_sizes: &[1_000],
    python_runs: 1,
    python_ops: 2_000,
    budgets_mib: &[1, 4],
    instances: 5,
    kv_ops: 2_000,
    hit: hitratio::Plan {
        objects: 20_000,
        requests: 100_000,
    },
    serve: serve::Plan {
        keys: 1_000,
        requests: 1_000,
        loop_gets: 20_000,
        loop_runs: 3,
        clients: 16,
        seconds: 0.3,
        throughput_runs: 1,
        lock_ops: 50_000,
        lock_runs: 2,
        fill_bytes: 16 << 20,
        debug_binary: true,
    },
    kv_host: kv_host::Plan {
        requests: 1_000,
        writes: 20,
        misses: 1_000,
        runs: 2,
    },
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn machine(scale: &Scale, quick: bool, minutes: f64) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let venv_python = root().join("target/bench-venv/bin/python");
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rustc: command_line("rustc", &["--version"]),
        python: command_line(&venv_python.to_string_lossy(), &["--version"]),
        date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        runs: scale.runs,
        quick,
        minutes,
    }
}

/// The argument after `flag` on the command line, if the flag is there.
fn flag_value(flag: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != flag).nth(1)
}

/// The rows of a section `--only` left out, taken from the previous results (none without them).
fn kept<T>(
    previous: &mut Option<Results>,
    section: impl FnOnce(&mut Results) -> &mut Vec<T>,
) -> Vec<T> {
    previous
        .as_mut()
        .map(|r| std::mem::take(section(r)))
        .unwrap_or_default()
}

/// Measures the sections `--only` names (all by default). With `--only`, the sections it leaves
/// out are taken from `previous` (the last `results.json`), so the report stays whole.
fn measure_all(
    scale: &Scale,
    quick: bool,
    skip_python: bool,
    previous: Option<Results>,
) -> Result<Results, String> {
    let start = std::time::Instant::now();
    let plan = native::Plan {
        runs: scale.runs,
        ops: scale.ops,
    };
    let only = flag_value("--only").unwrap_or_default();
    let wanted = |section: &str| only.is_empty() || only.split(',').any(|s| s == section);
    // `--sizes 1000,1000000`: other native sizes (for investigation).
    let sizes: Vec<usize> = match flag_value("--sizes") {
        Some(list) => list
            .split(',')
            .map(|n| n.parse().map_err(|e| format!("--sizes {n:?}: {e}")))
            .collect::<Result<_, _>>()?,
        None => scale.sizes.to_vec(),
    };
    // With `--only`, a section it leaves out keeps its rows from the previous results.
    let mut previous = previous.filter(|_| !only.is_empty());
    let now = command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let section_dates = SECTIONS
        .iter()
        .filter_map(|&section| {
            let date = if wanted(section) {
                Some(now.clone())
            } else {
                // Results from before sections were dated: the run they came from, or earlier.
                previous.as_ref().map(|p| {
                    p.section_dates
                        .get(section)
                        .cloned()
                        .unwrap_or_else(|| format!("{} or earlier", p.machine.date))
                })
            };
            date.map(|d| (section.to_string(), d))
        })
        .collect();
    let earlier_minutes = previous.as_ref().map_or(0.0, |r| r.machine.minutes);
    let native = if wanted("native") {
        native::run(&sizes, plan)
    } else {
        kept(&mut previous, |r| &mut r.native)
    };
    let steady = if wanted("steady") {
        match steady::run(&root(), quick) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("bench: SKIPPED section 1b (steady instrument): {e}");
                Vec::new()
            }
        }
    } else {
        kept(&mut previous, |r| &mut r.steady)
    };
    let boundary = if wanted("boundary") {
        boundary::run(scale.runs, scale.boundary_calls)
    } else {
        kept(&mut previous, |r| &mut r.boundary)
    };
    let memory = if wanted("memory") {
        memory::run(scale.budgets_mib)
    } else {
        kept(&mut previous, |r| &mut r.memory)
    };
    let cold = if wanted("cold") {
        coldstart::run(&root(), scale.runs, scale.instances)
    } else {
        kept(&mut previous, |r| &mut r.cold)
    };
    let python = if !wanted("python") {
        kept(&mut previous, |r| &mut r.python)
    } else if skip_python {
        Vec::new()
    } else {
        python::run_python(
            &root(),
            scale.python_sizes,
            scale.python_runs,
            scale.python_ops,
        )?
    };
    let kv = if wanted("kv") {
        match kv::run(scale.runs, scale.kv_ops) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("bench: SKIPPED section 7 (L1 in front of Redis): {e}");
                Vec::new()
            }
        }
    } else {
        kept(&mut previous, |r| &mut r.kv)
    };
    let js = if wanted("js") {
        match js::run(&root(), quick) {
            Ok(figures) => Some(figures),
            Err(e) => {
                eprintln!("bench: SKIPPED section 12 (JavaScript): {e}");
                None
            }
        }
    } else {
        previous.as_ref().and_then(|r| r.js.clone())
    };
    let kv_host = if wanted("kvhost") {
        match kv_host::run(&scale.kv_host) {
            Ok(figures) => Some(figures),
            Err(e) => {
                eprintln!("bench: SKIPPED section 7b (the host's L1): {e}");
                None
            }
        }
    } else {
        previous.as_ref().and_then(|r| r.kv_host.clone())
    };
    let (hitratio, libcachesim) = if wanted("hit") {
        hitratio::run(&root(), &scale.hit)?
    } else {
        let version = previous.as_ref().and_then(|r| r.libcachesim.clone());
        (kept(&mut previous, |r| &mut r.hitratio), version)
    };
    let python_guest = if !wanted("pyguest") {
        previous.as_ref().and_then(|r| r.python_guest.clone())
    } else if quick {
        None
    } else {
        match pyguest::run(&root()) {
            Ok(figures) => Some(figures),
            Err(e) => {
                eprintln!("bench: SKIPPED section 9 (Python guests): {e}");
                None
            }
        }
    };
    let serve = if !wanted("serve") {
        previous.as_ref().and_then(|r| r.serve.clone())
    } else {
        match serve::run(&root(), &scale.serve) {
            Ok(figures) => Some(figures),
            Err(e) => {
                eprintln!("bench: SKIPPED section 11 (faas-cache-serve): {e}");
                None
            }
        }
    };
    // The report's time is the measuring time of every section it shows.
    let minutes = start.elapsed().as_secs_f64() / 60.0 + earlier_minutes;
    let results = Results {
        machine: machine(scale, quick, minutes),
        native,
        python,
        boundary,
        memory,
        cold,
        kv,
        hitratio,
        libcachesim,
        component_bytes: Some(faas_cache_host::COMPONENT.len() as u64),
        python_guest,
        serve,
        js,
        kv_host,
        steady,
        section_dates,
    };
    Ok(results)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let quick = has("--quick");
    if let Some(old) = flag_value("--compare-component") {
        if let Err(e) = compare::run(&old, 15, 100_000) {
            eprintln!("bench: {e}");
            exit(1);
        }
        return;
    }
    let out = if quick {
        root().join("target/bench-quick")
    } else {
        root()
    };
    let results_path = if quick {
        out.join("results.json")
    } else {
        root().join("bench/results.json")
    };
    let result = (|| -> Result<(), String> {
        let load = || -> Result<Results, String> {
            let text = std::fs::read_to_string(&results_path)
                .map_err(|e| format!("{}: {e}", results_path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", results_path.display()))
        };
        let results = if has("--report-only") {
            load()?
        } else {
            let scale = if quick { &QUICK } else { &FULL };
            let results = measure_all(scale, quick, has("--skip-python"), load().ok())?;
            std::fs::create_dir_all(results_path.parent().expect("a parent"))
                .map_err(|e| e.to_string())?;
            let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
            std::fs::write(&results_path, json + "\n").map_err(|e| e.to_string())?;
            results
        };
        let plots = if quick {
            out.join("plots")
        } else {
            root().join("bench/plots")
        };
        std::fs::create_dir_all(&plots).map_err(|e| e.to_string())?;
        let written = plot::all(&results, &plots)?;
        let md = report::markdown(
            &results,
            &written,
            if quick { "plots" } else { "bench/plots" },
        );
        let md_path = out.join("BENCHMARKS.md");
        std::fs::write(&md_path, md).map_err(|e| format!("{}: {e}", md_path.display()))?;
        eprintln!("wrote {} and {} plots", md_path.display(), written.len());
        if !quick {
            let readme_path = root().join("README.md");
            let readme = std::fs::read_to_string(&readme_path).map_err(|e| e.to_string())?;
            let updated = headline::with_table(&readme, &results)
                .ok_or("README.md has no figures markers")?;
            std::fs::write(&readme_path, updated).map_err(|e| e.to_string())?;
            eprintln!("wrote the headline figures into {}", readme_path.display());
            let doc_path = root().join(reliability::DOC);
            let doc = std::fs::read_to_string(&doc_path).map_err(|e| e.to_string())?;
            let updated = reliability::with_table(&doc, &reliability::load(&root())?)
                .ok_or("docs/reliability.md has no reliability markers")?;
            std::fs::write(&doc_path, updated).map_err(|e| e.to_string())?;
            eprintln!("wrote the reliability table into {}", doc_path.display());
        }
        let missed = report::targets(&results)
            .into_iter()
            .filter(|t| t.met == Some(false))
            .count();
        eprintln!("targets missed: {missed}");
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("bench: {e}");
        exit(1);
    }
}
