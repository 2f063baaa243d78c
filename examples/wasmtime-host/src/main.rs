//! `faas-host`: a FaaS-style wasmtime embedding of the faas:cache component.
//!
//! One process plays a function host: it compiles the component once, pre-instantiates it
//! (`InstancePre`), and keeps one instance alive while it serves a stream of invocations. Each
//! invocation looks its key up in the cache and, on a miss, calls a slow backend (a simulated
//! 2-20 ms network call, really slept) and stores the answer. Between invocations the host calls
//! `tick()`. On shutdown it writes a snapshot, and the next start restores it: a warm cache after
//! a cold start. It prints hit rate, p50/p99 latency with and without the cache, and memory.
//! Then it replays one longer request stream (no backend sleep) against two fresh caches of a
//! small budget in the same instance, one per eviction policy (`lru`, `s3-fifo`), and prints both
//! hit rates: what the choice of `policy.create` is worth on that traffic.
//!
//! Invariant: the host never holds guest state of its own; everything it reports about the cache
//! comes from calls through the contract WIT.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faas_cache_host::{CacheError, CacheId, EvictionPolicy, Host, Options};

/// Command-line settings.
struct Settings {
    requests: usize,
    keys: usize,
    baseline: usize,
    budget: String,
    ttl: f64,
    backend_ms: (f64, f64),
    snapshot: PathBuf,
    fresh: bool,
    policy: EvictionPolicy,
    compare_requests: usize,
    compare_budget: String,
}

/// `target/faas-host.snapshot` at the workspace root.
fn default_snapshot_path() -> PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().nth(2).unwrap_or(manifest);
    root.join("target").join("faas-host.snapshot")
}

fn usage() -> ! {
    eprintln!(
        "usage: faas-host [--requests N] [--keys K] [--baseline N] [--budget SIZE] [--ttl SECONDS]\n\
         \x20                [--backend-ms MIN..MAX] [--snapshot PATH] [--fresh] [--policy lru|s3-fifo]\n\
         \x20                [--compare-requests N] [--compare-budget SIZE]"
    );
    std::process::exit(2)
}

fn parse_args() -> Settings {
    let mut s = Settings {
        requests: 2000,
        keys: 1000,
        baseline: 100,
        budget: "1M".into(),
        ttl: 300.0,
        backend_ms: (2.0, 20.0),
        snapshot: default_snapshot_path(),
        fresh: false,
        policy: EvictionPolicy::Lru,
        compare_requests: 20_000,
        compare_budget: "64K".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--requests" => s.requests = value().parse().unwrap_or_else(|_| usage()),
            "--keys" => s.keys = value().parse().unwrap_or_else(|_| usage()),
            "--baseline" => s.baseline = value().parse().unwrap_or_else(|_| usage()),
            "--budget" => s.budget = value(),
            "--ttl" => s.ttl = value().parse().unwrap_or_else(|_| usage()),
            "--backend-ms" => {
                let v = value();
                let (a, b) = v.split_once("..").unwrap_or_else(|| usage());
                s.backend_ms = (
                    a.parse().unwrap_or_else(|_| usage()),
                    b.parse().unwrap_or_else(|_| usage()),
                );
            }
            "--snapshot" => s.snapshot = PathBuf::from(value()),
            "--fresh" => s.fresh = true,
            "--policy" => s.policy = EvictionPolicy::from_name(&value()).unwrap_or_else(|| usage()),
            "--compare-requests" => {
                s.compare_requests = value().parse().unwrap_or_else(|_| usage())
            }
            "--compare-budget" => s.compare_budget = value(),
            _ => usage(),
        }
    }
    if s.keys == 0 {
        usage();
    }
    s
}

/// xorshift64*: a small deterministic generator for the workload (no dependency needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Keys drawn with Zipf(1.0) popularity over `n` keys, as real request streams are.
struct Zipf {
    cdf: Vec<f64>,
}
impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|rank| {
                acc += 1.0 / rank as f64;
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// The slow backend: a real sleep of 2-20 ms, then a value of a few hundred bytes.
fn backend(key: &str, rng: &mut Rng, ms: (f64, f64)) -> Vec<u8> {
    let wait = ms.0 + (ms.1 - ms.0) * rng.unit();
    std::thread::sleep(Duration::from_secs_f64(wait / 1000.0));
    backend_value(key)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn describe_error(e: &CacheError) -> String {
    format!("{e:?}")
}

/// The value the backend would return for `key`, without its wait.
fn backend_value(key: &str) -> Vec<u8> {
    let mut value = format!("{{\"key\":\"{key}\",\"payload\":\"").into_bytes();
    value.resize(value.len() + 200 + (key.len() * 37) % 600, b'x');
    value.extend_from_slice(b"\"}");
    value
}

fn main() -> wasmtime::Result<()> {
    let settings = parse_args();
    if settings.fresh {
        let _ = std::fs::remove_file(&settings.snapshot);
    }

    // Cold start: compile and pre-instantiate once (`Host`), instantiate once.
    let t = Instant::now();
    let host = Host::builder().policy(settings.policy).build()?;
    let compile = t.elapsed();
    let t = Instant::now();
    let mut instance = host.instantiate()?;
    let instantiate = t.elapsed();
    println!(
        "cold start: compile + link + InstancePre {} ({} byte component), instantiate {}",
        ms(compile),
        faas_cache_host::COMPONENT.len(),
        ms(instantiate)
    );

    // Warm restart: restore the previous run's snapshot if there is one.
    let t = Instant::now();
    let restored: Option<CacheId> = match std::fs::read(&settings.snapshot) {
        Ok(bytes) => match instance.restore(&bytes) {
            Ok(id) => {
                let n = instance.cache(id).len();
                println!(
                    "warm start: restored {n} live entries from {} ({} bytes) in {}",
                    settings.snapshot.display(),
                    bytes.len(),
                    ms(t.elapsed())
                );
                Some(id)
            }
            Err(e) => {
                println!(
                    "snapshot unreadable ({}); starting cold",
                    describe_error(&e)
                );
                None
            }
        },
        Err(_) => {
            println!("no snapshot at {}: cold cache", settings.snapshot.display());
            None
        }
    };
    let id = match restored {
        Some(id) => id,
        None => instance
            .create(
                &Options::new()
                    .default_ttl(settings.ttl)
                    .max_size(&settings.budget),
            )
            .map_err(|e| wasmtime::Error::msg(describe_error(&e)))?,
    };
    println!("eviction policy: {}", instance.cache(id).policy().name());

    // The invocations.
    let zipf = Zipf::new(settings.keys);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let keys: Vec<String> = (0..settings.keys).map(|i| format!("item-{i}")).collect();
    let mut with_cache = Vec::with_capacity(settings.requests);
    let (mut hits, mut first_hits) = (0usize, 0usize);
    let first = settings.requests.min(100);
    let served = Instant::now();
    for i in 0..settings.requests {
        let key = &keys[zipf.sample(&mut rng)];
        let t = Instant::now();
        let hit = match instance.cache(id).get(key) {
            Some(_value) => true,
            None => {
                let value = backend(key, &mut rng, settings.backend_ms);
                if let Err(e) = instance.cache(id).set(key, &value) {
                    eprintln!("set {key}: {}", describe_error(&e));
                }
                false
            }
        };
        with_cache.push(t.elapsed());
        if hit {
            hits += 1;
            if i < first {
                first_hits += 1;
            }
        }
        // Idle time between invocations: reclaim expired entries (O(k log n), usually k = 0).
        instance.tick();
    }
    let served = served.elapsed();

    // The same stream without the cache: every request pays the backend.
    let mut without = Vec::with_capacity(settings.baseline);
    let mut rng2 = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..settings.baseline {
        let key = &keys[zipf.sample(&mut rng2)];
        let t = Instant::now();
        let _ = backend(key, &mut rng2, settings.backend_ms);
        without.push(t.elapsed());
    }
    with_cache.sort();
    without.sort();

    let mut cache = instance.cache(id);
    let (stats, bytes, len) = (cache.stats(), cache.byte_size(), cache.len());
    println!(
        "{} invocations over {} keys (Zipf 1.0) in {:.2} s: hit rate {:.1}% (first {first}: {:.0}%)",
        settings.requests,
        settings.keys,
        served.as_secs_f64(),
        100.0 * hits as f64 / settings.requests.max(1) as f64,
        100.0 * first_hits as f64 / first.max(1) as f64,
    );
    println!(
        "latency with the cache:    p50 {}, p99 {}",
        ms(percentile(&with_cache, 0.50)),
        ms(percentile(&with_cache, 0.99))
    );
    println!(
        "latency without the cache: p50 {}, p99 {} ({} backend calls)",
        ms(percentile(&without, 0.50)),
        ms(percentile(&without, 0.99)),
        settings.baseline
    );
    println!(
        "cache: {len} entries, {bytes} accounted bytes of a {} budget, {} evicted for size; \
         linear memory {:.2} MiB",
        settings.budget,
        stats.evicted_size,
        instance.memory_bytes() as f64 / 1048576.0
    );

    // Shutdown: keep the cache for the next start.
    let t = Instant::now();
    let snapshot = instance.cache(id).snapshot();
    if let Some(dir) = settings.snapshot.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&settings.snapshot, &snapshot)?;
    println!(
        "shutdown: wrote a {} byte snapshot to {} in {}",
        snapshot.len(),
        settings.snapshot.display(),
        ms(t.elapsed())
    );
    instance.drop_cache(id);

    // The policies side by side: one stream, two fresh caches with the same small budget.
    if settings.compare_requests > 0 {
        let mut rng = Rng(0x5851_f42d_4c95_7f2d);
        let stream: Vec<usize> = (0..settings.compare_requests)
            .map(|_| zipf.sample(&mut rng))
            .collect();
        let mut misses = Vec::new();
        for policy in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
            let options = Options::new()
                .default_ttl(settings.ttl)
                .max_size(&settings.compare_budget);
            let d = instance
                .create_with_policy(&options, policy)
                .map_err(|e| wasmtime::Error::msg(describe_error(&e)))?;
            let mut missed = 0usize;
            for &k in &stream {
                let key = &keys[k];
                let mut cache = instance.cache(d);
                if cache.get(key).is_none() {
                    missed += 1;
                    let _ = cache.set(key, &backend_value(key));
                }
            }
            instance.drop_cache(d);
            misses.push(missed);
        }
        let n = stream.len().max(1) as f64;
        println!(
            "policies on one stream of {} requests over {} keys, {} budget: hit rate lru {:.1}%, s3-fifo {:.1}% ({:.0}% fewer backend calls)",
            stream.len(),
            settings.keys,
            settings.compare_budget,
            100.0 * (1.0 - misses[0] as f64 / n),
            100.0 * (1.0 - misses[1] as f64 / n),
            100.0 * (1.0 - misses[1] as f64 / misses[0].max(1) as f64)
        );
    }
    Ok(())
}
