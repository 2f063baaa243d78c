//! `faas-cache-serve --keyvalue` against a real `redis-server`: two server processes on one
//! Redis, each serving the test app with a fresh instance per request. A write through one, or by
//! a plain Redis client, is seen by the other's next read (the delay is measured, not slept
//! for); the L1 hits across per-request instances; buckets map to `B:K`; other buckets get
//! `no-such-store`; with tracking killed the L1 empties and nothing Redis holds is lost; a bad
//! L1 setting is refused at start; without `--keyvalue`, `open` says what is missing.

mod common;

use common::Server;
use faas_cache_artifact::SERVE_APP_PATH;
use faas_kv_l1_host::redis_server::{until, RedisServer};

fn serve(redis: &RedisServer, extra: &[&str]) -> Server {
    let url = redis.url();
    let mut args = vec![
        SERVE_APP_PATH,
        "--keyvalue",
        url.as_str(),
        "--buckets",
        "default,b",
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

#[test]
fn two_servers_on_one_redis_see_each_others_writes_and_the_l1_outlives_instances() {
    let Ok(redis) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let (a, b) = (serve(&redis, &[]), serve(&redis, &[]));
    assert_eq!(a.get("/?op=kv-set&key=k&value=one").status, 200);
    let r = b.get("/?op=kv-get&key=k");
    assert_eq!((r.status, r.body.as_str()), (200, "one"));

    // The L1 outlives the per-request instances: the next reads do not reach Redis.
    let mut plain = redis.connection().unwrap();
    let calls = |c: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = calls(&mut plain);
    for _ in 0..20 {
        assert_eq!(b.get("/?op=kv-get&key=k").body, "one");
    }
    let after = calls(&mut plain);
    assert!(
        after - before <= 2,
        "{} commands for 20 hits",
        after - before
    );

    // A write through `a` is seen by `b`'s next read.
    assert_eq!(a.get("/?op=kv-set&key=k&value=two").status, 200);
    let delay = until("b sees a's write", || {
        b.get("/?op=kv-get&key=k").body == "two"
    });
    eprintln!("a's write seen through b after {delay:?}");
    // And a plain client's, in the same key space.
    redis::cmd("SET")
        .arg("default:k")
        .arg("three")
        .query::<()>(&mut plain)
        .unwrap();
    until("the plain client's write", || {
        a.get("/?op=kv-get&key=k").body == "three" && b.get("/?op=kv-get&key=k").body == "three"
    });
    let stored: String = redis::cmd("GET")
        .arg("default:k")
        .query(&mut plain)
        .unwrap();
    assert_eq!(stored, "three");
    assert_eq!(b.get("/?op=kv-set&bucket=b&key=k&value=in-b").status, 200);
    let stored: String = redis::cmd("GET").arg("b:k").query(&mut plain).unwrap();
    assert_eq!(stored, "in-b");
    let r = a.get("/?op=kv-get&bucket=nope&key=k");
    assert_eq!((r.status, r.body.as_str()), (409, "no-such-store"));
    assert_eq!(a.get("/?op=kv-incr&key=n&delta=2").body, "2");
    assert_eq!(b.get("/?op=kv-incr&key=n&delta=3").body, "5");
    until("a sees the increment", || {
        a.get("/?op=kv-get&key=n").body == "5"
    });
    assert_eq!(a.get("/?op=kv-many&keys=k,n,zz").body, "k=three\nn=5\nzz");

    // Every client connection killed (tracking and data alike): the L1s empty, then answer
    // from Redis again; nothing Redis holds is lost.
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query::<()>(&mut plain)
        .unwrap();
    redis::cmd("SET")
        .arg("default:k")
        .arg("four")
        .query::<()>(&mut plain)
        .unwrap();
    until("both see the write made while tracking was down", || {
        a.get("/?op=kv-get&key=k").body == "four" && b.get("/?op=kv-get&key=k").body == "four"
    });
    a.stop();
    b.stop();
}

#[test]
fn bad_l1_settings_are_refused_and_without_keyvalue_open_says_why() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_faas-cache-serve"))
        .args([
            SERVE_APP_PATH,
            "--keyvalue",
            "redis://127.0.0.1:1",
            "--l1-ttl-seconds=-1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--l1-ttl-seconds"), "{err}");
    let server = Server::start(&[SERVE_APP_PATH]);
    let r = server.get("/?op=kv-get&key=k");
    assert_eq!(r.status, 409);
    assert!(r.body.contains("--keyvalue"), "{}", r.body);
    server.stop();
}
