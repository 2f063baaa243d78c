//! Section 5 of the report: what a host pays before the first answer: compiling the component
//! or loading it from wasmtime's compilation cache, pre-instantiating it, instantiating from
//! `InstancePre`, the first call, and restoring a 1 MiB and a 16 MiB snapshot (against the native
//! core restoring the same bytes); then a new process's first answer (the host crate's
//! `first_instance` example, spawned once per run) with the compilation cache off, cold and warm.
//! Invariant: every instantiation and restore runs in a fresh store, every "new process" row in
//! a fresh process, and the cache directories are the bench's own temporary ones.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use faas_cache::{Cache, SystemClock};
use faas_cache_host::engine::{self, COMPILE_CACHE_ENV};
use faas_cache_host::Options;
use wasmtime::component::Component;
use wasmtime::{CacheConfig, Engine};

use crate::measure::{nanos, repeat, Sample};
use crate::report::ns;
use crate::workload::{key, value};

/// The rows of a new process's first answer (`Host::new` + `instantiate` + `create` + `get`).
pub const NEW_OFF: &str = "new process, first answer: compilation cache off (compiles)";
pub const NEW_COLD: &str = "new process, first answer: cache cold (compiles, stores the artifact)";
pub const NEW_WARM: &str = "new process, first answer: cache warm (loads the artifact)";
pub const NEW_WARM_WALL: &str = "new process, spawn to exit: cache warm";

/// The target: a process's first instance ready in under this with the artifact in the cache.
pub const TARGET_NS: f64 = 20e6;

/// The debug build of a new user's project, measured by hand (building it compiles wasmtime
/// and cranelift unoptimized: minutes, too long for every run of the report). How: a new cargo
/// project outside the repository, `faas-cache-host = { path = ".../hosts/faas-cache-host" }`
/// its only dependency, no profile settings, `src/main.rs` a copy of
/// `hosts/faas-cache-host/examples/first_instance.rs`; `cargo build` (debug), then the binary run
/// in fresh processes with `FAAS_CACHE_COMPILE_CACHE=off`, and with it naming a directory that
/// one earlier run filled. Medians over the runs, in nanoseconds.
pub struct DebugProject {
    pub date: &'static str,
    pub runs: usize,
    pub off_ns: f64,
    pub warm_ns: f64,
    pub warm_host_new_ns: f64,
}

pub const DEBUG_PROJECT: DebugProject = DebugProject {
    date: "2026-12-03",
    runs: 11,
    off_ns: 1_922.5e6,
    warm_ns: 9.65e6,
    warm_host_new_ns: 9.06e6,
};

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

/// A new empty directory under the system's temporary directory (removed by the caller).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faas-cache-bench-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// An engine of the host crate's configuration with the compilation cache in `dir`, or none.
fn engine_with_cache(dir: Option<&Path>) -> Engine {
    let mut config = engine::config();
    let cache = dir.map(|dir| {
        let mut settings = CacheConfig::new();
        settings.with_directory(dir);
        wasmtime::Cache::new(settings).expect("a cache in a temporary directory")
    });
    config.cache(cache);
    Engine::new(&config).expect("a valid configuration")
}

/// What the `first_instance` example prints (nanoseconds).
#[derive(serde::Deserialize)]
struct FirstInstance {
    cache: String,
    cache_hits: usize,
    cache_misses: usize,
    total_ns: f64,
}

/// The host crate's `first_instance` example, built in this binary's profile.
fn first_instance_example(root: &Path) -> Result<PathBuf, String> {
    let release = !cfg!(debug_assertions);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "faas-cache-host",
        "--example",
        "first_instance",
    ]);
    if release {
        build.arg("--release");
    }
    let status = build.status().map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of the first_instance example: {status}"
        ));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join("examples")
        .join("first_instance"))
}

/// One fresh process of `exe` with the compilation cache set to `cache` (a directory or `off`):
/// what it printed, and the wall time from spawn to exit.
fn first_instance(exe: &Path, cache: &std::ffi::OsStr) -> (FirstInstance, f64) {
    let start = Instant::now();
    let out = Command::new(exe)
        .env(COMPILE_CACHE_ENV, cache)
        .env_remove("FAAS_CACHE_PERFMAP")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    let wall = start.elapsed().as_nanos() as f64;
    assert!(
        out.status.success(),
        "{}: {}\n{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: FirstInstance = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} printed {:?}: {e}",
            exe.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (printed, wall)
}

/// A new process's first answer, with the cache off, cold (a new empty directory per run) and
/// warm (a directory one earlier process filled); each run checks what the cache did.
fn new_process_rows(root: &Path, runs: usize) -> Result<Vec<ColdRow>, String> {
    let exe = first_instance_example(root)?;
    let mut rows = Vec::new();
    rows.push(row(
        NEW_OFF.into(),
        repeat(runs, || {
            let (p, _) = first_instance(&exe, "off".as_ref());
            assert_eq!(p.cache, "off");
            p.total_ns
        }),
    ));
    rows.push(row(
        NEW_COLD.into(),
        repeat(runs, || {
            let dir = scratch("cold");
            let (p, _) = first_instance(&exe, dir.as_os_str());
            assert_eq!(
                (p.cache.as_str(), p.cache_hits, p.cache_misses),
                ("on", 0, 1)
            );
            std::fs::remove_dir_all(&dir).expect("remove the cache directory");
            p.total_ns
        }),
    ));
    let dir = scratch("warm");
    first_instance(&exe, dir.as_os_str());
    let mut walls = Vec::new();
    rows.push(row(
        NEW_WARM.into(),
        repeat(4 * runs, || {
            let (p, wall) = first_instance(&exe, dir.as_os_str());
            assert_eq!(
                (p.cache.as_str(), p.cache_hits, p.cache_misses),
                ("on", 1, 0)
            );
            walls.push(wall);
            p.total_ns
        }),
    ));
    rows.push(row(NEW_WARM_WALL.into(), Sample::of(walls)));
    std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(rows)
}

pub fn run(root: &Path, runs: usize, instances: usize) -> Vec<ColdRow> {
    eprintln!("cold start");
    let mut rows = Vec::new();
    // The shared host first: its component (from the default compilation cache, or compiled)
    // stays out of the rows that reuse it.
    let host = crate::guest::host();
    let artifact = faas_cache_artifact::COMPONENT;
    let uncached = engine_with_cache(None);
    rows.push(row(
        format!(
            "compile the component ({} KiB), no compilation cache",
            artifact.len() / 1024
        ),
        repeat(runs, || {
            nanos(|| {
                Component::new(&uncached, artifact).expect("compile");
            })
        }),
    ));
    let dir = scratch("in-process");
    let cached = engine_with_cache(Some(&dir));
    Component::new(&cached, artifact).expect("compile into the cache");
    rows.push(row(
        "load the component from the compilation cache (in-process)".into(),
        repeat(4 * runs, || {
            nanos(|| {
                Component::new(&cached, artifact).expect("load");
            })
        }),
    ));
    let _ = std::fs::remove_dir_all(&dir);
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
    match new_process_rows(root, runs) {
        Ok(more) => rows.extend(more),
        Err(e) => eprintln!("bench: SKIPPED the new-process rows of section 5: {e}"),
    }
    rows
}

fn find<'a>(rows: &'a [ColdRow], step: &str) -> Option<&'a ColdRow> {
    rows.iter().find(|r| r.step == step)
}

/// The section's text under its table: what the new-process rows measure, the debug build of a
/// new project, and the verdict.
pub fn notes(rows: &[ColdRow]) -> String {
    let mut s = String::new();
    if find(rows, NEW_WARM).is_none() {
        return s;
    }
    s.push_str(&format!(
        "A *new process* row spawns `hosts/faas-cache-host/examples/first_instance` (release \
         build) once per run and times, inside it, `Host::new()` + `instantiate()` + one `create` \
         and one `get`. The engine keeps wasmtime's compilation cache (`{COMPILE_CACHE_ENV}`, see \
         `hosts/faas-cache-host/README.md`): *off* compiles; *cold* is a new empty directory per \
         run, so the process compiles and stores the artifact; *warm* is a directory an earlier \
         process filled, so the process checks the artifact against its engine and loads it. \
         Every run checks the cache's hit and miss counts. *Spawn to exit* adds starting and \
         ending the process.\n\n"
    ));
    let d = &DEBUG_PROJECT;
    s.push_str(&format!(
        "A debug build of a new user's project (a new cargo project depending on \
         `faas-cache-host` by path, default dev profile: wasmtime and cranelift unoptimized; \
         measured by hand on {}, {} fresh processes each, `first_instance.rs` as its \
         `main.rs`): cache off {}, cache warm {} (of which `Host::new()` {}).\n\n",
        d.date,
        d.runs,
        ns(d.off_ns),
        ns(d.warm_ns),
        ns(d.warm_host_new_ns),
    ));
    if let Some((measured, met)) = target(rows) {
        s.push_str(&format!(
            "Target (a process's first instance ready in under {} with the artifact there, \
             debug or release): {measured}: **{}**.\n",
            ns(TARGET_NS),
            if met { "met" } else { "missed" }
        ));
    }
    s
}

/// The target's figures and verdict: the warm new process in release (this run) and in the
/// debug build of a new project (by hand).
pub fn target(rows: &[ColdRow]) -> Option<(String, bool)> {
    let warm = find(rows, NEW_WARM)?;
    let off = find(rows, NEW_OFF)?;
    let d = &DEBUG_PROJECT;
    Some((
        format!(
            "release {} (compiling: {}), debug {} (compiling: {}; {})",
            ns(warm.time.ns),
            ns(off.time.ns),
            ns(d.warm_ns),
            ns(d.off_ns),
            d.date
        ),
        warm.time.ns < TARGET_NS && d.warm_ns < TARGET_NS,
    ))
}
