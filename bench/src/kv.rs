//! Section 7 of the report: the `faas:kv-l1` tier in front of a real Redis on loopback. The
//! baseline, measured in the same run, is a Redis `GET` from a native client. Then: an L1 hit and
//! an L1 miss called on the L1's own exports; the example app reading through the host straight
//! to Redis, and the same app with the L1 plugged in (`wac plug`); and a Zipf(1) workload of 90%
//! reads and 10% writes over 10,000 keys through the app, without and with the L1, which gives
//! the Redis round trips saved. Invariant: every case reads keys that exist in Redis with the same
//! 100-byte values, on the system clock, against one private `redis-server`.

use serde::{Deserialize, Serialize};

use faas_kv_l1_host::guest::SimulatedTime;
use faas_kv_l1_host::{AppGuest, Clock, L1Guest, RedisServer};

use crate::measure::{per_op, repeat, Sample};
use crate::workload::{mixed_plan, Rng, Step};

/// One case: time per operation and Redis round trips per operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KvRow {
    pub case: String,
    pub time: Sample,
    pub round_trips_per_op: f64,
}

/// Keys the latency cases read (all present in Redis, and in L1 once warm).
const HOT_KEYS: usize = 1_000;
/// Keys of the Zipf workload.
const ZIPF_KEYS: usize = 10_000;
/// L1 TTL for the hit cases: longer than any run, so every read is a hit.
const LONG_TTL: (&str, &str) = ("l1_ttl_seconds", "3600");

fn value() -> String {
    "v".repeat(100)
}

fn key(i: usize) -> String {
    format!("key:{i}")
}

/// Runs every case; `Err` when `redis-server` cannot be started.
pub fn run(runs: usize, ops: usize) -> Result<Vec<KvRow>, String> {
    let server = RedisServer::start().map_err(|e| e.to_string())?;
    let url = server.url();
    let mut direct = server.connection().map_err(|e| e.to_string())?;
    let mut preload = redis::pipe();
    for i in 0..ZIPF_KEYS {
        preload.set(format!("default:{}", key(i)), value()).ignore();
    }
    preload
        .query::<()>(&mut direct)
        .map_err(|e| format!("preloading Redis: {e}"))?;
    let mut rows = Vec::new();
    let mut rng = Rng::new(7);
    let mut picks =
        |n: usize| -> Vec<String> { (0..n).map(|_| key(rng.below(HOT_KEYS))).collect() };

    // Baseline: one GET from a native client.
    let keys = picks(ops);
    let time = repeat(runs, || {
        per_op(ops, || {
            for k in &keys {
                let v: Option<Vec<u8>> = redis::cmd("GET")
                    .arg(format!("default:{k}"))
                    .query(&mut direct)
                    .expect("GET");
                assert!(v.is_some());
            }
        })
    });
    rows.push(KvRow {
        case: "Redis GET, native client (baseline)".into(),
        time,
        round_trips_per_op: 1.0,
    });

    // The L1's own exports: a hit, and a miss (TTL 0: every entry is expired at the next read).
    for (case, ttl) in [
        ("L1 get, hit (wasmtime call into faas:kv-l1)", LONG_TTL.1),
        ("L1 get, miss (L1, then the host's Redis GET)", "0"),
    ] {
        let mut g = L1Guest::with_clock(&url, Clock::System, &[("l1_ttl_seconds", ttl)]);
        let b = g.open("default").map_err(|e| format!("open: {e:?}"))?;
        for i in 0..HOT_KEYS {
            g.get(b, &key(i)).map_err(|e| format!("warm-up: {e:?}"))?;
        }
        let before = g.round_trips();
        let time = repeat(runs, || {
            per_op(ops, || {
                for k in &keys {
                    assert!(g.get(b, k).expect("get").is_some());
                }
            })
        });
        let trips = (g.round_trips() - before) as f64 / (ops * runs.max(1)) as f64;
        rows.push(KvRow {
            case: case.into(),
            time,
            round_trips_per_op: trips,
        });
    }

    // The app's `get`, without and with the L1 plugged in.
    for (case, with_l1) in [
        ("app get, host straight to Redis (no L1)", false),
        ("app get, L1 plugged in with wac (hit)", true),
    ] {
        let mut app = if with_l1 {
            AppGuest::with_l1(&url, Clock::System, &[LONG_TTL])
        } else {
            AppGuest::direct(&url, Clock::System)
        };
        let commands: Vec<String> = keys.iter().map(|k| format!("get {k}")).collect();
        for i in 0..HOT_KEYS {
            app.run("default", &format!("get {}", key(i)));
        }
        let before = app.round_trips();
        let time = repeat(runs, || {
            per_op(ops, || {
                for c in &commands {
                    assert!(app.run("default", c).starts_with("some("));
                }
            })
        });
        let trips = (app.round_trips() - before) as f64 / (ops * runs.max(1)) as f64;
        rows.push(KvRow {
            case: case.into(),
            time,
            round_trips_per_op: trips,
        });
    }

    // A Zipf(1) workload through the app: 90% get, 10% set, 10,000 keys, the L1 cold at start.
    let plan = mixed_plan(ZIPF_KEYS, ops, 11);
    let commands: Vec<String> = plan
        .iter()
        .map(|step| match *step {
            Step::Get(i) => format!("get {}", key(i)),
            Step::Set(i) => format!("set {} {}", key(i), value()),
        })
        .collect();
    for (case, with_l1) in [
        ("Zipf 90/10 through the app, no L1", false),
        ("Zipf 90/10 through the app, L1 (5 s TTL, 16 MiB)", true),
    ] {
        let mut samples = Vec::new();
        let mut trips = 0u64;
        for _ in 0..runs.max(1) {
            let mut app = if with_l1 {
                AppGuest::with_l1(&url, Clock::System, &[])
            } else {
                AppGuest::direct(&url, Clock::System)
            };
            let before = app.round_trips();
            samples.push(per_op(ops, || {
                for c in &commands {
                    let answer = app.run("default", c);
                    assert!(!answer.starts_with("error"), "{answer}");
                }
            }));
            trips += app.round_trips() - before;
        }
        rows.push(KvRow {
            case: case.into(),
            time: Sample::of(samples),
            round_trips_per_op: trips as f64 / (ops * runs.max(1)) as f64,
        });
    }
    Ok(rows)
}
