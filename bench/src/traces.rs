//! The real traces of the hit-ratio section: fetched by `bench/python/traces.py` (libCacheSim's
//! source package on PyPI, checked against its pinned SHA-256) and read here into dense object
//! ids. Invariant: object `i` is the `i`-th distinct object of the trace in order of first
//! request, and its size is the size of that first request, so every subject (ours and
//! libCacheSim's, which reads the records this section writes) sees one size per object.

use std::collections::HashMap;
use std::path::Path;

/// One real trace: the request sequence over dense ids, and each object's size in bytes.
pub struct RealTrace {
    pub name: &'static str,
    pub requests: Vec<u32>,
    pub sizes: Vec<u32>,
    /// Bounded by bytes (object sizes as values) or by count.
    pub by_bytes: bool,
}

/// The real traces' names, as their rows carry them.
pub const NAMES: [&str; 3] = ["cloudphysics", "twitter c52", "twitter c52 bytes"];

/// Where each trace comes from and under which licence, for the report.
pub const SOURCES: &str = "*cloudphysics* is CloudPhysics' block-I/O trace \
    (Waldspurger et al., SHARDS, FAST '15; 113,872 requests to 48,974 blocks, each block one \
    object, bounded by count) and *twitter c52* the first 1,000,000 requests of cluster 52 of \
    Twitter's production cache traces (Yang et al., OSDI '20, CC BY 4.0; 143,542 objects of \
    11 B to 4,985 B, each object's value its size, bounded by bytes as the variable-size \
    trace is, and by count). Both are the sample traces libCacheSim ships in its source \
    package (`libcachesim` 0.3.5 on PyPI, GPL-3.0), which `bench/python/traces.py` fetches \
    and checks by SHA-256; libCacheSim calls its samples small, so read these rows as real \
    access patterns, not as a full evaluation";

/// Interns raw object ids into dense ids in order of first request.
#[derive(Default)]
struct Interner {
    ids: HashMap<u64, u32>,
    requests: Vec<u32>,
    sizes: Vec<u32>,
}

impl Interner {
    fn push(&mut self, object: u64, size: u32) {
        let next = self.sizes.len() as u32;
        let id = *self.ids.entry(object).or_insert(next);
        if id == next {
            self.sizes.push(size.max(1));
        }
        self.requests.push(id);
    }
}

/// libCacheSim's oracleGeneral records (24 bytes: u32 time, u64 id, u32 size, i64 next access).
fn read_oracle(path: &Path, limit: usize) -> Result<Interner, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % 24 != 0 {
        return Err(format!("{}: not 24-byte records", path.display()));
    }
    let mut out = Interner::default();
    for record in bytes.chunks_exact(24).take(limit) {
        let id = u64::from_le_bytes(record[4..12].try_into().expect("8 bytes"));
        let size = u32::from_le_bytes(record[12..16].try_into().expect("4 bytes"));
        out.push(id, size);
    }
    Ok(out)
}

/// Twitter's csv: `time, object, size, next_access_vtime`, a `#` header.
fn read_twitter_csv(path: &Path, limit: usize) -> Result<Interner, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Interner::default();
    for (n, line) in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .take(limit)
        .enumerate()
    {
        let mut fields = line.split(',').map(str::trim);
        let (_, object, size) = (fields.next(), fields.next(), fields.next());
        let parse = |f: Option<&str>| f.and_then(|s| s.parse::<u64>().ok());
        let (Some(object), Some(size)) = (parse(object), parse(size)) else {
            return Err(format!("{}: line {}: {line:?}", path.display(), n + 2));
        };
        out.push(object, u32::try_from(size).unwrap_or(u32::MAX));
    }
    Ok(out)
}

/// Fetches (once) and reads every real trace, each cut to its first `limit` requests.
pub fn load(root: &Path, python: &Path, limit: usize) -> Result<Vec<RealTrace>, String> {
    let dir = root.join("target").join("hitratio").join("traces");
    let script = root.join("bench").join("python").join("traces.py");
    crate::python::run(std::process::Command::new(python).arg(script).arg(&dir))?;
    let cloud = read_oracle(&dir.join("cloudPhysicsIO.oracleGeneral.bin"), limit)?;
    let twitter = read_twitter_csv(&dir.join("twitter_cluster52.csv"), limit)?;
    let real = |name, t: &Interner, by_bytes| RealTrace {
        name,
        requests: t.requests.clone(),
        sizes: t.sizes.clone(),
        by_bytes,
    };
    Ok(vec![
        real(NAMES[0], &cloud, false),
        real(NAMES[1], &twitter, false),
        real(NAMES[2], &twitter, true),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_in_first_request_order_with_the_first_size() {
        let mut t = Interner::default();
        for (object, size) in [(90, 5), (7, 3), (90, 8), (5, 0)] {
            t.push(object, size);
        }
        assert_eq!(t.requests, vec![0, 1, 0, 2]);
        assert_eq!(t.sizes, vec![5, 3, 1], "first size kept; size 0 read as 1");
    }

    #[test]
    fn csv_lines_parse_and_a_bad_line_is_an_error() {
        let dir = std::env::temp_dir().join("faas-cache-bench-traces-test");
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.csv");
        std::fs::write(
            &good,
            "# time, object, size, next\n0, 11, 737, 13\n1, 12, 5, -1\n",
        )
        .unwrap();
        let t = read_twitter_csv(&good, usize::MAX).unwrap();
        assert_eq!((t.requests, t.sizes), (vec![0, 1], vec![737, 5]));
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "0, x, 1, 2\n").unwrap();
        assert!(read_twitter_csv(&bad, usize::MAX).is_err());
    }
}
