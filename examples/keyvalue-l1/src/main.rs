//! The L1 example end to end: starts a private `redis-server`, plugs `faas:kv-l1` into the
//! example app (what `wac plug kv_app.wasm --plug faas_kv_l1.wasm` does), and shows the same
//! unchanged app with and without the L1: Redis round trips saved on a Zipf workload, the
//! staleness bound, and a Redis outage. Run it with `cargo run -p faas-kv-l1-example --bin
//! kv-l1-demo` (`cargo xtask demo` runs it too).

use std::time::Instant;

use faas_kv_l1_host::guest::SimulatedTime;
use faas_kv_l1_host::{compose, AppGuest, Clock, RedisServer, START_NANOS};

const KEYS: usize = 10_000;
const REQUESTS: usize = 20_000;

/// A Zipf(1) rank over `0..n` from a uniform draw (inverse of the harmonic CDF, by search).
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        Zipf(
            (1..=n)
                .map(|r| {
                    total += 1.0 / r as f64;
                    total
                })
                .collect(),
        )
    }

    fn draw(&self, state: &mut u64) -> usize {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let unit = (*state >> 11) as f64 / (1u64 << 53) as f64;
        let x = unit * self.0[self.0.len() - 1];
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }
}

fn workload() -> Vec<String> {
    let zipf = Zipf::new(KEYS);
    let mut state = 42u64;
    (0..REQUESTS)
        .map(|i| {
            let k = zipf.draw(&mut state);
            if i % 10 == 9 {
                format!("set item:{k} updated-{i}")
            } else {
                format!("get item:{k}")
            }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut server = RedisServer::start()?;
    let url = server.url();
    println!("1. redis-server on {url}");
    let mut redis = server.connection()?;
    let mut preload = redis::pipe();
    for k in 0..KEYS {
        preload
            .set(format!("default:item:{k}"), format!("value-{k}"))
            .ignore();
    }
    preload.query::<()>(&mut redis)?;

    let composed = compose(
        faas_cache_artifact::KV_APP_COMPONENT,
        faas_cache_artifact::KV_L1_COMPONENT,
    )?;
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/kv_app_with_l1.wasm");
    std::fs::write(&out, &composed)?;
    println!(
        "2. wac plug kv_app.wasm ({} B) --plug faas_kv_l1.wasm ({} B) -> {} ({} B)",
        faas_cache_artifact::KV_APP_COMPONENT.len(),
        faas_cache_artifact::KV_L1_COMPONENT.len(),
        out.canonicalize()?.display(),
        composed.len()
    );

    let requests = workload();
    println!("3. The same app, {REQUESTS} requests, Zipf(1) over {KEYS} keys, 90% get / 10% set:");
    let mut figures = Vec::new();
    for (label, with_l1) in [("without L1", false), ("with L1   ", true)] {
        let mut app = if with_l1 {
            AppGuest::with_l1(&url, Clock::System, &[])
        } else {
            AppGuest::direct(&url, Clock::System)
        };
        let start = Instant::now();
        for r in &requests {
            let answer = app.run("default", r);
            assert!(!answer.starts_with("error"), "{r}: {answer}");
        }
        let secs = start.elapsed().as_secs_f64();
        let trips = app.round_trips();
        println!(
            "   {label}: {trips:>6} Redis round trips, {:>8.0} requests/s",
            REQUESTS as f64 / secs
        );
        figures.push((trips, secs));
    }
    let (without, with) = (figures[0], figures[1]);
    println!(
        "   the L1 saved {:.1}% of round trips; {:.1}x the throughput",
        100.0 * (1.0 - with.0 as f64 / without.0 as f64),
        without.1 / with.1
    );

    println!("4. Staleness bound (simulated clock, L1 TTL 5 s):");
    let mut app = AppGuest::with_l1(
        &url,
        Clock::Simulated(START_NANOS),
        &[("l1_ttl_seconds", "5")],
    );
    println!("   get item:1 -> {}", app.run("default", "get item:1"));
    redis::cmd("SET")
        .arg("default:item:1")
        .arg("changed-behind-l1")
        .query::<()>(&mut redis)?;
    app.advance(4.0);
    println!(
        "   another client changed it; +4 s: get -> {} (L1, stale)",
        app.run("default", "get item:1")
    );
    app.advance(1.001);
    println!(
        "   +5.001 s: get -> {} (the TTL bounds staleness)",
        app.run("default", "get item:1")
    );

    println!("5. Redis outage:");
    server.stop();
    println!(
        "   stopped; get item:1 (cached) -> {}",
        app.run("default", "get item:1")
    );
    println!(
        "   get item:2 (not cached) -> {}",
        app.run("default", "get item:2")
    );
    println!("   set item:1 x -> {}", app.run("default", "set item:1 x"));
    println!(
        "   get item:1 -> {} (a failed write left L1 unchanged)",
        app.run("default", "get item:1")
    );
    server.restart()?;
    println!(
        "   restarted (empty): set item:2 back -> {}; get item:2 -> {}",
        app.run("default", "set item:2 back"),
        app.run("default", "get item:2")
    );
    Ok(())
}
