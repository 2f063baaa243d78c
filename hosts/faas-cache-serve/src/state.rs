//! The state file: every app's scope snapshot, by prefix, sealed (`FCSV`, see
//! `faas_cache_provider::sealed`). Invariants: a save writes a temporary file beside FILE and
//! renames it over FILE, so FILE is always a whole old or a whole new state; a FILE that fails
//! its checks is renamed `FILE.corrupt` and reported, and the server starts empty; scopes saved
//! under a prefix that is no longer served are kept and written back, so a restart with fewer
//! apps loses nothing.

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
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Saved::default(),
        Err(e) => {
            eprintln!(
                "faas-cache-serve: cannot read the state file {}: {e}; starting empty",
                path.display()
            );
            return Saved::default();
        }
    };
    match sealed::open(STATE_MAGIC, &bytes) {
        Ok(items) => Saved {
            scopes: items
                .into_iter()
                .map(|(prefix, scope)| (prefix, scope.to_vec()))
                .collect(),
        },
        Err(e) => {
            let corrupt = with_suffix(path, ".corrupt");
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
/// what was restored and what was left out.
pub fn restore(saved: &mut Saved, apps: &[(String, Scope)]) {
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
                eprintln!("faas-cache-serve: {prefix}: its saved scope is unreadable ({e}); starting it empty");
                // Kept as it was: written back at the next save rather than lost.
                saved.scopes.insert(prefix.clone(), bytes);
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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
