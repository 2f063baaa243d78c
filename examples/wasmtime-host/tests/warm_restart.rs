//! Runs `faas-host` twice on one snapshot file: the first start is cold, the second restores the
//! first run's entries and serves more hits (a warm cache after a cold start).

use std::process::Command;

fn run(snapshot: &std::path::Path, fresh: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faas-host"));
    cmd.args(["--requests", "400", "--keys", "300", "--baseline", "20"])
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
