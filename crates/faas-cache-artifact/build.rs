//! Builds every guest of the workspace (the table in `src/guests.rs`) for
//! `wasm32-unknown-unknown` with the `guest` profile in one cargo call, turns each core module
//! into a component with the `wit-component` encoder, and writes it to `$OUT_DIR/<name>.wasm`
//! (and `target/<name>.wasm` for tools such as jco, wac and wasm-tools). Reruns when a file the
//! guest build read changes: the sources named by cargo's dep-info of each guest, plus the
//! manifests and the lockfile. Installs the wasm target with rustup when it is missing
//! (RUSTUP_AUTO_INSTALL may be 0).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/guests.rs"]
mod guests;

use guests::{GUESTS, TARGET};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    ensure_target();

    let target_dir = root.join("target/guest-build");
    let mut cmd = guest_tool("cargo");
    cmd.current_dir(&root).arg("build");
    for guest in GUESTS {
        cmd.args(["--package", guest.package]);
    }
    cmd.args(["--target", TARGET, "--profile", "guest"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and settings are for the host, not for the guest.
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
        {
            cmd.env_remove(&key);
        }
    }
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(key);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the guest components");
    assert!(
        status.success(),
        "building the guest components failed ({status})"
    );

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let built = target_dir.join(TARGET).join("guest");
    for watched in ["Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    for guest in GUESTS {
        println!(
            "cargo:rerun-if-changed={}",
            root.join(guest.dir).join("Cargo.toml").display()
        );
        for source in dep_info(&built.join(format!("{}.d", guest.module))) {
            println!("cargo:rerun-if-changed={}", source.display());
        }
        let module_path = built.join(format!("{}.wasm", guest.module));
        let module = std::fs::read(&module_path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", module_path.display()));
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .and_then(|encoder| encoder.validate(true).encode())
            .unwrap_or_else(|e| panic!("componentizing {}: {e:?}", module_path.display()));
        let component = without_component_names(&component);
        let file = format!("{}.wasm", guest.component);
        write_if_changed(&out_dir.join(&file), &component);
        write_if_changed(&root.join("target").join(&file), &component);
    }
}

/// The files a cargo dep-info file (`<target>: <dep> <dep> ...`, spaces in names escaped with a
/// backslash) says the build read.
fn dep_info(path: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading the dep-info {}: {e}", path.display()));
    let Some((_, deps)) = text.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    let mut current = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' => {
                if !current.is_empty() {
                    files.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        files.push(PathBuf::from(current));
    }
    files
}

/// The component without its top-level `component-name` and `producers` custom sections (debug
/// names and tool versions: 5.7 KB that no runtime reads).
fn without_component_names(component: &[u8]) -> Vec<u8> {
    use wasmparser::Payload;
    let mut out = component[..8].to_vec();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let payload = payload.expect("parse the component");
        if let Payload::End(_) = payload {
            depth = depth.saturating_sub(1);
            continue;
        }
        let nested = matches!(
            payload,
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. }
        );
        let skip = matches!(&payload, Payload::CustomSection(c) if matches!(c.name(), "component-name" | "producers"));
        if depth == 0 && !skip {
            if let Some((id, range)) = payload.as_section() {
                let range = range.start as usize..range.end as usize;
                out.push(id);
                let mut len = range.len();
                loop {
                    let byte = (len & 0x7f) as u8;
                    len >>= 7;
                    out.push(if len == 0 { byte } else { byte | 0x80 });
                    if len == 0 {
                        break;
                    }
                }
                out.extend_from_slice(&component[range]);
            }
        }
        if nested {
            depth += 1;
        }
    }
    out
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

/// The guests' `cargo` or `rustc`: the toolchain rustup picks for the repository (the `cargo` and
/// `rustc` on PATH, without the outer build's `RUSTUP_TOOLCHAIN`, `RUSTC` or `CARGO`). So a build
/// under another toolchain (`cargo +nightly fuzz`, whose nightly may lack the wasm target) reuses
/// the guests the normal build made in `target/guest-build` instead of rebuilding them.
fn guest_tool(proxy: &str) -> Command {
    let mut cmd = Command::new(proxy);
    for key in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "CARGO",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

/// Adds the wasm target to the guests' toolchain if its standard library is not installed.
fn ensure_target() {
    let sysroot = guest_tool("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let installed =
        sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).join("lib").is_dir());
    if installed {
        return;
    }
    println!("cargo:warning=installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .env_remove("RUSTUP_TOOLCHAIN")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "the {TARGET} target is missing and `rustup target add {TARGET}` failed ({other:?}); install it and build again"
        ),
    }
}
