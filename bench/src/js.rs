//! Section 12 of the report: the JavaScript package (jco) against npm's `lru-cache`, as
//! `npm run bench` in `js/` prints it (per-operation table, memory, and the garbage-collection
//! table: full and scavenge pauses, p99 of unrelated work while the cache is busy). `cargo xtask
//! bench` prepares `js/` (the pinned packages, the transpiled component) before the report runs.
//! Invariant: the section shows the benchmark's own output of this run, unedited.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// What one run of the JavaScript benchmark printed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JsBench {
    /// `node --version`.
    pub node: String,
    /// The benchmark's markdown output.
    pub output: String,
}

pub fn run(root: &Path, quick: bool) -> Result<JsBench, String> {
    eprintln!("JavaScript (jco) against lru-cache");
    let js = root.join("js");
    if !js.join("node_modules").exists() || !js.join("generated").exists() {
        return Err("js/ is not prepared (cargo xtask bench does it)".into());
    }
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let mut cmd = Command::new("npm");
    cmd.current_dir(&js).args(["run", "--silent", "bench"]);
    if quick {
        cmd.env("FAAS_CACHE_BENCH_QUICK", "1");
    }
    let out = crate::python::run(&mut cmd)?;
    let output = String::from_utf8_lossy(&out.stdout).trim().to_string();
    eprintln!("{output}");
    Ok(JsBench {
        node: String::from_utf8_lossy(&node.stdout).trim().to_string(),
        output,
    })
}

pub fn section(s: &mut String, j: &JsBench) {
    use std::fmt::Write;
    let _ = writeln!(s, "## 12. JavaScript (jco) against `lru-cache`\n");
    let _ = writeln!(
        s,
        "`npm run bench` in `js/` ({}; `cargo xtask js-bench` runs it alone): the same \
         workload through the package and through npm's `lru-cache`, then the memory each \
         holds, then one child process per cache holding the entries while the garbage \
         collector runs. [js/README.md](js/README.md) explains the figures.\n",
        j.node
    );
    let _ = writeln!(s, "{}\n", j.output);
}
