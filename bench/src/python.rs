//! Section 6 of the report: the Python original (`faas-cache-dict` 0.8.0) and `cachetools`,
//! run by `bench/python/bench.py` in a virtualenv this module creates under `target/` with the
//! pinned `bench/python/requirements.txt`. Invariant: the venv is rebuilt whenever the
//! requirements file is newer than the venv's install stamp.

use std::path::Path;
use std::process::Command;

use crate::Row;

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

pub(crate) fn run(cmd: &mut Command) -> Result<std::process::Output, String> {
    eprintln!("+ {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Creates (or refreshes) the venv; returns its python.
pub(crate) fn venv(root: &Path) -> Result<std::path::PathBuf, String> {
    let venv = root.join("target").join("bench-venv");
    let python = venv.join("bin").join("python");
    let requirements = root.join("bench").join("python").join("requirements.txt");
    let stamp = venv.join(".installed");
    let fresh = matches!((modified(&stamp), modified(&requirements)), (Some(s), Some(r)) if s >= r);
    if fresh && python.exists() {
        return Ok(python);
    }
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, "").map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

pub fn run_python(
    root: &Path,
    sizes: &[usize],
    runs: usize,
    ops: usize,
) -> Result<Vec<Row>, String> {
    eprintln!("python baselines");
    let python = venv(root)?;
    let sizes = sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let script = root.join("bench").join("python").join("bench.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(sizes)
        .arg(runs.to_string())
        .arg(ops.to_string());
    let out = run(&mut cmd)?;
    let rows: Vec<Row> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad line {l:?}: {e}")))
        .collect::<Result<_, _>>()?;
    for r in &rows {
        eprintln!(
            "  {:<16} {:<11} {:>9} entries: {:>12.1} ns/op",
            r.library, r.op, r.entries, r.ns_per_op
        );
    }
    Ok(rows)
}
