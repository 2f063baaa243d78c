//! Section 8 of the report: hit ratio. Every subject serves the identical request sequence,
//! written to a file that both sides read: faas-cache `lru` and `s3-fifo` natively (and through
//! wasmtime on the Zipf 1.0 rows at 1%), `moka` and `quick_cache` natively, and libCacheSim's LRU,
//! S3FIFO, Sieve, WTinyLFU, ARC and Belady (`bench/python/hitratio.py`, pinned `libcachesim` in the bench's
//! venv). A request is a read; a miss writes the object (a write that cannot fit is still a miss).
//!
//! Traces: Zipf(alpha) for alpha 0.6 / 0.8 / 1.0 / 1.2 over `objects` objects; Zipf 1.0 with a
//! one-time scan of fresh objects after every 45 of each 50 thousandths of the requests; and Zipf
//! 1.0 over objects of log-uniform value sizes (16 B to 16 KiB) bounded by bytes; and the real
//! traces of `traces.rs` (block I/O, and Twitter's by count and by bytes). Cache sizes:
//! 0.1%, 1% and 10% of the objects (by count), or of the objects' accounted bytes for the
//! variable-size trace, where libCacheSim's object size is what our accounting charges
//! (`entry_bytes`: postcard-encoded key and value plus the per-entry overhead), so both sides
//! hold the same bytes. Invariant: every trace is a pure function of its seed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD};
use faas_cache::{Cache, Config, EvictionPolicy, ManualClock, Time};
use faas_cache_host::{CacheId, EvictionPolicy as WitPolicy, Instance, Options};
use serde::{Deserialize, Serialize};

use crate::workload::{Rng, Zipf};

/// One subject on one trace at one cache size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HitRow {
    pub trace: String,
    /// The cache size as a percentage of the objects (or of their bytes).
    pub percent: f64,
    /// Objects (item-count rows) or bytes (the variable-size trace).
    pub cache_size: u64,
    pub by_bytes: bool,
    pub subject: String,
    pub requests: u64,
    pub misses: u64,
    pub miss_ratio: f64,
}

/// The libCacheSim algorithms compared, by their names in `hitratio.py`. `Belady` is the offline
/// optimum (it reads each request's next access from the trace file); on rows bounded by bytes
/// it runs as libCacheSim's `BeladySize` and is reported under the same name.
pub const LIBCACHESIM: [&str; 6] = ["LRU", "S3FIFO", "Sieve", "WTinyLFU", "ARC", "Belady"];
pub const PERCENTS: [f64; 3] = [0.1, 1.0, 10.0];
/// libCacheSim's S3FIFO run again promoting after one read in the small queue (its default
/// needs two), the rule `wit/policy.wit` gives ours: it separates the contract's rule from the
/// implementation when the two S3-FIFOs differ.
pub const ONE_READ: &str = "S3FIFO, promoting after one read";

/// A request sequence over object ids; `value_len[id]` is the value size of object `id`.
struct Trace {
    name: String,
    requests: Vec<u32>,
    value_len: Vec<u32>,
    keys: Vec<String>,
    by_bytes: bool,
    /// What the cache sizes are a percentage of: the Zipf objects, or their accounted bytes.
    base: u64,
}

impl Trace {
    /// A real trace (`traces.rs`): count rows ignore the sizes (values are empty), byte rows
    /// store each object's size as its value.
    fn real(t: crate::traces::RealTrace) -> Trace {
        let objects = t.sizes.len();
        let value_len = if t.by_bytes {
            t.sizes
        } else {
            vec![0; objects]
        };
        let mut trace = Trace::new(t.name.into(), t.requests, value_len, t.by_bytes);
        trace.base = if t.by_bytes {
            (0..objects as u32).map(|id| trace.size(id)).sum()
        } else {
            objects as u64
        };
        trace
    }

    fn new(name: String, requests: Vec<u32>, value_len: Vec<u32>, by_bytes: bool) -> Trace {
        let keys: Vec<String> = (0..value_len.len()).map(|id| format!("o{id}")).collect();
        Trace {
            name,
            requests,
            value_len,
            keys,
            by_bytes,
            base: 0,
        }
    }

    /// What our accounting charges for object `id`.
    fn size(&self, id: u32) -> u64 {
        entry_bytes(
            self.keys[id as usize].len(),
            self.value_len[id as usize] as usize,
        )
    }

    /// The trace as libCacheSim's oracleGeneral records (see `hitratio.py`): 24 bytes each,
    /// with the index of each object's next request (-1: never again) for Belady.
    fn write_oracle(&self, path: &Path) -> Result<(), String> {
        let mut next = vec![-1i64; self.requests.len()];
        let mut seen_at = vec![-1i64; self.value_len.len()];
        for (i, &id) in self.requests.iter().enumerate().rev() {
            next[i] = seen_at[id as usize];
            seen_at[id as usize] = i as i64;
        }
        let mut out = Vec::with_capacity(self.requests.len() * 24);
        for (i, &id) in self.requests.iter().enumerate() {
            let size = if self.by_bytes { self.size(id) } else { 1 };
            out.extend_from_slice(&(i as u32).to_le_bytes());
            out.extend_from_slice(&u64::from(id).to_le_bytes());
            out.extend_from_slice(&u32::try_from(size).expect("size fits u32").to_le_bytes());
            out.extend_from_slice(&next[i].to_le_bytes());
        }
        std::fs::File::create(path)
            .and_then(|mut f| f.write_all(&out))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn cache_size(&self, percent: f64) -> u64 {
        ((self.base as f64 * percent / 100.0).round() as u64).max(1)
    }
}

fn zipf_requests(objects: usize, requests: usize, alpha: f64, seed: u64) -> Vec<u32> {
    let zipf = Zipf::with_exponent(objects, alpha);
    let mut rng = Rng::new(seed);
    (0..requests).map(|_| zipf.draw(&mut rng) as u32).collect()
}

/// Every trace of the section at this scale.
fn traces(objects: usize, requests: usize) -> Vec<Trace> {
    let mut out = Vec::new();
    for (i, alpha) in [0.6, 0.8, 1.0, 1.2].into_iter().enumerate() {
        let reqs = zipf_requests(objects, requests, alpha, 100 + i as u64);
        let mut t = Trace::new(format!("zipf-{alpha:.1}"), reqs, vec![0; objects], false);
        t.base = objects as u64;
        out.push(t);
    }
    // Zipf 1.0 with one-time scans: each 5% of the requests ends with a scan of fresh objects
    // (10% of all requests in all), which an LRU lets flush its hot set.
    let period = (requests / 20).max(10);
    let scan = period / 10;
    let zipf = zipf_requests(objects, requests, 1.0, 200);
    let mut reqs = Vec::with_capacity(requests);
    let mut fresh = objects as u32;
    for (i, &id) in zipf.iter().enumerate() {
        if i % period >= period - scan {
            reqs.push(fresh);
            fresh += 1;
        } else {
            reqs.push(id);
        }
    }
    let mut t = Trace::new(
        "zipf-1.0+scans".into(),
        reqs,
        vec![0; fresh as usize],
        false,
    );
    t.base = objects as u64;
    out.push(t);
    // Variable sizes, bounded by bytes: value sizes log-uniform in 16 B ..= 16 KiB.
    let mut rng = Rng::new(300);
    let value_len: Vec<u32> = (0..objects)
        .map(|_| (16.0 * 1024f64.powf(rng.unit())).round() as u32)
        .collect();
    let reqs = zipf_requests(objects, requests, 1.0, 301);
    let mut t = Trace::new("zipf-1.0 sizes 16B-16KiB".into(), reqs, value_len, true);
    t.base = (0..objects as u32).map(|id| t.size(id)).sum();
    out.push(t);
    out
}

/// What a subject does with one request; true on a hit.
trait Simulated {
    fn request(&mut self, key: &str, value_len: usize) -> bool;
}

/// Misses of `subject` over the whole trace.
fn misses(trace: &Trace, subject: &mut impl Simulated) -> u64 {
    let mut misses = 0;
    for &id in &trace.requests {
        let len = trace.value_len[id as usize] as usize;
        if !subject.request(&trace.keys[id as usize], len) {
            misses += 1;
        }
    }
    misses
}

impl Simulated for Cache<ManualClock> {
    fn request(&mut self, key: &str, value_len: usize) -> bool {
        if self.get(key).is_some() {
            return true;
        }
        // An entry larger than the cache is a miss that stores nothing (as in libCacheSim).
        let _ = self.set(key, vec![0; value_len]);
        false
    }
}

fn faas(trace: &Trace, size: u64, policy: EvictionPolicy) -> Cache<ManualClock> {
    let config = if trace.by_bytes {
        Config {
            max_size_bytes: Some(size + CACHE_OVERHEAD),
            policy,
            ..Config::default()
        }
    } else {
        Config {
            max_items: Some(u32::try_from(size).expect("fits")),
            policy,
            ..Config::default()
        }
    };
    let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
    Cache::with_clock_and_seed(config, clock, (11, 13)).expect("config")
}

type Moka = moka::sync::Cache<String, Arc<[u8]>, ahash::RandomState>;

struct MokaSim(Moka);

impl Simulated for MokaSim {
    fn request(&mut self, key: &str, value_len: usize) -> bool {
        if self.0.get(key).is_some() {
            return true;
        }
        self.0.insert(key.to_owned(), Arc::from(vec![0; value_len]));
        false
    }
}

fn moka(trace: &Trace, size: u64) -> MokaSim {
    let builder = moka::sync::Cache::builder().max_capacity(size);
    let cache = if trace.by_bytes {
        builder
            .weigher(|k: &String, v: &Arc<[u8]>| {
                u32::try_from(entry_bytes(k.len(), v.len())).unwrap_or(u32::MAX)
            })
            .build_with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4))
    } else {
        builder.build_with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4))
    };
    MokaSim(cache)
}

/// `quick_cache`'s weight: one per entry, or the accounted bytes.
#[derive(Clone)]
struct Weight {
    by_bytes: bool,
}

impl quick_cache::Weighter<String, Vec<u8>> for Weight {
    fn weight(&self, key: &String, value: &Vec<u8>) -> u64 {
        if self.by_bytes {
            entry_bytes(key.len(), value.len())
        } else {
            1
        }
    }
}

type Quick = quick_cache::unsync::Cache<String, Vec<u8>, Weight, ahash::RandomState>;

struct QuickSim(Quick);

impl Simulated for QuickSim {
    fn request(&mut self, key: &str, value_len: usize) -> bool {
        if self.0.get(key).is_some() {
            return true;
        }
        self.0.insert(key.to_owned(), vec![0; value_len]);
        false
    }
}

fn quick(trace: &Trace, size: u64, objects: usize) -> QuickSim {
    let items = if trace.by_bytes {
        (size as usize / 2500).max(16)
    } else {
        size as usize
    };
    QuickSim(Quick::with(
        items.min(objects),
        size,
        Weight {
            by_bytes: trace.by_bytes,
        },
        ahash::RandomState::with_seeds(1, 2, 3, 4),
        Default::default(),
    ))
}

/// The component in wasmtime, through its exports (`policy.create`, `get`, `set`).
struct ComponentSim {
    guest: Instance,
    dict: CacheId,
}

impl Simulated for ComponentSim {
    fn request(&mut self, key: &str, value_len: usize) -> bool {
        if self.guest.cache(self.dict).get(key).is_some() {
            return true;
        }
        let _ = self.guest.cache(self.dict).set(key, &vec![0; value_len]);
        false
    }
}

fn component(size: u64, policy: WitPolicy) -> ComponentSim {
    let mut guest = crate::guest::instance();
    let options = Options {
        default_ttl: None,
        max_size: None,
        max_items: Some(u32::try_from(size).expect("fits")),
        removal_log_capacity: 0,
    };
    let dict = guest.create_with_policy(&options, policy).expect("create");
    ComponentSim { guest, dict }
}

#[derive(Deserialize)]
struct LcsOutput {
    libcachesim_version: String,
    results: Vec<LcsRow>,
}

#[derive(Deserialize)]
struct LcsRow {
    algo: String,
    cache_size: u64,
    misses: Option<u64>,
    error: Option<String>,
}

/// libCacheSim's rows for one trace file at the given sizes; its version.
fn libcachesim(
    python: &Path,
    script: &Path,
    file: &Path,
    sizes: &[u64],
    by_bytes: bool,
    one_read: bool,
) -> Result<(String, Vec<LcsRow>), String> {
    let mut cmd = Command::new(python);
    cmd.arg(script).arg("--trace").arg(file);
    for s in sizes {
        cmd.arg("--cache-size").arg(s.to_string());
    }
    if one_read {
        // S3FIFO alone, promoting after one read in the small queue as `wit/policy.wit` does.
        cmd.args(["--algos", "S3FIFO", "--s3fifo-move-to-main-threshold", "1"]);
    } else {
        let algos: Vec<&str> = LIBCACHESIM
            .iter()
            .map(|&a| {
                if by_bytes && a == "Belady" {
                    "BeladySize"
                } else {
                    a
                }
            })
            .collect();
        cmd.arg("--algos").arg(algos.join(","));
    }
    let out = crate::python::run(&mut cmd)?;
    let parsed: LcsOutput =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("hitratio.py output: {e}"))?;
    Ok((parsed.libcachesim_version, parsed.results))
}

/// How much the section simulates.
pub struct Plan {
    pub objects: usize,
    pub requests: usize,
}

/// Every trace, size and subject; also libCacheSim's version (`None` when it could not run).
pub fn run(root: &Path, plan: &Plan) -> Result<(Vec<HitRow>, Option<String>), String> {
    eprintln!(
        "hit ratio: {} objects, {} requests per trace",
        plan.objects, plan.requests
    );
    let dir: PathBuf = root.join("target").join("hitratio");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let python = crate::python::venv(root);
    let script = root.join("bench").join("python").join("hitratio.py");
    let mut rows = Vec::new();
    let mut version = None;
    let mut all = traces(plan.objects, plan.requests);
    match python
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|p| crate::traces::load(root, p, plan.requests))
    {
        Ok(real) => all.extend(real.into_iter().map(Trace::real)),
        Err(e) => eprintln!("bench: real-trace rows SKIPPED: {e}"),
    }
    for trace in all {
        let sizes: Vec<u64> = PERCENTS.iter().map(|&p| trace.cache_size(p)).collect();
        let mut push = |percent: f64, size: u64, subject: &str, misses: u64| {
            let requests = trace.requests.len() as u64;
            let row = HitRow {
                trace: trace.name.clone(),
                percent,
                cache_size: size,
                by_bytes: trace.by_bytes,
                subject: subject.into(),
                requests,
                misses,
                miss_ratio: misses as f64 / requests as f64,
            };
            eprintln!(
                "  {:<26} {:>5}% {:<24} miss ratio {:.4}",
                row.trace, percent, subject, row.miss_ratio
            );
            rows.push(row);
        };
        for (&percent, &size) in PERCENTS.iter().zip(&sizes) {
            for (policy, name) in [
                (EvictionPolicy::Lru, "faas-cache lru"),
                (EvictionPolicy::S3Fifo, "faas-cache s3-fifo"),
            ] {
                let mut cache = faas(&trace, size, policy);
                let m = misses(&trace, &mut cache);
                push(percent, size, name, m);
                if trace.name == "zipf-1.0" && percent == 1.0 {
                    let wit = match policy {
                        EvictionPolicy::Lru => WitPolicy::Lru,
                        EvictionPolicy::S3Fifo => WitPolicy::S3Fifo,
                    };
                    let through = misses(&trace, &mut component(size, wit));
                    push(percent, size, &format!("{name} (wasmtime)"), through);
                }
            }
            push(
                percent,
                size,
                "moka",
                misses(&trace, &mut moka(&trace, size)),
            );
            let m = misses(&trace, &mut quick(&trace, size, trace.keys.len()));
            push(percent, size, "quick_cache", m);
        }
        let file = dir.join(format!(
            "{}.oracleGeneral",
            trace.name.replace([' ', '+'], "_")
        ));
        trace.write_oracle(&file)?;
        for one_read in [false, true] {
            let lcs = match &python {
                Ok(python) => libcachesim(python, &script, &file, &sizes, trace.by_bytes, one_read),
                Err(e) => Err(e.clone()),
            };
            match lcs {
                Ok((v, results)) => {
                    version = Some(v);
                    for r in results {
                        let Some(i) = sizes.iter().position(|&s| s == r.cache_size) else {
                            continue;
                        };
                        let algo = match r.algo.as_str() {
                            "BeladySize" => "Belady",
                            _ if one_read => ONE_READ,
                            other => other,
                        };
                        match (r.misses, r.error) {
                            (Some(m), _) => {
                                push(PERCENTS[i], r.cache_size, &format!("libCacheSim {algo}"), m)
                            }
                            (None, e) => eprintln!(
                                "  libCacheSim {} at {}: {}",
                                r.algo,
                                r.cache_size,
                                e.unwrap_or_default()
                            ),
                        }
                    }
                }
                Err(e) => eprintln!("bench: libCacheSim rows SKIPPED for {}: {e}", trace.name),
            }
        }
    }
    Ok((rows, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_are_deterministic_and_sized_as_described() {
        let a = traces(1000, 10_000);
        let b = traces(1000, 10_000);
        assert_eq!(a.len(), 6);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.requests, y.requests, "{}", x.name);
            assert_eq!(x.requests.len(), 10_000);
        }
        let scans = &a[4];
        let fresh = scans.requests.iter().filter(|&&id| id >= 1000).count();
        assert_eq!(fresh, 1000, "10% one-time scan requests");
        let sized = &a[5];
        assert!(sized.by_bytes);
        assert!(sized.value_len.iter().all(|&l| (16..=16384).contains(&l)));
        assert_eq!(
            sized.cache_size(1.0),
            (sized.base as f64 / 100.0).round() as u64
        );
    }

    #[test]
    fn oracle_records_are_24_bytes_with_id_and_size() {
        let t = Trace::new("t".into(), vec![2, 0], vec![0, 0, 5], true);
        let path = std::env::temp_dir().join("faas-cache-bench-oracle-test.bin");
        t.write_oracle(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 48);
        assert_eq!(u64::from_le_bytes(bytes[4..12].try_into().unwrap()), 2);
        let size = u32::from_le_bytes(bytes[12..16].try_into().unwrap());
        assert_eq!(u64::from(size), entry_bytes(2, 5));
        // id 2 is requested once, id 0 once: neither comes back
        assert_eq!(i64::from_le_bytes(bytes[16..24].try_into().unwrap()), -1);
        let t = Trace::new("t".into(), vec![1, 0, 1, 1], vec![0, 0], false);
        t.write_oracle(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let next: Vec<i64> = bytes
            .chunks_exact(24)
            .map(|r| i64::from_le_bytes(r[16..24].try_into().unwrap()))
            .collect();
        assert_eq!(
            next,
            vec![2, -1, 3, -1],
            "the index of the next request of the object"
        );
    }
}
