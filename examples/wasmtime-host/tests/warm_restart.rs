//! Runs `faas-host` twice on one snapshot file: the first start is cold, the second restores the
//! first run's entries and serves more hits (a warm cache after a cold start). Then a run under
//! S3-FIFO, whose policy survives the restart, and the two policies compared on one stream.

use std::process::Command;

fn run(snapshot: &std::path::Path, fresh: bool) -> String {
    run_with(snapshot, fresh, &[])
}

fn run_with(snapshot: &std::path::Path, fresh: bool, extra: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faas-host"));
    cmd.args(["--requests", "400", "--keys", "300", "--baseline", "20"])
        .args(extra)
        .args(["--backend-ms", "0.05..0.2"])
        .arg("--snapshot")
        .arg(snapshot);
    if fresh {
        cmd.arg("--fresh");
    }
    let out = cmd.output().expect("run faas-host");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "faas-host failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The hit rate the host printed, in percent.
fn hit_rate(out: &str) -> f64 {
    let at = out.find("hit rate ").expect("a hit rate line") + "hit rate ".len();
    out[at..].split('%').next().unwrap().parse().unwrap()
}

#[test]
fn warm_restart_restores_the_snapshot_and_serves_more_hits() {
    let dir = std::env::temp_dir().join(format!("faas-host-test-{}", std::process::id()));
    let snapshot = dir.join("cache.snapshot");
    let cold = run(&snapshot, true);
    assert!(cold.contains("cold cache"), "{cold}");
    assert!(snapshot.exists());
    let warm = run(&snapshot, false);
    let restored: u32 = warm
        .split("restored ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no warm start in: {warm}"));
    assert!(restored > 50, "{warm}");
    assert!(
        hit_rate(&warm) > hit_rate(&cold),
        "cold:\n{cold}\nwarm:\n{warm}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The two hit rates of the "policies on one stream" line: (lru, s3-fifo), in percent.
fn compared(out: &str) -> (f64, f64) {
    let line = out
        .lines()
        .find(|l| l.starts_with("policies on one stream"))
        .unwrap_or_else(|| panic!("no policy comparison in: {out}"));
    let rate = |name: &str| -> f64 {
        let at = line.find(name).expect(name) + name.len();
        line[at..]
            .split('%')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (rate("hit rate lru "), rate("s3-fifo "))
}

#[test]
fn s3fifo_survives_the_restart_and_the_comparison_shows_both_policies() {
    let dir = std::env::temp_dir().join(format!("faas-host-s3-{}", std::process::id()));
    let snapshot = dir.join("cache.snapshot");
    let small = ["--policy", "s3-fifo", "--compare-requests", "5000"];
    let cold = run_with(&snapshot, true, &small);
    assert!(cold.contains("eviction policy: s3-fifo"), "{cold}");
    // The restored cache keeps the snapshot's policy, whatever --policy says.
    let warm = run_with(&snapshot, false, &["--policy", "lru"]);
    assert!(warm.contains("eviction policy: s3-fifo"), "{warm}");
    let (lru, s3) = compared(&cold);
    assert!(lru > 0.0 && s3 > lru, "{cold}");
    let _ = std::fs::remove_dir_all(&dir);
}
