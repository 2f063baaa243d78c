//! The tracker against a real `redis-server`: another client's write reaches the L1 as an
//! invalidation of that key; FLUSHALL empties it; a killed tracking connection, a restarted or a
//! stopped server empty it (counted) and tracking comes back by itself. The delays are measured
//! by polling, never slept for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use faas_kv_l1_host::redis_server::{until, RedisServer};
use faas_kv_provider::tracking::{Invalidate, Tracker};

#[derive(Default)]
struct Seen {
    keys: Mutex<Vec<Vec<u8>>>,
    all: Mutex<u64>,
    distrusted: Mutex<u64>,
}

impl Invalidate for Seen {
    fn invalidate(&self, keys: &[Vec<u8>]) {
        self.keys.lock().unwrap().extend_from_slice(keys);
    }

    fn invalidate_all(&self) {
        *self.all.lock().unwrap() += 1;
    }

    fn distrust_all(&self) {
        *self.distrusted.lock().unwrap() += 1;
    }
}

/// A data connection tracked through the tracker (as the provider's are).
fn tracked(server: &RedisServer, tracker: &Tracker) -> redis::Connection {
    let (id, _) = tracker.id().expect("tracking is up");
    let mut con = server.connection().unwrap();
    redis::cmd("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .arg("REDIRECT")
        .arg(id)
        .arg("BCAST")
        .arg("PREFIX")
        .arg("b:")
        .arg("NOLOOP")
        .query::<()>(&mut con)
        .unwrap();
    con
}

#[test]
fn writes_by_others_invalidate_and_tracking_survives_kills_and_restarts() {
    let Ok(mut server) = RedisServer::start() else {
        eprintln!("SKIPPED: no redis-server");
        return;
    };
    let seen = Arc::new(Seen::default());
    let tracker = Tracker::start(&server.url(), seen.clone()).unwrap();
    until("tracking up", || tracker.id().is_some());
    assert_eq!(
        *seen.distrusted.lock().unwrap(),
        1,
        "distrusted when tracking starts"
    );
    let mut own = tracked(&server, &tracker);
    let mut other = server.connection().unwrap();

    // Another client's write of a tracked prefix arrives; our own (NOLOOP) does not.
    redis::cmd("SET")
        .arg("b:own")
        .arg("1")
        .query::<()>(&mut own)
        .unwrap();
    redis::cmd("SET")
        .arg("b:k")
        .arg("2")
        .query::<()>(&mut other)
        .unwrap();
    redis::cmd("SET")
        .arg("other:k")
        .arg("3")
        .query::<()>(&mut other)
        .unwrap();
    let delay = until("b:k invalidated", || {
        seen.keys.lock().unwrap().contains(&b"b:k".to_vec())
    });
    assert!(delay < Duration::from_secs(1), "{delay:?}");
    let keys = seen.keys.lock().unwrap().clone();
    assert!(!keys.contains(&b"b:own".to_vec()), "NOLOOP: {keys:?}");
    assert!(
        !keys.contains(&b"other:k".to_vec()),
        "other prefixes: {keys:?}"
    );

    // Expiry is a change too.
    redis::cmd("SET")
        .arg("b:short")
        .arg("x")
        .arg("PX")
        .arg(20)
        .query::<()>(&mut other)
        .unwrap();
    until("expiry invalidated", || {
        // Redis expires lazily or in its cycle: reading makes it notice.
        let _: Option<String> = redis::cmd("GET").arg("b:short").query(&mut other).unwrap();
        seen.keys.lock().unwrap().contains(&b"b:short".to_vec())
    });

    // FLUSHALL: everything.
    let before = *seen.all.lock().unwrap();
    redis::cmd("FLUSHALL").query::<()>(&mut other).unwrap();
    until("flushall", || *seen.all.lock().unwrap() > before);

    // The tracking connection killed: emptied, and tracking comes back with a new id.
    let (id, generation) = tracker.id().unwrap();
    let before = tracker.flushes();
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query::<()>(&mut other)
        .unwrap();
    until(
        "tracking back after CLIENT KILL",
        || matches!(tracker.id(), Some((new, g)) if new != id && g > generation),
    );
    assert!(
        tracker.flushes() >= before + 2,
        "emptied when lost and when back"
    );

    // The server restarted, then stopped: emptied each time; back when the server is.
    let (_, generation) = tracker.id().unwrap();
    server.restart().unwrap();
    until(
        "tracking back after a restart",
        || matches!(tracker.id(), Some((_, g)) if g > generation),
    );
    server.stop();
    until("tracking down while the server is", || {
        tracker.id().is_none()
    });
    let before = tracker.flushes();
    server.restart().unwrap();
    until("tracking back", || tracker.id().is_some());
    assert!(tracker.flushes() > before);
}
