//! An app's L1 in front of Redis: one `faas-kv-l1-core` tier shared by every instance and
//! thread of the app, a Redis data connection, and the [`Tracker`] that keeps the tier coherent.
//! Redis keys are `bucket:key` (so a plain Redis client sees the same data), and so are the
//! tier's keys, which makes Redis' invalidations name tier keys directly.
//!
//! Invariants:
//! - Write-through: a write reaches Redis first and the tier only once Redis accepted it; a
//!   failed write leaves the tier as it was.
//! - No stale fill: a value read from (or written to) Redis enters the tier only if nothing that
//!   could have changed the key since (an invalidation of it, an emptying of the tier, a change
//!   of tracking connection) happened between the start of the call and the fill ([`Ticket`]).
//! - While tracking is up, a value another client changes leaves the tier when Redis' push
//!   arrives; while it is down, the tier's TTL is the bound, as in the composed component.
//! - The tier's lock is never held across a Redis call (only the data connection's is).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use faas_cache::Clock;
use faas_kv_l1_core::{tagged, tagged_absent, L1Stats, Lookup, Presence, Settings, Tier};

use crate::tracking::{Invalidate, Tracker};

/// Why a call failed: `wasi:keyvalue`'s `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    NoSuchStore,
    Other(String),
}

/// Recent invalidations remembered for in-flight fills; past this, all are forgotten at once
/// (and every in-flight fill is refused).
const RECENT_CAP: usize = 16_384;

/// The tier and what in-flight fills must check.
struct Coherence<C: Clock> {
    tier: Mutex<Tier<C>>,
    /// Bumped by every invalidation; a fill's ticket holds its value from the call's start.
    sequence: AtomicU64,
    /// The last sequence at which each recently invalidated key was invalidated.
    recent: Mutex<HashMap<Vec<u8>, u64>>,
    /// The sequence of the last emptying (of the tier or of `recent`).
    emptied_at: AtomicU64,
    /// Times the tier stopped trusting its values (tracking lost or re-established).
    flushes: AtomicU64,
}

impl<C: Clock> Coherence<C> {
    /// Refuses every fill in flight.
    fn void_fills(&self) {
        let seq = self.sequence.fetch_add(1, Ordering::AcqRel) + 1;
        self.emptied_at.store(seq, Ordering::Release);
        lock(&self.recent).clear();
    }
}

/// Taken before a Redis call whose answer may fill the tier.
#[derive(Clone, Copy)]
struct Ticket {
    sequence: u64,
    generation: Option<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere never leaves the tier or the map half-changed for long: take it over.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<C: Clock + Send + 'static> Invalidate for Coherence<C> {
    fn invalidate(&self, keys: &[Vec<u8>]) {
        let seq = self.sequence.fetch_add(1, Ordering::AcqRel) + 1;
        {
            let mut recent = lock(&self.recent);
            if recent.len() + keys.len() > RECENT_CAP {
                recent.clear();
                self.emptied_at.store(seq, Ordering::Release);
            }
            for key in keys {
                recent.insert(key.clone(), seq);
            }
        }
        let mut tier = lock(&self.tier);
        for key in keys {
            if let Ok(key) = std::str::from_utf8(key) {
                tier.invalidate(key);
            }
        }
    }

    fn invalidate_all(&self) {
        self.void_fills();
        lock(&self.tier).clear();
    }

    fn distrust_all(&self) {
        self.void_fills();
        self.flushes.fetch_add(1, Ordering::Relaxed);
        lock(&self.tier).distrust_all();
    }
}

/// The Redis connection calls go through, tracked through the current tracking connection.
struct Data {
    client: redis::Client,
    connection: Option<redis::Connection>,
    /// The tracking generation this connection redirects to (`None`: untracked).
    tracked: Option<u64>,
    prefixes: Vec<String>,
}

/// An app's L1: see the module comment.
pub struct AppL1<C: Clock> {
    coherence: Arc<Coherence<C>>,
    data: Mutex<Data>,
    /// `None`: untracked (the TTL is the only bound; for measuring what tracking costs).
    tracker: Option<Tracker>,
    buckets: Vec<String>,
    round_trips: AtomicU64,
}

impl<C: Clock + Send + 'static> AppL1<C> {
    /// An L1 for the buckets `buckets` (identifiers without `:`) on the Redis at `url`, kept
    /// coherent by tracking.
    pub fn new(
        url: &str,
        buckets: &[String],
        settings: Settings,
        clock: C,
        seed: (u64, u64),
    ) -> Result<AppL1<C>, String> {
        AppL1::build(url, buckets, settings, clock, seed, true)
    }

    /// [`AppL1::new`] without tracking: the TTL is the only staleness bound (what the composed
    /// component does; the benchmark measures what tracking adds with it).
    pub fn untracked(
        url: &str,
        buckets: &[String],
        settings: Settings,
        clock: C,
        seed: (u64, u64),
    ) -> Result<AppL1<C>, String> {
        AppL1::build(url, buckets, settings, clock, seed, false)
    }

    fn build(
        url: &str,
        buckets: &[String],
        settings: Settings,
        clock: C,
        seed: (u64, u64),
        tracked: bool,
    ) -> Result<AppL1<C>, String> {
        if let Some(bad) = buckets.iter().find(|b| b.contains(':') || b.is_empty()) {
            return Err(format!(
                "bucket {bad:?}: an identifier must be non-empty and without ':' (keys are \
                 `bucket:key` in Redis)"
            ));
        }
        let client = redis::Client::open(url).map_err(|e| format!("{url}: {e}"))?;
        let coherence = Arc::new(Coherence {
            tier: Mutex::new(Tier::new(settings, clock, seed)?),
            sequence: AtomicU64::new(0),
            recent: Mutex::new(HashMap::new()),
            emptied_at: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        });
        let tracker = if tracked {
            Some(Tracker::start(url, coherence.clone())?)
        } else {
            None
        };
        Ok(AppL1 {
            coherence,
            data: Mutex::new(Data {
                client,
                connection: None,
                tracked: None,
                prefixes: buckets.iter().map(|b| format!("{b}:")).collect(),
            }),
            tracker,
            buckets: buckets.to_vec(),
            round_trips: AtomicU64::new(0),
        })
    }

    /// Whether `bucket` may be opened.
    pub fn check_bucket(&self, bucket: &str) -> Result<(), KvError> {
        if self.buckets.iter().any(|b| b == bucket) {
            Ok(())
        } else {
            Err(KvError::NoSuchStore)
        }
    }

    /// The counters, with the tier's size.
    pub fn stats(&self) -> L1Stats {
        lock(&self.coherence.tier).stats()
    }

    /// Times the tier stopped trusting its values because tracking was lost, came back, or a
    /// data connection was tracked anew.
    pub fn tracking_flushes(&self) -> u64 {
        self.coherence.flushes.load(Ordering::Relaxed)
    }

    /// Whether invalidations arrive now.
    pub fn tracking(&self) -> bool {
        self.tracking_id().is_some()
    }

    fn tracking_id(&self) -> Option<(u64, u64)> {
        self.tracker.as_ref().and_then(Tracker::id)
    }

    /// Commands sent to Redis.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Runs `f` on the tier if nothing changed `key` since `ticket` was taken.
    fn fill_if_current(&self, ticket: Ticket, key: &str, f: impl FnOnce(&mut Tier<C>)) {
        let c = &self.coherence;
        let recent = lock(&c.recent);
        let mut tier = lock(&c.tier);
        let current = c.emptied_at.load(Ordering::Acquire) <= ticket.sequence
            && recent
                .get(key.as_bytes())
                .is_none_or(|&at| at <= ticket.sequence)
            && self.tracking_id().map(|(_, g)| g) == ticket.generation;
        drop(recent);
        if current {
            f(&mut tier);
        } else {
            tier.invalidate(key);
        }
    }

    /// One Redis command on the data connection (connecting, and turning tracking on, first).
    fn call<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, KvError> {
        self.call_for_fill(cmd).1
    }

    /// [`AppL1::call`], with the ticket for filling the tier from its answer: taken once the
    /// data connection is ready (readying it may empty the tier, which would void an earlier
    /// ticket) and before the command is sent.
    fn call_for_fill<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> (Ticket, Result<T, KvError>) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let (ticket, result) = {
            let mut data = lock(&self.data);
            let prepared = self.prepare(&mut data);
            let ticket = Ticket {
                sequence: self.coherence.sequence.load(Ordering::Acquire),
                generation: self.tracking_id().map(|(_, g)| g),
            };
            let result = prepared
                .and_then(|()| {
                    let con = data.connection.as_mut().expect("prepared");
                    cmd.query::<T>(con)
                })
                .inspect_err(|_| {
                    // A failed connection is dropped: the next call reconnects (and re-tracks).
                    data.connection = None;
                    data.tracked = None;
                });
            (ticket, result)
        };
        let mut tier = lock(&self.coherence.tier);
        tier.stats.backend_calls += 1;
        if result.is_err() {
            tier.stats.backend_errors += 1;
        }
        (
            ticket,
            result.map_err(|e| KvError::Other(format!("redis: {e}"))),
        )
    }

    /// Connects if needed and redirects tracking to the current tracking connection. A new
    /// data connection, or a new tracking one, means keys may have changed unseen: the tier is
    /// emptied first.
    fn prepare(&self, data: &mut Data) -> redis::RedisResult<()> {
        let tracking = self.tracking_id();
        if data.connection.is_some() && data.tracked == tracking.map(|(_, g)| g) {
            return Ok(());
        }
        if data.connection.is_none() {
            let con = data
                .client
                .get_connection_with_timeout(Duration::from_secs(2))?;
            con.set_read_timeout(Some(Duration::from_secs(2)))?;
            con.set_write_timeout(Some(Duration::from_secs(2)))?;
            data.connection = Some(con);
            data.tracked = None;
        }
        if let Some((id, generation)) = tracking {
            let mut cmd = redis::cmd("CLIENT");
            cmd.arg("TRACKING")
                .arg("ON")
                .arg("REDIRECT")
                .arg(id)
                .arg("BCAST");
            for prefix in &data.prefixes {
                cmd.arg("PREFIX").arg(prefix);
            }
            cmd.arg("NOLOOP");
            let con = data.connection.as_mut().expect("connected");
            // Switching the redirect of a tracking connection needs it off first.
            redis::cmd("CLIENT")
                .arg("TRACKING")
                .arg("OFF")
                .query::<()>(con)?;
            cmd.query::<()>(con)?;
            self.coherence.distrust_all();
            data.tracked = Some(generation);
        }
        Ok(())
    }

    /// `get`: from the tier when fresh; else Redis, filling the tier; a stale value only if
    /// Redis fails inside the stale-if-error window.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let full = redis_key(bucket, key);
        let lookup = lock(&self.coherence.tier).lookup(&full);
        let stale = match lookup {
            Lookup::Present(value) => return self.saved(Some(value)),
            Lookup::Absent => return self.saved(None),
            Lookup::Stale(value) => Some(value),
            Lookup::Unknown => None,
        };
        let (ticket, answer) = self.call_for_fill::<Option<Vec<u8>>>(redis::cmd("GET").arg(&full));
        let value = match (answer, stale) {
            (Ok(value), _) => value,
            (Err(_), Some(value)) => {
                lock(&self.coherence.tier).stats.stale_served += 1;
                return Ok(Some(value));
            }
            (Err(e), None) => return Err(e),
        };
        let entry = match &value {
            Some(v) => tagged(v),
            None => tagged_absent(),
        };
        let present = value.is_some();
        self.fill_if_current(ticket, &full, |t| t.fill(full.clone(), entry, present));
        Ok(value)
    }

    fn saved<T>(&self, value: T) -> Result<T, KvError> {
        lock(&self.coherence.tier).stats.backend_calls_saved += 1;
        Ok(value)
    }

    /// `exists`: as `get`, without the value.
    pub fn exists(&self, bucket: &str, key: &str) -> Result<bool, KvError> {
        let full = redis_key(bucket, key);
        let presence = lock(&self.coherence.tier).presence(&full);
        let stale = match presence {
            Presence::Known(known) => return self.saved(known),
            Presence::Stale => true,
            Presence::Unknown => false,
        };
        let (ticket, answer) = self.call_for_fill::<bool>(redis::cmd("EXISTS").arg(&full));
        let exists = match (answer, stale) {
            (Ok(exists), _) => exists,
            (Err(_), true) => {
                lock(&self.coherence.tier).stats.stale_served += 1;
                return Ok(true);
            }
            (Err(e), false) => return Err(e),
        };
        if !exists {
            self.fill_if_current(ticket, &full, |t| {
                t.fill(full.clone(), tagged_absent(), false)
            });
        }
        Ok(exists)
    }

    /// `set`: Redis first; the tier once Redis accepted it.
    pub fn set(&self, bucket: &str, key: &str, value: &[u8]) -> Result<(), KvError> {
        let full = redis_key(bucket, key);
        let (ticket, answer) = self.call_for_fill::<()>(redis::cmd("SET").arg(&full).arg(value));
        answer?;
        self.fill_if_current(ticket, &full, |t| t.fill(full.clone(), tagged(value), true));
        Ok(())
    }

    /// `delete`: Redis first; then the tier knows the key is absent.
    pub fn delete(&self, bucket: &str, key: &str) -> Result<(), KvError> {
        let full = redis_key(bucket, key);
        let (ticket, answer) = self.call_for_fill::<()>(redis::cmd("DEL").arg(&full));
        answer?;
        self.fill_if_current(ticket, &full, |t| {
            t.fill(full.clone(), tagged_absent(), false)
        });
        Ok(())
    }
}

/// Compare-and-swap on the server: swaps only if the key still holds the expected value
/// (ARGV[1] = "1" and ARGV[2] = value) or is still absent (ARGV[1] = "0").
pub const CAS_SCRIPT: &str = "local cur = redis.call('GET', KEYS[1]) \
    if ARGV[1] == '1' then if cur ~= ARGV[2] then return 0 end elseif cur then return 0 end \
    redis.call('SET', KEYS[1], ARGV[3]) return 1";

/// Keys per `SCAN` page of `list-keys`.
pub const SCAN_COUNT: usize = 100;

/// A compare-and-swap handle: the key and the value Redis held when it was made.
#[derive(Debug, Clone)]
pub struct Cas {
    pub bucket: String,
    pub key: String,
    pub expected: Option<Vec<u8>>,
}

impl<C: Clock + Send + 'static> AppL1<C> {
    /// `list-keys`: a page of the bucket's keys from Redis (`SCAN`), never cached. Keys that
    /// are not UTF-8 (written by other clients) cannot be a WIT `string` and are skipped.
    pub fn list_keys(
        &self,
        bucket: &str,
        cursor: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>), KvError> {
        let start = cursor.unwrap_or("0");
        if start.parse::<u64>().is_err() {
            return Err(KvError::Other(format!("invalid cursor {start:?}")));
        }
        let prefix = format!("{bucket}:");
        let (next, keys): (String, Vec<Vec<u8>>) = self.call(
            redis::cmd("SCAN")
                .arg(start)
                .arg("MATCH")
                .arg(format!("{}*", glob_escape(&prefix)))
                .arg("COUNT")
                .arg(SCAN_COUNT),
        )?;
        let keys = keys
            .into_iter()
            .filter_map(|k| String::from_utf8(k).ok())
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        Ok((keys, (next != "0").then_some(next)))
    }

    /// `get-many`: the tier answers what it can; one `MGET` asks Redis the rest; stale values
    /// answer only if that fails.
    #[allow(clippy::type_complexity)]
    pub fn get_many(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        let full: Vec<String> = keys.iter().map(|k| redis_key(bucket, k)).collect();
        let mut answers: Vec<Option<Option<Vec<u8>>>> = Vec::with_capacity(keys.len());
        let mut stale: Vec<Option<Vec<u8>>> = Vec::with_capacity(keys.len());
        {
            let mut tier = lock(&self.coherence.tier);
            for k in &full {
                match tier.lookup(k) {
                    Lookup::Present(v) => {
                        answers.push(Some(Some(v)));
                        stale.push(None);
                    }
                    Lookup::Absent => {
                        answers.push(Some(None));
                        stale.push(None);
                    }
                    Lookup::Stale(v) => {
                        answers.push(None);
                        stale.push(Some(v));
                    }
                    Lookup::Unknown => {
                        answers.push(None);
                        stale.push(None);
                    }
                }
            }
        }
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| answers[i].is_none()).collect();
        if missing.is_empty() {
            lock(&self.coherence.tier).stats.backend_calls_saved += 1;
        } else {
            let mut cmd = redis::cmd("MGET");
            for &i in &missing {
                cmd.arg(&full[i]);
            }
            let (ticket, answer) = self.call_for_fill::<Vec<Option<Vec<u8>>>>(&cmd);
            match answer {
                Ok(values) => {
                    for (&i, value) in missing.iter().zip(values) {
                        let entry = match &value {
                            Some(v) => tagged(v),
                            None => tagged_absent(),
                        };
                        let present = value.is_some();
                        let key = full[i].clone();
                        self.fill_if_current(ticket, &full[i], |t| t.fill(key, entry, present));
                        answers[i] = Some(value);
                    }
                }
                // Stale-if-error: only if every missing key has a stale value.
                Err(e) => {
                    if missing.iter().any(|&i| stale[i].is_none()) {
                        return Err(e);
                    }
                    lock(&self.coherence.tier).stats.stale_served += missing.len() as u64;
                    for &i in &missing {
                        answers[i] = Some(stale[i].take());
                    }
                }
            }
        }
        Ok(keys
            .iter()
            .cloned()
            .zip(answers.into_iter().map(Option::unwrap_or_default))
            .collect())
    }

    /// `set-many`: one `MSET`; the tier once Redis accepted it.
    pub fn set_many(&self, bucket: &str, pairs: &[(String, Vec<u8>)]) -> Result<(), KvError> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("MSET");
        for (k, v) in pairs {
            cmd.arg(redis_key(bucket, k)).arg(v);
        }
        let (ticket, answer) = self.call_for_fill::<()>(&cmd);
        answer?;
        for (k, v) in pairs {
            let full = redis_key(bucket, k);
            self.fill_if_current(ticket, &full, |t| t.fill(full.clone(), tagged(v), true));
        }
        Ok(())
    }

    /// `delete-many`: one `DEL`; then the tier knows the keys are absent.
    pub fn delete_many(&self, bucket: &str, keys: &[String]) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("DEL");
        for k in keys {
            cmd.arg(redis_key(bucket, k));
        }
        let (ticket, answer) = self.call_for_fill::<()>(&cmd);
        answer?;
        for k in keys {
            let full = redis_key(bucket, k);
            self.fill_if_current(ticket, &full, |t| {
                t.fill(full.clone(), tagged_absent(), false)
            });
        }
        Ok(())
    }

    /// `increment`: `INCRBY` on the server; the tier forgets the key (the counter's encoding is
    /// Redis' own).
    pub fn increment(&self, bucket: &str, key: &str, delta: i64) -> Result<i64, KvError> {
        let full = redis_key(bucket, key);
        let result = self.call::<i64>(redis::cmd("INCRBY").arg(&full).arg(delta));
        lock(&self.coherence.tier).invalidate(&full);
        result
    }

    /// `cas.new`: reads the value to swap against from Redis (never from the tier).
    pub fn cas_new(&self, bucket: &str, key: &str) -> Result<Cas, KvError> {
        let expected =
            self.call::<Option<Vec<u8>>>(redis::cmd("GET").arg(redis_key(bucket, key)))?;
        Ok(Cas {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            expected,
        })
    }

    /// `swap`: writes `value` if the key still holds what `cas` read. `Ok(false)`: it did not;
    /// the tier forgets the key. `Ok(true)`: the tier holds `value`.
    pub fn swap(&self, cas: &Cas, value: &[u8]) -> Result<bool, KvError> {
        let full = redis_key(&cas.bucket, &cas.key);
        let (ticket, swapped) = self.call_for_fill::<i64>(
            redis::cmd("EVAL")
                .arg(CAS_SCRIPT)
                .arg(1)
                .arg(&full)
                .arg(if cas.expected.is_some() { "1" } else { "0" })
                .arg(cas.expected.as_deref().unwrap_or_default())
                .arg(value),
        );
        match swapped {
            Ok(1) => {
                self.fill_if_current(ticket, &full, |t| t.fill(full.clone(), tagged(value), true));
                Ok(true)
            }
            other => {
                lock(&self.coherence.tier).invalidate(&full);
                other.map(|_| false)
            }
        }
    }
}

/// `prefix` with Redis glob metacharacters escaped, for `SCAN MATCH`.
pub fn glob_escape(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for ch in prefix.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The Redis key (and tier key) of `key` in `bucket`.
pub fn redis_key(bucket: &str, key: &str) -> String {
    let mut s = String::with_capacity(bucket.len() + 1 + key.len());
    s.push_str(bucket);
    s.push(':');
    s.push_str(key);
    s
}

#[cfg(test)]
mod tests {
    use super::glob_escape;

    #[test]
    fn glob_metacharacters_in_a_bucket_name_match_literally() {
        assert_eq!(glob_escape("a*b?[c]:"), "a\\*b\\?\\[c\\]:");
        assert_eq!(glob_escape("plain:"), "plain:");
    }
}
