//! Two apps' L1s (as two `faas-cache-serve` processes would hold) on one real `redis-server`:
//! a write through one, or by a plain Redis client, is seen by the other's next read once Redis'
//! invalidation arrives (the delay is measured by polling, not slept for); with tracking lost
//! the tier empties; a failed write leaves the tier as it was; stale-if-error serves a value
//! only inside its window.

use std::time::Duration;

use faas_cache::{ManualClock, SystemClock, Time};
use faas_kv_l1_core::Settings;
use faas_kv_l1_host::redis_server::{until, RedisServer};
use faas_kv_provider::l1::{AppL1, KvError};

fn l1(server: &RedisServer) -> AppL1<SystemClock> {
    let l1 = AppL1::new(
        &server.url(),
        &["default".into(), "b".into()],
        Settings::default(),
        SystemClock,
        (1, 2),
    )
    .unwrap();
    until("tracking up", || l1.tracking());
    l1
}

#[test]
fn writes_through_one_host_or_a_plain_client_are_seen_by_the_other() {
    let Ok(server) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let (a, b) = (l1(&server), l1(&server));
    a.set("default", "k", b"one").unwrap();
    assert_eq!(b.get("default", "k").unwrap().as_deref(), Some(&b"one"[..]));
    let trips = b.round_trips();
    assert_eq!(b.get("default", "k").unwrap().as_deref(), Some(&b"one"[..]));
    assert_eq!(b.round_trips(), trips, "the second read is an L1 hit");

    // A write through `a`: `b`'s next reads see it once the invalidation arrives.
    a.set("default", "k", b"two").unwrap();
    let delay = until("b sees a's write", || {
        b.get("default", "k").unwrap().as_deref() == Some(&b"two"[..])
    });
    eprintln!("a's write seen by b after {delay:?}");
    assert!(delay < Duration::from_secs(1));

    // A plain Redis client: the same key space, `bucket:key`.
    let mut plain = server.connection().unwrap();
    redis::cmd("SET")
        .arg("default:k")
        .arg("three")
        .query::<()>(&mut plain)
        .unwrap();
    for l in [&a, &b] {
        until("the plain client's write", || {
            l.get("default", "k").unwrap().as_deref() == Some(&b"three"[..])
        });
    }
    // A delete by the plain client, and an expiry.
    redis::cmd("DEL")
        .arg("default:k")
        .query::<()>(&mut plain)
        .unwrap();
    until("the delete", || b.get("default", "k").unwrap().is_none());
    a.set("b", "short", b"x").unwrap();
    assert!(b.exists("b", "short").unwrap());
    redis::cmd("PEXPIRE")
        .arg("b:short")
        .arg(10)
        .query::<()>(&mut plain)
        .unwrap();
    until("the expiry", || !b.exists("b", "short").unwrap());
    // Buckets are separate and only the configured ones open.
    assert_eq!(a.check_bucket("nope"), Err(KvError::NoSuchStore));
    a.set("b", "k", b"in b").unwrap();
    assert_eq!(a.get("default", "k").unwrap(), None);
}

#[test]
fn lost_tracking_empties_the_tier_and_failed_writes_change_nothing() {
    let Ok(mut server) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let a = l1(&server);
    a.set("default", "k", b"v").unwrap();
    assert_eq!(a.stats().entries, 1);
    let flushes = a.tracking_flushes();
    // Kill every other client's connection: the tracking one among them.
    let mut plain = server.connection().unwrap();
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query::<()>(&mut plain)
        .unwrap();
    until("emptied", || a.tracking_flushes() > flushes);
    assert_eq!(a.stats().entries, 0);
    until("tracking back", || a.tracking());
    // The data connection was killed too: the next call reconnects (one error at most).
    let _ = a.get("default", "k");
    assert_eq!(a.get("default", "k").unwrap().as_deref(), Some(&b"v"[..]));

    // Redis down: a write fails and leaves the tier as it was.
    assert_eq!(a.get("default", "k").unwrap().as_deref(), Some(&b"v"[..]));
    server.stop();
    until("tracking down", || !a.tracking());
    assert_eq!(a.stats().entries, 0, "emptied when tracking dropped");
    assert!(a.set("default", "k", b"lost").is_err());
    assert!(
        a.get("default", "k").is_err(),
        "nothing cached, nothing stale"
    );
    assert_eq!(a.stats().entries, 0);
    server.restart().unwrap();
    until("tracking back", || a.tracking());
    let _ = a.get("default", "k");
    assert_eq!(a.get("default", "k").unwrap(), None, "a new, empty server");
}

#[test]
fn stale_if_error_serves_only_inside_its_window_even_with_tracking_lost() {
    let Ok(mut server) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
    let settings = Settings {
        ttl_seconds: 5.0,
        stale_if_error_seconds: 30.0,
        ..Settings::default()
    };
    let a = AppL1::new(
        &server.url(),
        &["default".into()],
        settings,
        clock.clone(),
        (1, 2),
    )
    .unwrap();
    until("tracking up", || a.tracking());
    a.set("default", "k", b"v").unwrap();
    a.set("default", "fresh", b"f").unwrap();
    let trips = a.round_trips();
    assert_eq!(
        a.get("default", "fresh").unwrap().as_deref(),
        Some(&b"f"[..])
    );
    assert_eq!(a.round_trips(), trips, "fresh: an L1 hit");
    // Redis goes away: tracking drops, nothing is served as fresh any more...
    server.stop();
    until("tracking down", || !a.tracking());
    // ...but a value inside the stale-if-error window answers when Redis fails.
    assert_eq!(a.get("default", "k").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(a.stats().stale_served, 1);
    assert!(a.exists("default", "fresh").unwrap());
    // Past the window: the error.
    clock.advance_secs(31.0);
    assert!(a.get("default", "k").is_err());
    assert!(a.exists("default", "fresh").is_err());
}

#[test]
fn batches_atomics_and_listing_keep_the_tier_coherent() {
    let Ok(server) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let (a, b) = (l1(&server), l1(&server));
    a.set_many(
        "default",
        &[("x".into(), b"1".to_vec()), ("y".into(), b"2".to_vec())],
    )
    .unwrap();
    let got = b
        .get_many("default", &["x".into(), "y".into(), "z".into()])
        .unwrap();
    assert_eq!(
        got,
        vec![
            ("x".into(), Some(b"1".to_vec())),
            ("y".into(), Some(b"2".to_vec())),
            ("z".into(), None)
        ]
    );
    let trips = b.round_trips();
    b.get_many("default", &["x".into(), "y".into()]).unwrap();
    assert_eq!(b.round_trips(), trips, "all hits: no round trip");
    a.delete_many("default", &["x".into()]).unwrap();
    until("b sees the delete", || {
        b.get_many("default", &["x".into()]).unwrap()[0].1.is_none()
    });
    // Atomics always ask Redis, and the tier never keeps a value they changed unseen.
    assert_eq!(b.get("default", "n").unwrap(), None);
    assert_eq!(a.increment("default", "n", 5).unwrap(), 5);
    until("b sees the increment", || {
        b.get("default", "n").unwrap().as_deref() == Some(&b"5"[..])
    });
    let cas = b.cas_new("default", "n").unwrap();
    assert_eq!(cas.expected.as_deref(), Some(&b"5"[..]));
    assert_eq!(a.increment("default", "n", 1).unwrap(), 6);
    assert!(!b.swap(&cas, b"100").unwrap(), "the value moved on");
    let cas = b.cas_new("default", "n").unwrap();
    assert!(b.swap(&cas, b"100").unwrap());
    until("a sees the swap", || {
        a.get("default", "n").unwrap().as_deref() == Some(&b"100"[..])
    });
    let (mut keys, cursor) = a.list_keys("default", None).unwrap();
    keys.sort();
    assert_eq!(
        (keys, cursor),
        (vec!["n".to_string(), "y".to_string()], None)
    );
    assert!(a.list_keys("default", Some("not a cursor")).is_err());
}
