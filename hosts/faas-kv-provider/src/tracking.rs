//! Coherence of a host-side L1 with Redis: a RESP3 connection that only receives Redis'
//! invalidation pushes. Data connections turn tracking on with `CLIENT TRACKING ON REDIRECT <id>
//! BCAST PREFIX <bucket>: ... NOLOOP`, so a write or expiry of any key of a served bucket by any
//! other client sends its name here, and [`Invalidate::invalidate`] removes it from the L1.
//!
//! Invariant: the L1 stops trusting what it holds ([`Invalidate::distrust_all`]: it empties, but
//! for values kept only for stale-if-error) whenever invalidations may have been missed: when
//! this connection drops, and again when a new one is in place (data connections tracked through
//! the old one must turn tracking on again, see [`Tracker::id`]).
//! While no tracking connection is up, [`Tracker::id`] is `None` and the L1's TTL is the bound.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::{PushKind, Value};

/// What the tracker does to the L1.
pub trait Invalidate: Send + Sync + 'static {
    /// Redis says these keys (full Redis keys, `bucket:key`) changed or expired.
    fn invalidate(&self, keys: &[Vec<u8>]);
    /// Redis flushed everything (`FLUSHALL`, `FLUSHDB`): forget all.
    fn invalidate_all(&self);
    /// Invalidations may have been missed: no value may be served as fresh any more.
    fn distrust_all(&self);
}

/// How long a read waits before the tracker checks whether it should stop.
const POLL: Duration = Duration::from_millis(100);
/// The wait before reconnecting after a failure (doubling up to `MAX_BACKOFF`).
const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

struct Shared {
    /// The tracking connection's `CLIENT ID`, 0 while none is up.
    id: AtomicU64,
    /// Bumped each time a new tracking connection is up (data connections compare it).
    generation: AtomicU64,
    /// Times the L1 was emptied because tracking was lost or re-established.
    flushes: AtomicU64,
    stop: AtomicBool,
}

/// The tracking connection's thread; stops when dropped.
pub struct Tracker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Tracker {
    /// Starts tracking through a RESP3 connection to `url` (a `redis://` URL).
    pub fn start(url: &str, target: Arc<dyn Invalidate>) -> Result<Tracker, String> {
        let resp3 = if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let client = redis::Client::open(resp3).map_err(|e| format!("{url}: {e}"))?;
        let shared = Arc::new(Shared {
            id: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("faas-kv tracking".into())
            .spawn(move || run(&client, &thread_shared, &*target))
            .map_err(|e| format!("cannot start the tracking thread: {e}"))?;
        Ok(Tracker {
            shared,
            thread: Some(thread),
        })
    }

    /// The tracking connection's client id and generation, `None` while none is up.
    pub fn id(&self) -> Option<(u64, u64)> {
        let id = self.shared.id.load(Ordering::Acquire);
        (id != 0).then(|| (id, self.shared.generation.load(Ordering::Acquire)))
    }

    /// Times the L1 was emptied because tracking was lost or came back.
    pub fn flushes(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(client: &redis::Client, shared: &Shared, target: &dyn Invalidate) {
    let mut backoff = MIN_BACKOFF;
    while !shared.stop.load(Ordering::Acquire) {
        match connect(client) {
            Ok((mut con, id)) => {
                backoff = MIN_BACKOFF;
                // Missed while down: forget all, then let data connections redirect here.
                flush(shared, target);
                shared.generation.fetch_add(1, Ordering::AcqRel);
                shared.id.store(id, Ordering::Release);
                listen(&mut con, shared, target);
                // Distrust first, then say tracking is down: whoever sees it down (a data
                // connection, a test) finds no value the L1 still serves as fresh.
                flush(shared, target);
                shared.id.store(0, Ordering::Release);
            }
            Err(_) => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn flush(shared: &Shared, target: &dyn Invalidate) {
    shared.flushes.fetch_add(1, Ordering::Relaxed);
    target.distrust_all();
}

fn connect(client: &redis::Client) -> redis::RedisResult<(redis::Connection, u64)> {
    let mut con = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let id: u64 = redis::cmd("CLIENT").arg("ID").query(&mut con)?;
    con.set_read_timeout(Some(POLL))?;
    Ok((con, id))
}

/// Reads pushes until the connection fails or the tracker stops.
fn listen(con: &mut redis::Connection, shared: &Shared, target: &dyn Invalidate) {
    while !shared.stop.load(Ordering::Acquire) {
        match con.recv_response() {
            Ok(Value::Push { kind, data }) => match kind {
                PushKind::Invalidate => match data.into_iter().next() {
                    Some(Value::Array(keys)) => {
                        let keys: Vec<Vec<u8>> = keys
                            .into_iter()
                            .filter_map(|k| match k {
                                Value::BulkString(bytes) => Some(bytes),
                                Value::SimpleString(s) => Some(s.into_bytes()),
                                _ => None,
                            })
                            .collect();
                        target.invalidate(&keys);
                    }
                    // A null list: Redis flushed the database (FLUSHALL, FLUSHDB).
                    _ => target.invalidate_all(),
                },
                PushKind::Disconnection => return,
                _ => {}
            },
            Ok(_) => {}
            Err(e) if e.is_timeout() => {}
            Err(_) => return,
        }
    }
}
