//! `faas-cache-serve` driven as its users drive it: the built binary, started with the issue's
//! command line, over real HTTP, with the test app (`hosts/faas-cache-serve/app`). Each test
//! starts its own server on a free port and stops it with SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;

const APP: &str = faas_cache_artifact::SERVE_APP_PATH;

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faas-cache-serve-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_fresh_instance_per_request_still_gets_hits() {
    let server = Server::start(&[APP]);
    let first = server.get("/item?key=a");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-cache"), Some("miss"));
    for _ in 0..3 {
        let again = server.get("/item?key=a");
        assert_eq!(again.header("x-cache"), Some("hit"));
        assert_eq!(again.body, first.body);
    }
    // Every request had an instance of its own (the default --reuse 1).
    for _ in 0..3 {
        assert_eq!(server.get("/?op=instance").body, "1");
    }
    assert_eq!(
        server
            .get("/?op=stats&cache=items&max=4M&ttl=60")
            .body
            .split(' ')
            .next(),
        Some("hits=3")
    );
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn reuse_serves_up_to_n_requests_per_instance() {
    let server = Server::start(&["--reuse", "3", APP]);
    let seen: Vec<String> = (0..7).map(|_| server.get("/?op=instance").body).collect();
    assert_eq!(seen, ["1", "2", "3", "1", "2", "3", "1"]);
    assert!(server.stop().0.success());
}

#[test]
fn the_longest_prefix_wins_and_each_app_has_its_own_scope() {
    let app = |prefix: &str| format!("{prefix}={APP}");
    let server = Server::start(&[
        "--app",
        &app("/api"),
        "--app",
        &app("/api/v2"),
        "--app",
        &app("/static"),
    ]);
    let set = server.get("/api/v2/anything?op=set&cache=c&key=k&value=v2");
    assert_eq!((set.status, set.body.as_str()), (200, "stored"));
    assert_eq!(
        set.header("x-path"),
        Some("/api/v2/anything"),
        "the app sees the whole path"
    );
    assert_eq!(server.get("/api/v2?op=get&cache=c&key=k").body, "v2");
    // /api is another app: another scope.
    assert_eq!(server.get("/api?op=names").body, "");
    assert_eq!(server.get("/api/x?op=get&cache=c&key=k").status, 404);
    assert_eq!(server.get("/api/v2?op=names").body, "c");
    assert_eq!(server.get("/nowhere").status, 404);
    // Prefixes match at a segment boundary: /static serves /static and /static/..., not /statics.
    assert_eq!(server.get("/static?op=names").status, 200);
    assert_eq!(server.get("/statics?op=names").status, 404);
    assert!(server.stop().0.success());
}

#[test]
fn the_ceiling_the_cap_on_names_and_hostile_names_are_clear_errors() {
    let server = Server::start(&["--ceiling", "2M", "--max-names", "2", APP]);
    let open = |q: &str| server.get(&format!("/?op=open&{q}"));
    assert_eq!(open("cache=a&max=1M").status, 200);
    assert_eq!(open("cache=a&max=none").body, "out-of-memory");
    assert_eq!(open("cache=b&max=1.5M").body, "out-of-memory");
    assert_eq!(open("cache=b&max=1M").status, 200);
    assert_eq!(open("cache=a&max=1.5M").body, "out-of-memory");
    assert_eq!(open("cache=c&max=1K").body, "out-of-memory");
    for bad in ["", "%00", "a%0Ab", "%7F", "%C2%85", &"n".repeat(256)] {
        let r = open(&format!("cache={bad}&max=1K"));
        assert_eq!(r.status, 409, "{bad:?}");
        assert!(
            r.body.starts_with("invalid-argument: name"),
            "{bad:?}: {}",
            r.body
        );
    }
    assert_eq!(
        open(&format!("cache={}&max=1K", "n".repeat(255))).body,
        "out-of-memory"
    );
    assert!(open("cache=a&max=12X").body.starts_with("invalid-argument"));
    assert_eq!(server.get("/?op=names").body, "a\nb");
    // A cache of the instance's own takes any settings, as in `cache` (the host keeps it within
    // the ceiling by eviction).
    assert_eq!(server.get("/?op=create&max=none").status, 200);
    assert_eq!(server.get("/?op=create&max=1M").status, 200);
    assert!(server.stop().0.success());
}

#[test]
fn a_trapping_guest_gets_a_500_and_nothing_else_is_affected() {
    for reuse in ["1", "4"] {
        let server = Server::start(&["--reuse", reuse, APP]);
        assert_eq!(server.get("/?op=set&cache=c&key=k&value=kept").status, 200);
        assert_eq!(server.get("/?op=trap").status, 500);
        assert_eq!(server.get("/?op=get&cache=c&key=k").body, "kept");
        assert_eq!(server.get("/?op=trap").status, 500);
        assert_eq!(server.get("/?op=get&cache=c&key=k").status, 200);
        let (status, stderr) = server.stop();
        assert!(status.success());
        assert!(
            stderr.contains("unreachable") || stderr.contains("failed"),
            "{stderr}"
        );
    }
}

#[test]
fn a_guest_that_never_returns_expires_and_holds_nothing() {
    let server = Server::start(&["--request-timeout", "1", APP]);
    assert_eq!(server.get("/?op=set&cache=c&key=k&value=kept").status, 200);
    let started = Instant::now();
    // Three at once on 2 cores: a looping guest yields every epoch tick, so it holds no thread.
    let addr = server.addr.clone();
    let spinning: Vec<_> = (0..3)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || common::get(&addr, "/?op=spin").status)
        })
        .collect();
    // Meanwhile others are served.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.get("/?op=get&cache=c&key=k").body, "kept");
    for s in spinning {
        assert_eq!(s.join().unwrap(), 500);
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert_eq!(server.get("/?op=get&cache=c&key=k").body, "kept");
    // A spinning request in flight does not hold the exit.
    let addr = server.addr.clone();
    let _spin = std::thread::spawn(move || common::get(&addr, "/?op=spin"));
    std::thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    let (status, _) = server.stop();
    assert!(status.success());
    assert!(stopping.elapsed() < Duration::from_secs(15));
}

#[test]
fn the_state_file_keeps_caches_and_absolute_expiry_across_restarts() {
    let dir = temp_dir("state");
    let file = dir.join("state.bin");
    let state = file.to_str().unwrap();
    let server = Server::start(&[
        "--state",
        state,
        "--app",
        &format!("/a={APP}"),
        "--app",
        &format!("/b={APP}"),
    ]);
    assert_eq!(
        server.get("/a?op=set&cache=x&key=k&value=1&ttl=100").status,
        200
    );
    assert_eq!(
        server
            .get("/a?op=set&cache=y&key=short&value=2&ttl=0.5")
            .status,
        200
    );
    assert_eq!(server.get("/b?op=set&cache=x&key=k&value=b").status, 200);
    let (status, _) = server.stop();
    assert!(status.success());
    assert!(file.exists());
    let left = Instant::now();

    // Only /a this time: /b's caches are kept in the file, not lost.
    let server = Server::start(&["--state", state, "--app", &format!("/a={APP}")]);
    assert_eq!(server.get("/a?op=names").body, "x\ny");
    assert_eq!(server.get("/a?op=get&cache=x&key=k").body, "1");
    let ttl: f64 = server.get("/a?op=ttl&cache=x&key=k").body.parse().unwrap();
    assert!(
        ttl <= 100.0 - left.elapsed().as_secs_f64() + 0.01 && ttl > 80.0,
        "{ttl}"
    );
    std::thread::sleep(Duration::from_millis(600).saturating_sub(left.elapsed()));
    assert_eq!(server.get("/a?op=get&cache=y&key=short").status, 404);
    assert!(server.stop().0.success());

    let server = Server::start(&["--state", state, "--app", &format!("/b={APP}")]);
    assert_eq!(server.get("/b?op=get&cache=x&key=k").body, "b");
    assert!(server.stop().0.success());

    // A FILE whose directory does not exist yet: it is made at the save.
    let nested = dir.join("new/dir/state.bin");
    let server = Server::start(&["--state", nested.to_str().unwrap(), APP]);
    assert_eq!(server.get("/?op=set&cache=x&key=k&value=1").status, 200);
    assert!(server.stop().0.success());
    assert!(nested.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

fn corrupt_state_is_moved_aside(test: &str, damage: impl Fn(&Path)) {
    let dir = temp_dir(test);
    let file = dir.join("state.bin");
    let state = file.to_str().unwrap();
    let server = Server::start(&["--state", state, APP]);
    assert_eq!(server.get("/?op=set&cache=x&key=k&value=1").status, 200);
    assert!(server.stop().0.success());
    damage(&file);

    let server = Server::start(&["--state", state, APP]);
    assert_eq!(server.get("/?op=names").body, "", "starts empty");
    assert_eq!(server.get("/?op=set&cache=z&key=k&value=new").status, 200);
    let (status, stderr) = server.stop();
    assert!(status.success());
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(dir.join("state.bin.corrupt").exists());
    // The new state was written whole.
    let server = Server::start(&["--state", state, APP]);
    assert_eq!(server.get("/?op=get&cache=z&key=k").body, "new");
    assert!(server.stop().0.success());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_the_server_starts_empty() {
    corrupt_state_is_moved_aside("corrupt", |file| {
        let mut bytes = std::fs::read(file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(file, bytes).unwrap();
    });
}

#[test]
fn a_truncated_state_file_is_moved_aside_and_the_server_starts_empty() {
    corrupt_state_is_moved_aside("truncated", |file| {
        let bytes = std::fs::read(file).unwrap();
        std::fs::write(file, &bytes[..bytes.len() - 7]).unwrap();
    });
}

#[test]
fn sigterm_under_load_writes_a_whole_state_file() {
    let dir = temp_dir("load");
    let file = dir.join("state.bin");
    let state = file.to_str().unwrap();
    let server = Server::start(&["--state", state, APP]);
    let addr = server.addr.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|t| {
            let addr = addr.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut stored = 0u32;
                for i in 0..2_000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let Ok(mut stream) = TcpStream::connect(&addr) else {
                        break;
                    };
                    let _ = write!(
                        stream,
                        "GET /?op=set&cache=load&key=t{t}-{i}&value={i} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
                    );
                    let mut raw = String::new();
                    let _ = stream.read_to_string(&mut raw);
                    if raw.starts_with("HTTP/1.1 200") {
                        stored += 1;
                    }
                }
                stored
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let (status, _) = server.stop();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let stored: u32 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(status.success());
    assert!(stored > 0);
    let server = Server::start(&["--state", state, APP]);
    let stats = server.get("/?op=stats&cache=load").body;
    let len: u32 = stats
        .split(' ')
        .find_map(|f| f.strip_prefix("len="))
        .unwrap()
        .parse()
        .unwrap();
    // Every write acknowledged before the signal is in the file (the 1 MiB cache holds them all).
    assert!(len >= stored, "{len} restored, {stored} acknowledged");
    eprintln!("SIGTERM under load: {stored} writes acknowledged, {len} restored after the restart");
    assert!(server.stop().0.success());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_command_lines_fail_before_starting() {
    let out = Command::new(env!("CARGO_BIN_EXE_faas-cache-serve"))
        .args(["--ceiling", "12X", APP])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_faas-cache-serve"))
        .args(["--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app"));
    let out = Command::new(env!("CARGO_BIN_EXE_faas-cache-serve"))
        .args(["--addr", "127.0.0.1:0", "/nonexistent.wasm"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
