//! The state file: every app's scope snapshot, by prefix, sealed (`FCSV`, see
//! `faas_cache_provider::sealed`). Invariants: a save writes a temporary file beside FILE and
//! renames it over FILE, so FILE is always a whole old or a whole new state; a FILE that fails
//! its checks (or cannot be read) is renamed `FILE.corrupt` and reported, and the server starts
//! empty; a FILE one of whose scopes fails its own checks is copied to `FILE.corrupt` and
//! reported, and the other scopes are restored; scopes saved under a prefix that is no longer
//! served are kept and written back, so a restart with fewer apps loses nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use faas_cache_provider::{sealed, Scope};

/// The magic of a state file.
pub const STATE_MAGIC: &[u8; 4] = b"FCSV";

/// What a state file held: each prefix's scope snapshot.
#[derive(Debug, Default)]
pub struct Saved {
    pub scopes: BTreeMap<String, Vec<u8>>,
}

/// Reads FILE. Missing: empty. Failing its checks: renamed `FILE.corrupt`, reported, empty.
pub fn load(path: &Path) -> Saved {
    let read = std::fs::read(path);
    let opened = match &read {
        Ok(bytes) => sealed::open(STATE_MAGIC, bytes).map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Saved::default(),
        Err(e) => Err(format!("cannot be read: {e}")),
    };
    match opened {
        Ok(items) => Saved {
            scopes: items
                .into_iter()
                .map(|(prefix, scope)| (prefix, scope.to_vec()))
                .collect(),
        },
        Err(e) => {
            let corrupt = corrupt_path(path);
            let moved = std::fs::rename(path, &corrupt);
            eprintln!(
                "faas-cache-serve: the state file {} is corrupt ({e}); {}; starting empty",
                path.display(),
                match moved {
                    Ok(()) => format!("moved to {}", corrupt.display()),
                    Err(e) => format!("could not move it aside: {e}"),
                }
            );
            Saved::default()
        }
    }
}

/// Restores each served app's scope from `saved` (taking them out of it), reporting on stderr
/// what was restored and what was left out. A scope that fails its own checks: FILE (at
/// `path`) is copied to `FILE.corrupt` first, so nothing is lost when the next save replaces it.
pub fn restore(path: &Path, saved: &mut Saved, apps: &[(String, Scope)]) {
    for (prefix, scope) in apps {
        let Some(bytes) = saved.scopes.remove(prefix) else {
            continue;
        };
        match scope.restore(&bytes) {
            Ok(report) => {
                eprintln!(
                    "faas-cache-serve: {prefix}: restored {} named cache(s)",
                    report.restored.len()
                );
                for (name, why) in report.skipped {
                    eprintln!("faas-cache-serve: {prefix}: left out cache {name:?}: {why}");
                }
            }
            Err(e) => {
                let corrupt = corrupt_path(path);
                let copied = std::fs::copy(path, &corrupt);
                eprintln!(
                    "faas-cache-serve: {prefix}: its saved scope is corrupt ({e}); {}; starting it empty",
                    match copied {
                        Ok(_) => format!("the state file is copied to {}", corrupt.display()),
                        Err(e) => format!("could not copy the state file aside: {e}"),
                    }
                );
            }
        }
    }
}

/// Writes every app's scope, and the kept scopes of prefixes no longer served, to FILE
/// atomically (a temporary file beside it, synced, then renamed over it).
pub fn save(path: &Path, apps: &[(String, Scope)], kept: &Saved) -> std::io::Result<()> {
    let mut scopes: BTreeMap<&str, Vec<u8>> = kept
        .scopes
        .iter()
        .map(|(p, s)| (p.as_str(), s.clone()))
        .collect();
    for (prefix, scope) in apps {
        scopes.insert(prefix, scope.snapshot());
    }
    let bytes = sealed::seal(STATE_MAGIC, scopes.iter().map(|(p, s)| (*p, s.as_slice())));
    let temp = with_suffix(path, &format!(".tmp.{}", std::process::id()));
    let written = (|| {
        // A FILE in a directory that does not exist yet: make it, as a user would expect.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// `FILE.corrupt`.
fn corrupt_path(path: &Path) -> PathBuf {
    with_suffix(path, ".corrupt")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
