//! `cargo xtask <command>`: the project's entry points, so that a fresh clone needs nothing but
//! Rust. Each command installs what it needs (the wasm target) before it runs.
//!
//! - `demo`: builds the component and runs the wasmtime demo host.
//! - `test`: every test: the core library (unit, semantics, property model, doc tests), the
//!   component through wasmtime (contract, imports, hostile input, memory limits).
//! - `lint`: `cargo fmt --check` and `cargo clippy -D warnings` for host crates and the guest.
//! - `ci`: `lint` then `test`.

use std::process::{exit, Command};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("lint") => lint(),
        Some("ci") => lint().and_then(|()| test(&[])),
        _ => {
            eprintln!("usage: cargo xtask <demo|test|lint|ci> [extra cargo test args]");
            exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        exit(1);
    }
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
    let out = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && std::path::Path::new(&libdir).is_dir() {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", WASM_TARGET]);
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
    run(cmd)
}

fn test(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["test", "--all-targets"]);
    cmd.args(extra);
    run(cmd)?;
    let mut doc = cargo();
    doc.args(["test", "--doc", "--package", "faas-cache"]);
    run(doc)
}

fn lint() -> Result<(), String> {
    ensure_wasm_target()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--all-targets", "--", "-D", "warnings"]);
    run(clippy)?;
    let mut guest = cargo();
    guest.args([
        "clippy",
        "--package",
        "faas-cache-component",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]);
    run(guest)
}
