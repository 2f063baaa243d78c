//! Section 11 of the report: caches that outlive the instance, with `faas-cache-serve`. One run
//! measures four things:
//!
//! 1. the hit rate of one app (`hosts/faas-cache-serve/app`, `op=hit`) on one Zipf(1) stream of
//!    requests under four setups: the app composed with the cache component (`wac-graph`) with a
//!    fresh instance per request, the same with `wasmtime serve`'s WASIp3 reuse defaults (128
//!    requests, 1 s idle), the plain app with the cache provided by the host with a fresh
//!    instance per request, and the ceiling: the composed app in one instance never recycled;
//! 2. a guest's `get` hit of a 100-byte value through the provider against the composed
//!    component, from the app's `op=loop` (`(t(N) - t(0)) / N`), runs of the two interleaved;
//! 3. requests/s with concurrent keep-alive clients, cache provided against no cache, and the
//!    provider's lock: a named cache's `get` behind its mutex at 1 and 2 threads against the bare
//!    core's;
//! 4. the resident memory of the `faas-cache-serve` binary before and after its scope was
//!    filled and churned to its ceiling.
//!
//! Parts 1 to 3 run the servers in this process with the `faas-cache-serve` library (its engine,
//! linker, apps, router and `serve_until`) on loopback; part 4 spawns the built binary. The
//! client is a plain keep-alive HTTP/1.1 client over `TcpStream`. Invariant: every setup serves
//! the same app component (composed or not) and sees the same requests in the same order.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use faas_cache::{Cache, Config};
use faas_cache_provider::{Scope, ScopeLimits};
use faas_cache_serve::{engine, linker, serve_until, App, Reuse, Router};
use serde::{Deserialize, Serialize};
use wasmtime::component::Component;

use crate::measure::Sample;
use crate::workload::{key, shuffled_keys, value, Rng, Zipf};

/// How much the section measures.
pub struct Plan {
    /// Keys of the Zipf stream, and its requests.
    pub keys: usize,
    pub requests: usize,
    /// Gets of one `op=loop` request, and interleaved runs of the two setups.
    pub loop_gets: u64,
    pub loop_runs: usize,
    /// Concurrent clients, seconds per throughput run, runs of each case (interleaved).
    pub clients: usize,
    pub seconds: f64,
    pub throughput_runs: usize,
    /// Gets per thread per run of the lock benchmark, and its runs.
    pub lock_ops: usize,
    pub lock_runs: usize,
    /// Value bytes the memory part writes into the spawned server's scope.
    pub fill_bytes: u64,
    /// Spawn the debug binary rather than the release one.
    pub debug_binary: bool,
}

/// One setup of part 1: its hits on the Zipf stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HitRow {
    /// What the report finds the row by: `composed-fresh`, `composed-reuse`, `provided-fresh`,
    /// `ceiling`.
    pub key: String,
    pub setup: String,
    pub reuse: String,
    pub requests: usize,
    pub hits: usize,
    /// Mean microseconds per request, one client, keep-alive.
    pub us_per_request: f64,
}

impl HitRow {
    pub fn hit_rate(&self) -> f64 {
        self.hits as f64 / self.requests.max(1) as f64
    }
}

/// Part 2: nanoseconds per `get` hit in the guest, through each cache.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GetCost {
    /// Gets per timed request.
    pub gets: u64,
    pub runs: usize,
    pub provider: Sample,
    pub composed: Sample,
    /// Provider / composed, per run.
    pub ratio: Sample,
}

/// One case of part 3's throughput: nanoseconds of wall time per request, all clients together.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RpsRow {
    pub key: String,
    pub case: String,
    pub per_request: Sample,
    pub requests: u64,
}

impl RpsRow {
    pub fn per_second(&self) -> f64 {
        1e9 / self.per_request.ns
    }
}

/// One case of part 3's lock benchmark: nanoseconds per `get` hit as each thread sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LockRow {
    pub case: String,
    pub threads: usize,
    pub time: Sample,
}

/// Part 4: the spawned server's memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServeMemory {
    /// `--ceiling`, bytes.
    pub ceiling: u64,
    /// Named caches filled, and the byte limit of each.
    pub caches: usize,
    pub cache_limit: u64,
    /// The environment the server ran with (`MALLOC_ARENA_MAX=2`).
    pub env: String,
    /// VmRSS after start and one request that touches no cache.
    pub idle_rss: u64,
    /// VmRSS after the fill and churn, and VmHWM (the peak) then.
    pub rss: u64,
    pub peak_rss: u64,
    /// Value bytes written, in how many requests.
    pub written: u64,
    pub requests: usize,
    /// The caches' accounted bytes at the end (their `byte-size`).
    pub accounted: u64,
}

impl ServeMemory {
    /// The target's bound: 1.25 × the ceiling + 16 MiB.
    pub fn bound(&self) -> u64 {
        self.ceiling + self.ceiling / 4 + (16 << 20)
    }
}

/// Everything section 11 measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Serve {
    pub keys: usize,
    pub requests: usize,
    pub hit: Vec<HitRow>,
    pub get: GetCost,
    pub clients: usize,
    pub seconds: f64,
    pub throughput: Vec<RpsRow>,
    pub lock: Vec<LockRow>,
    /// `None`: the binary was not there to spawn.
    pub memory: Option<ServeMemory>,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("{e:#}")
}

/// Plugs the cache component into the app's `faas:cache` imports, as Spin does
/// (`hosts/spin-host`'s `compose`, with `wac-graph`).
fn compose(app: &[u8], dependency: &[u8]) -> Result<Vec<u8>, String> {
    spin_cache_host::compose(app, dependency).map_err(err)
}

// ---------------------------------------------------------------------------------------------
// A keep-alive HTTP/1.1 client.

/// What one response said.
pub(crate) struct Reply {
    pub(crate) status: u16,
    hit: bool,
    pub(crate) body: Vec<u8>,
}

pub(crate) struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    line: String,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            stream: None,
            line: String::new(),
        }
    }

    fn connected(&mut self) -> std::io::Result<&mut BufReader<TcpStream>> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(120)))?;
            self.stream = Some(BufReader::new(stream));
        }
        Ok(self.stream.as_mut().expect("connected"))
    }

    /// GET `path`; on a response that closes the connection, the next call reconnects.
    pub(crate) fn get(&mut self, path: &str) -> Result<Reply, String> {
        let result = self.exchange(path);
        if result.is_err() {
            self.stream = None;
        }
        result.map_err(|e| format!("GET {path}: {e}"))
    }

    fn exchange(&mut self, path: &str) -> std::io::Result<Reply> {
        let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let mut line = std::mem::take(&mut self.line);
        let stream = self.connected()?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: bench\r\n\r\n");
        stream.get_mut().write_all(request.as_bytes())?;
        line.clear();
        stream.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("status line {line:?}")))?;
        let (mut length, mut chunked, mut hit, mut close) = (None, false, false, false);
        loop {
            line.clear();
            if stream.read_line(&mut line)? == 0 {
                return Err(bad("the connection closed in the headers".into()));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, v)) = header.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.parse::<usize>().ok(),
                "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
                "x-cache" => hit = v == "hit",
                "connection" => close = v.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                stream.read_line(&mut line)?;
                let size = line.trim().split(';').next().unwrap_or("");
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| bad(format!("chunk size {line:?}")))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        line.clear();
                        if stream.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                stream.read_exact(&mut body[start..])?;
                let mut crlf = [0u8; 2];
                stream.read_exact(&mut crlf)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            stream.read_exact(&mut body)?;
        } else {
            stream.read_to_end(&mut body)?;
            close = true;
        }
        if close {
            self.stream = None;
        }
        self.line = line;
        Ok(Reply { status, hit, body })
    }

    /// GET `path` and insist on a 200.
    fn ok(&mut self, path: &str) -> Result<Reply, String> {
        let reply = self.get(path)?;
        if reply.status != 200 {
            return Err(format!(
                "GET {path}: status {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        Ok(reply)
    }
}

// ---------------------------------------------------------------------------------------------
// The in-process server.

/// A `faas-cache-serve` router served on loopback by a tokio runtime of this process.
pub(crate) struct InProcess {
    runtime: tokio::runtime::Runtime,
    pub(crate) addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl InProcess {
    pub(crate) fn start(apps: Vec<App>) -> Result<InProcess, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(err)?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = Arc::new(Router::new(apps));
        let task = runtime.spawn(serve_until(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Ok(InProcess {
            runtime,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self.runtime.block_on(task);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Part 1: hit rates.

/// The prefixes the four setups are served at, with their row keys and labels.
const COMPOSED_FRESH: (&str, &str, &str) = (
    "/composed-fresh",
    "composed-fresh",
    "composed with the component (`wac-graph`)",
);
const COMPOSED_REUSE: (&str, &str, &str) = (
    "/composed-reuse",
    "composed-reuse",
    "composed, `wasmtime serve`'s WASIp3 defaults",
);
const PROVIDED: (&str, &str, &str) = (
    "/provided",
    "provided-fresh",
    "provided by `faas-cache-serve` (no composition)",
);
const CEILING: (&str, &str, &str) = (
    "/ceiling",
    "ceiling",
    "ceiling: composed, one instance never recycled",
);

/// The ceiling's idle timeout: its requests come back to back, so one instance serves the whole
/// stream (`hit_rates` checks it), and it ends before the server stops.
const CEILING_IDLE: Duration = Duration::from_secs(2);

/// `op=hit` paths of the Zipf(1) stream under `prefix`.
fn zipf_paths(prefix: &str, plan: &Plan) -> Vec<String> {
    let zipf = Zipf::new(plan.keys);
    let mut rng = Rng::new(11);
    (0..plan.requests)
        .map(|_| format!("{prefix}?op=hit&key={}", key(zipf.draw(&mut rng))))
        .collect()
}

fn hit_rates(addr: SocketAddr, plan: &Plan) -> Result<Vec<HitRow>, String> {
    let mut rows = Vec::new();
    for ((prefix, row_key, setup), reuse) in [
        (COMPOSED_FRESH, "1 (fresh instance per request)"),
        (COMPOSED_REUSE, "128 requests, 1 s idle"),
        (PROVIDED, "1 (fresh instance per request)"),
        (CEILING, "never (one instance serves the whole stream)"),
    ] {
        let paths = zipf_paths(prefix, plan);
        let mut client = Client::new(addr);
        let start = Instant::now();
        let mut hits = 0;
        for path in &paths {
            if client.ok(path)?.hit {
                hits += 1;
            }
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / paths.len().max(1) as f64;
        if prefix == CEILING.0 {
            // The instance counts the requests it served: this one and the whole stream.
            let served = client.ok(&format!("{prefix}?op=instance"))?.body;
            let served = String::from_utf8_lossy(&served);
            if served.trim() != (paths.len() + 1).to_string() {
                return Err(format!(
                    "the ceiling's instance was recycled: it served {served} requests"
                ));
            }
        }
        eprintln!(
            "  hit rate {setup:<48} {:>6.2}%  ({us:.0} us per request)",
            100.0 * hits as f64 / paths.len().max(1) as f64
        );
        rows.push(HitRow {
            key: row_key.into(),
            setup: setup.into(),
            reuse: reuse.into(),
            requests: paths.len(),
            hits,
            us_per_request: us,
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Part 2: a guest's get, provider against composed.

fn request_ns(client: &mut Client, path: &str) -> Result<(f64, Reply), String> {
    let start = Instant::now();
    let reply = client.ok(path)?;
    Ok((start.elapsed().as_nanos() as f64, reply))
}

/// Nanoseconds per get in one run on the setup at `prefix`: `(t(N) - t(0)) / N`, with t(0)
/// the median of five requests.
fn per_get(client: &mut Client, prefix: &str, gets: u64) -> Result<f64, String> {
    let empty = format!("{prefix}?op=loop&key=k&n=0");
    let mut zero = Vec::new();
    for _ in 0..5 {
        zero.push(request_ns(client, &empty)?.0);
    }
    let zero = Sample::of(zero).ns;
    let (full, reply) = request_ns(client, &format!("{prefix}?op=loop&key=k&n={gets}"))?;
    let hits = String::from_utf8_lossy(&reply.body);
    if hits.trim() != gets.to_string() {
        return Err(format!("{prefix} op=loop: {hits} hits of {gets}"));
    }
    Ok(((full - zero) / gets as f64).max(0.0))
}

fn get_cost(addr: SocketAddr, plan: &Plan) -> Result<GetCost, String> {
    let mut client = Client::new(addr);
    // Warm both setups up.
    per_get(&mut client, PROVIDED.0, plan.loop_gets / 10 + 1)?;
    per_get(&mut client, COMPOSED_FRESH.0, plan.loop_gets / 10 + 1)?;
    let (mut provider, mut composed, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..plan.loop_runs.max(1) {
        // Alternate which goes first.
        let (p, c) = if run % 2 == 0 {
            let p = per_get(&mut client, PROVIDED.0, plan.loop_gets)?;
            (p, per_get(&mut client, COMPOSED_FRESH.0, plan.loop_gets)?)
        } else {
            let c = per_get(&mut client, COMPOSED_FRESH.0, plan.loop_gets)?;
            (per_get(&mut client, PROVIDED.0, plan.loop_gets)?, c)
        };
        provider.push(p);
        composed.push(c);
        ratio.push(p / c.max(1e-3));
    }
    let cost = GetCost {
        gets: plan.loop_gets,
        runs: plan.loop_runs.max(1),
        provider: Sample::of(provider),
        composed: Sample::of(composed),
        ratio: Sample::of(ratio),
    };
    eprintln!(
        "  get hit in the guest: provider {:.1} ns, composed {:.1} ns, ratio {:.2}",
        cost.provider.ns, cost.composed.ns, cost.ratio.ns
    );
    Ok(cost)
}

// ---------------------------------------------------------------------------------------------
// Part 3: throughput, and the lock.

/// Requests and wall nanoseconds of `clients` keep-alive clients for `seconds`, client `i`
/// walking `paths` from `i * len / clients` on.
fn concurrent(
    addr: SocketAddr,
    paths: &[String],
    clients: usize,
    seconds: f64,
) -> Result<(u64, f64), String> {
    let barrier = Barrier::new(clients + 1);
    let failure = Mutex::new(None::<String>);
    let (counts, wall) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|i| {
                let (barrier, failure) = (&barrier, &failure);
                s.spawn(move || {
                    let mut client = Client::new(addr);
                    let mut at = i * paths.len() / clients;
                    // Connect before the clock starts.
                    let connected = client.ok(&paths[at % paths.len()]);
                    barrier.wait();
                    barrier.wait();
                    if let Err(e) = connected {
                        *failure.lock().expect("not poisoned") = Some(e);
                        return 0u64;
                    }
                    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        at += 1;
                        if let Err(e) = client.ok(&paths[at % paths.len()]) {
                            *failure.lock().expect("not poisoned") = Some(e);
                            break;
                        }
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        let counts: Vec<u64> = workers
            .into_iter()
            .map(|w| w.join().expect("a client thread"))
            .collect();
        (counts, start.elapsed().as_nanos() as f64)
    });
    if let Some(e) = failure.into_inner().expect("not poisoned") {
        return Err(e);
    }
    Ok((counts.iter().sum(), wall))
}

fn throughput(addr: SocketAddr, plan: &Plan) -> Result<Vec<RpsRow>, String> {
    let cases = [
        (
            "provided-hit",
            format!(
                "cache provided, `op=hit` on the Zipf stream, reuse 1 ({} clients)",
                plan.clients
            ),
            zipf_paths(PROVIDED.0, plan),
        ),
        (
            "nop",
            format!(
                "no cache (`op=nop`), same app, reuse 1 ({} clients)",
                plan.clients
            ),
            vec![format!("{}?op=nop", PROVIDED.0)],
        ),
    ];
    let mut samples: Vec<(Vec<f64>, u64)> = vec![(Vec::new(), 0); cases.len()];
    for _ in 0..plan.throughput_runs.max(1) {
        for (i, (_, _, paths)) in cases.iter().enumerate() {
            let (requests, ns) = concurrent(addr, paths, plan.clients, plan.seconds)?;
            samples[i].0.push(ns / requests.max(1) as f64);
            samples[i].1 += requests;
        }
    }
    let rows: Vec<RpsRow> = cases
        .into_iter()
        .zip(samples)
        .map(|((key, case, _), (ns, requests))| RpsRow {
            key: key.into(),
            case,
            per_request: Sample::of(ns),
            requests,
        })
        .collect();
    for r in &rows {
        eprintln!("  {:<60} {:>9.0} requests/s", r.case, r.per_second());
    }
    Ok(rows)
}

/// Nanoseconds per get as one of `threads` threads sees it, each doing `ops` gets of `keys`
/// on `cache` (each thread from its own offset).
fn locked_gets(
    cache: &Mutex<faas_cache_provider::HostCache>,
    keys: &[String],
    threads: usize,
    ops: usize,
) -> f64 {
    let barrier = Barrier::new(threads);
    let times: Vec<f64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    let offset = t * keys.len() / threads;
                    barrier.wait();
                    let start = Instant::now();
                    let mut found = 0usize;
                    for i in 0..ops {
                        let k = &keys[(offset + i) % keys.len()];
                        let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
                        found += std::hint::black_box(guard.get(k).map_or(0, <[u8]>::len));
                    }
                    assert_eq!(found, ops * crate::workload::VALUE_LEN, "every get hits");
                    start.elapsed().as_nanos() as f64 / ops.max(1) as f64
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a thread"))
            .collect()
    });
    times.into_iter().fold(0.0, f64::max)
}

fn bare_gets(cache: &mut Cache, keys: &[String], ops: usize) -> f64 {
    let start = Instant::now();
    let mut found = 0usize;
    for i in 0..ops {
        found += std::hint::black_box(cache.get(&keys[i % keys.len()]).map_or(0, <[u8]>::len));
    }
    assert_eq!(found, ops * crate::workload::VALUE_LEN, "every get hits");
    start.elapsed().as_nanos() as f64 / ops.max(1) as f64
}

/// Keys the lock benchmark reads.
const LOCK_KEYS: usize = 1_000;

fn lock_cost(plan: &Plan) -> Result<Vec<LockRow>, String> {
    let config = Config::default().with_max_size("16M").map_err(err)?;
    let keys = shuffled_keys(0, LOCK_KEYS);
    let bytes = value();
    let scope = Scope::new(ScopeLimits::default());
    let shared = scope.open("bench", config.clone()).map_err(err)?;
    let mut bare = Cache::new(config).map_err(err)?;
    for k in &keys {
        shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set(k.as_str(), bytes.clone())
            .map_err(err)?;
        bare.set(k.as_str(), bytes.clone()).map_err(err)?;
    }
    let (mut b, mut one, mut two) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.lock_runs.max(1) {
        b.push(bare_gets(&mut bare, &keys, plan.lock_ops));
        one.push(locked_gets(&shared, &keys, 1, plan.lock_ops));
        two.push(locked_gets(&shared, &keys, 2, plan.lock_ops));
    }
    let rows = vec![
        LockRow {
            case: "bare `faas_cache::Cache`".into(),
            threads: 1,
            time: Sample::of(b),
        },
        LockRow {
            case: "a scope's named cache, behind its `Mutex`".into(),
            threads: 1,
            time: Sample::of(one),
        },
        LockRow {
            case: "a scope's named cache, behind its `Mutex`, both threads on it".into(),
            threads: 2,
            time: Sample::of(two),
        },
    ];
    for r in &rows {
        eprintln!(
            "  get hit, {} ({} thread{}): {:.1} ns",
            r.case,
            r.threads,
            if r.threads == 1 { "" } else { "s" },
            r.time.ns
        );
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Part 4: the binary's memory.

/// The spawned server; killed (by its own id) when dropped.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kib(pid: u32, field: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .ok_or_else(|| format!("{path}: no {field}"))
}

/// The built binary: `target/release/faas-cache-serve` (`target/debug/...` when `debug`).
fn binary(root: &Path, debug: bool) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target
        .join(if debug { "debug" } else { "release" })
        .join("faas-cache-serve")
}

/// The ceiling, and the named caches that fill it.
const CEILING_BYTES: u64 = 64 << 20;
const CACHES: usize = 4;
const CACHE_LIMIT: &str = "16M";
/// Value bytes per fill request.
const FILL_REQUEST_BYTES: usize = 256 << 10;
const MALLOC_ARENA_MAX: (&str, &str) = ("MALLOC_ARENA_MAX", "2");

fn memory(root: &Path, plan: &Plan) -> Result<ServeMemory, String> {
    let exe = binary(root, plan.debug_binary);
    if !exe.exists() {
        return Err(format!(
            "{} is missing: build it with `cargo build{} -p faas-cache-serve`",
            exe.display(),
            if plan.debug_binary { "" } else { " --release" }
        ));
    }
    let mut child = Command::new(&exe)
        .args(["--addr", "127.0.0.1:0", "--ceiling", "64M"])
        .arg(faas_cache_artifact::SERVE_APP_PATH)
        .env(MALLOC_ARENA_MAX.0, MALLOC_ARENA_MAX.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let server = Spawned(child);
    let pid = server.0.id();
    let mut lines = BufReader::new(stdout);
    let mut first = String::new();
    lines.read_line(&mut first).map_err(err)?;
    // Whatever it prints later is drained.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("faas-cache-serve printed {first:?}"))?;
    let mut client = Client::new(addr);
    client.ok("/?op=nop")?;
    let idle_rss = status_kib(pid, "VmRSS")? << 10;

    let mut rng = Rng::new(5);
    let mut next = [0u64; CACHES];
    let mut accounted = [0u64; CACHES];
    let (mut written, mut requests) = (0u64, 0usize);
    while written < plan.fill_bytes {
        let c = requests % CACHES;
        // Value sizes log-uniform in 100 B..8 KiB; three requests in four write new keys, the
        // fourth overwrites earlier keys (with values of another size).
        let size = (100.0 * (8192.0f64 / 100.0).powf(rng.unit())) as usize;
        let n = (FILL_REQUEST_BYTES / size).max(1) as u64;
        let from = if rng.below(4) == 0 && next[c] > 0 {
            rng.next_u64() % next[c]
        } else {
            next[c] += n;
            next[c] - n
        };
        let reply = client.ok(&format!(
            "/?op=fill&cache=c{c}&max={CACHE_LIMIT}&n={n}&size={size}&from={from}"
        ))?;
        accounted[c] = String::from_utf8_lossy(&reply.body)
            .trim()
            .parse()
            .map_err(|e| format!("op=fill answered {:?}: {e}", reply.body))?;
        written += n * size as u64;
        requests += 1;
    }
    let rss = status_kib(pid, "VmRSS")? << 10;
    let peak_rss = status_kib(pid, "VmHWM")? << 10;
    drop(client);
    drop(server);
    let m = ServeMemory {
        ceiling: CEILING_BYTES,
        caches: CACHES,
        cache_limit: CEILING_BYTES / CACHES as u64,
        env: format!("{}={}", MALLOC_ARENA_MAX.0, MALLOC_ARENA_MAX.1),
        idle_rss,
        rss,
        peak_rss,
        written,
        requests,
        accounted: accounted.iter().sum(),
    };
    let mib = |b: u64| b as f64 / 1048576.0;
    eprintln!(
        "  faas-cache-serve RSS: idle {:.1} MiB, after {:.0} MiB written {:.1} MiB (peak {:.1} MiB, caches {:.1} MiB)",
        mib(m.idle_rss),
        mib(m.written),
        mib(m.rss),
        mib(m.peak_rss),
        mib(m.accounted)
    );
    Ok(m)
}

// ---------------------------------------------------------------------------------------------

/// Measures the section.
pub fn run(root: &Path, plan: &Plan) -> Result<Serve, String> {
    eprintln!("caches that outlive the instance (faas-cache-serve)");
    let engine = engine().map_err(err)?;
    let linker = linker(&engine).map_err(err)?;
    let app = Component::new(&engine, faas_cache_artifact::SERVE_APP_COMPONENT)
        .map_err(|e| format!("compile the serve app: {e:#}"))?;
    let composed = compose(
        faas_cache_artifact::SERVE_APP_COMPONENT,
        faas_cache_artifact::COMPONENT,
    )?;
    let composed = Component::new(&engine, composed)
        .map_err(|e| format!("compile the composed app: {e:#}"))?;
    let fresh = Reuse::one_at_a_time(1, Duration::from_secs(1));
    let apps = [
        (COMPOSED_FRESH.0, &composed, fresh),
        (
            COMPOSED_REUSE.0,
            &composed,
            Reuse::one_at_a_time(128, Duration::from_secs(1)),
        ),
        (PROVIDED.0, &app, fresh),
        (
            CEILING.0,
            &composed,
            Reuse::one_at_a_time(usize::MAX, CEILING_IDLE),
        ),
    ]
    .into_iter()
    .map(|(prefix, component, reuse)| {
        App::from_component(
            &engine,
            &linker,
            prefix.into(),
            component,
            Scope::new(ScopeLimits::default()),
            reuse,
            None,
            None,
        )
        .map_err(|e| format!("{prefix}: {e:#}"))
    })
    .collect::<Result<Vec<_>, _>>()?;
    let server = InProcess::start(apps)?;
    let hit = hit_rates(server.addr, plan)?;
    let streamed = Instant::now();
    let get = get_cost(server.addr, plan)?;
    let throughput = throughput(server.addr, plan)?;
    // The reused instances end at their idle timeouts: a runtime stopped under them would drop
    // them mid-flight, which the server reports as a panicked worker.
    std::thread::sleep(
        (CEILING_IDLE + Duration::from_millis(500)).saturating_sub(streamed.elapsed()),
    );
    drop(server);
    let lock = lock_cost(plan)?;
    let memory = match memory(root, plan) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("bench: SKIPPED the memory part of section 11: {e}");
            None
        }
    };
    Ok(Serve {
        keys: plan.keys,
        requests: plan.requests,
        hit,
        get,
        clients: plan.clients,
        seconds: plan.seconds,
        throughput,
        lock,
        memory,
    })
}
