//! Section 7b of the report: the L1 held by the host (`faas-cache-serve --keyvalue`), in front of
//! a private `redis-server`, with a fresh instance of the test app per request. Three parts, one
//! run: the Redis round trips a Zipf(1) workload of 90% reads and 10% writes over 10,000 keys
//! needs per request, and the requests per second, with no L1 (an L1 whose entries never outlive
//! their read: TTL 0, untracked) and with the host's L1 (its defaults); the staleness after a
//! plain Redis client's write, until two hosts on the same Redis both serve the new value
//! (measured by polling both over HTTP, never slept for); and what tracking adds to an L1 miss,
//! untracked and tracked runs interleaved. Invariant: every case runs against the same Redis
//! with the same preloaded keys and the same request sequence.

use std::sync::Arc;
use std::time::{Duration, Instant};

use faas_cache_provider::{Scope, ScopeClock, ScopeLimits};
use faas_cache_serve::{engine, linker, App, AppKv, Reuse};
use faas_kv_l1_core::Settings;
use faas_kv_l1_host::RedisServer;
use faas_kv_provider::AppL1;
use serde::{Deserialize, Serialize};
use wasmtime::component::Component;

use crate::measure::{per_op, Sample};
use crate::serve::{Client, InProcess};
use crate::workload::{mixed_plan, Step};

/// One setup of the workload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KvHostRow {
    pub case: String,
    pub requests: u64,
    pub round_trips_per_request: f64,
    pub requests_per_second: f64,
}

/// Everything the section measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KvHost {
    pub rows: Vec<KvHostRow>,
    /// Microseconds from a plain client's `SET` until both hosts serve the new value.
    pub staleness_us: Vec<f64>,
    /// An L1 miss (`get` on the host's L1, straight to Redis): untracked and tracked.
    pub miss_untracked: Sample,
    pub miss_tracked: Sample,
}

impl KvHost {
    /// The `q` quantile (0 to 1) of the staleness, in microseconds.
    pub fn staleness(&self, q: f64) -> f64 {
        quantile(&self.staleness_us, q)
    }

    /// The share of Redis round trips the host's L1 saves against no L1.
    pub fn saving(&self) -> Option<f64> {
        let none = self.rows.first()?.round_trips_per_request;
        let l1 = self.rows.get(1)?.round_trips_per_request;
        (none > 0.0).then(|| 1.0 - l1 / none)
    }
}

/// How much the section measures.
pub struct Plan {
    pub requests: usize,
    pub writes: usize,
    pub misses: usize,
    pub runs: usize,
}

const KEYS: usize = 10_000;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn l1(url: &str, settings: Settings, tracked: bool) -> Result<AppKv, String> {
    let buckets = ["default".to_string()];
    let seed = (3, 4);
    let l1 = if tracked {
        AppL1::new(url, &buckets, settings, ScopeClock::System, seed)?
    } else {
        AppL1::untracked(url, &buckets, settings, ScopeClock::System, seed)?
    };
    let start = Instant::now();
    while tracked && !l1.tracking() {
        if start.elapsed() > Duration::from_secs(10) {
            return Err("tracking did not come up".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(Arc::new(l1))
}

fn no_l1() -> Settings {
    Settings {
        ttl_seconds: 0.0,
        ..Settings::default()
    }
}

fn served(component: &Component, kv: AppKv) -> Result<InProcess, String> {
    let engine = component.engine();
    let linker = linker(engine).map_err(err)?;
    let app = App::from_component(
        engine,
        &linker,
        "/".into(),
        component,
        Scope::new(ScopeLimits::default()),
        Reuse::one_at_a_time(1, Duration::from_secs(1)),
        None,
        Some(kv),
    )
    .map_err(|e| format!("{e:#}"))?;
    InProcess::start(vec![app])
}

/// Measures the section; `Err` when `redis-server` cannot be started.
pub fn run(plan: &Plan) -> Result<KvHost, String> {
    eprintln!("the host's L1 in front of Redis (faas-cache-serve --keyvalue)");
    let redis = RedisServer::start().map_err(err)?;
    let url = redis.url();
    let mut plain = redis.connection().map_err(err)?;
    let value = "v".repeat(100);
    let mut preload = redis::pipe();
    for i in 0..KEYS {
        preload.set(format!("default:key:{i}"), &value).ignore();
    }
    preload.query::<()>(&mut plain).map_err(err)?;
    let engine = engine().map_err(err)?;
    let component =
        Component::new(&engine, faas_cache_artifact::SERVE_APP_COMPONENT).map_err(err)?;

    // Part 1: the workload, per-request instances, without and with the host's L1.
    let paths: Vec<String> = mixed_plan(KEYS, plan.requests, 11)
        .into_iter()
        .map(|step| match step {
            Step::Get(i) => format!("/?op=kv-get&key=key:{i}"),
            Step::Set(i) => format!("/?op=kv-set&key=key:{i}&value={value}"),
        })
        .collect();
    let mut rows = Vec::new();
    for (case, settings, tracked) in [
        ("no L1 (every read goes to Redis)", no_l1(), false),
        (
            "the host's L1 (5 s TTL, 16 MiB, S3-FIFO, tracked)",
            Settings::default(),
            true,
        ),
    ] {
        let kv = l1(&url, settings, tracked)?;
        let server = served(&component, kv.clone())?;
        let mut client = Client::new(server.addr);
        let before = kv.round_trips();
        let start = Instant::now();
        for path in &paths {
            let reply = client.get(path)?;
            if reply.status != 200 && reply.status != 404 {
                return Err(format!(
                    "{path}: {} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ));
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let trips = kv.round_trips() - before;
        let row = KvHostRow {
            case: case.into(),
            requests: paths.len() as u64,
            round_trips_per_request: trips as f64 / paths.len() as f64,
            requests_per_second: paths.len() as f64 / seconds,
        };
        eprintln!(
            "  {:<52} {:.3} round trips/request, {:.0} requests/s",
            row.case, row.round_trips_per_request, row.requests_per_second
        );
        rows.push(row);
    }

    // Part 2: staleness after a plain client's write, two hosts on one Redis.
    let hosts = [
        served(&component, l1(&url, Settings::default(), true)?)?,
        served(&component, l1(&url, Settings::default(), true)?)?,
    ];
    let mut clients: Vec<Client> = hosts.iter().map(|h| Client::new(h.addr)).collect();
    let path = "/?op=kv-get&key=stale-probe";
    let mut staleness_us = Vec::with_capacity(plan.writes);
    for i in 0..plan.writes {
        let want = format!("w{i}");
        // Both hosts hold the old value (a hit each) before the write.
        for c in &mut clients {
            c.get(path)?;
            c.get(path)?;
        }
        redis::cmd("SET")
            .arg("default:stale-probe")
            .arg(&want)
            .query::<()>(&mut plain)
            .map_err(err)?;
        let start = Instant::now();
        let mut seen = [false, false];
        while !(seen[0] && seen[1]) {
            for (c, s) in clients.iter_mut().zip(seen.iter_mut()) {
                if !*s {
                    *s = c.get(path)?.body == want.as_bytes();
                }
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err(format!("write {i} not seen after 10 s"));
            }
        }
        staleness_us.push(start.elapsed().as_secs_f64() * 1e6);
    }
    drop(clients);
    drop(hosts);
    eprintln!(
        "  staleness over {} writes: p50 {:.0} µs, p99 {:.0} µs",
        staleness_us.len(),
        quantile(&staleness_us, 0.5),
        quantile(&staleness_us, 0.99)
    );

    // Part 3: an L1 miss, untracked and tracked (TTL 0: every read misses), interleaved.
    let untracked = l1(&url, no_l1(), false)?;
    let tracked = l1(&url, no_l1(), true)?;
    let keys: Vec<String> = (0..plan.misses)
        .map(|i| format!("key:{}", i % KEYS))
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs.max(1) {
        for (l1, samples) in [(&untracked, &mut a), (&tracked, &mut b)] {
            samples.push(per_op(keys.len(), || {
                for k in &keys {
                    assert!(l1.get("default", k).expect("get").is_some());
                }
            }));
        }
    }
    let (miss_untracked, miss_tracked) = (Sample::of(a), Sample::of(b));
    eprintln!(
        "  L1 miss: untracked {:.0} ns, tracked {:.0} ns",
        miss_untracked.ns, miss_tracked.ns
    );
    Ok(KvHost {
        rows,
        staleness_us,
        miss_untracked,
        miss_tracked,
    })
}

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}
