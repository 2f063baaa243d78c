//! `wasi:keyvalue` semantics on a Redis server, without wasmtime: each bucket identifier the host
//! allows is a key prefix `"{identifier}:"`. Invariants: every Redis failure is a
//! `BackendError` value (never a panic), and a connection that failed is dropped so the next
//! call reconnects: a restarted server is picked up without restarting the host. Every command
//! sent counts as one round trip.

use std::time::Duration;

use redis::{Commands, Connection, ConnectionLike, RedisError};

// The commands' shared pieces, the same as the host-side L1's.
use faas_kv_provider::l1::{glob_escape, CAS_SCRIPT, SCAN_COUNT};

/// Why a backend call failed: the store's `error` variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    NoSuchStore,
    Other(String),
}

impl From<RedisError> for BackendError {
    fn from(e: RedisError) -> Self {
        BackendError::Other(format!("redis: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// A Redis-backed key-value store.
pub struct RedisBackend {
    client: redis::Client,
    connection: Option<Connection>,
    buckets: Vec<String>,
    timeout: Duration,
    /// Commands sent to Redis (each one round trip).
    pub round_trips: u64,
}

impl RedisBackend {
    /// A backend on `url` serving the bucket identifiers `buckets`; connects lazily. An
    /// identifier may not contain `:`, so that no two buckets' key prefixes overlap.
    pub fn new(url: &str, buckets: &[&str]) -> Result<RedisBackend> {
        if let Some(bad) = buckets.iter().find(|b| b.contains(':')) {
            return Err(BackendError::Other(format!(
                "bucket identifier {bad:?} contains ':', which would overlap other buckets' keys"
            )));
        }
        Ok(RedisBackend {
            client: redis::Client::open(url)?,
            connection: None,
            buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
            timeout: Duration::from_secs(2),
            round_trips: 0,
        })
    }

    /// The key prefix of `identifier`, if the host serves it.
    pub fn open(&self, identifier: &str) -> Result<String> {
        if self.buckets.iter().any(|b| b == identifier) {
            Ok(format!("{identifier}:"))
        } else {
            Err(BackendError::NoSuchStore)
        }
    }

    /// Runs one command on a live connection; drops the connection if it failed.
    fn run<T>(&mut self, f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>) -> Result<T> {
        if self.connection.is_none() {
            let c = self.client.get_connection_with_timeout(self.timeout)?;
            c.set_read_timeout(Some(self.timeout))?;
            c.set_write_timeout(Some(self.timeout))?;
            self.connection = Some(c);
        }
        self.round_trips += 1;
        let Some(c) = self.connection.as_mut() else {
            return Err(BackendError::Other("redis: not connected".into()));
        };
        let result = f(c);
        if let Err(e) = &result {
            if e.is_unrecoverable_error() || e.is_timeout() || e.is_io_error() || !c.is_open() {
                self.connection = None;
            }
        }
        Ok(result?)
    }

    pub fn get(&mut self, prefix: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let k = format!("{prefix}{key}");
        self.run(|c| c.get(k))
    }

    pub fn set(&mut self, prefix: &str, key: &str, value: &[u8]) -> Result<()> {
        let k = format!("{prefix}{key}");
        self.run(|c| c.set(k, value))
    }

    pub fn delete(&mut self, prefix: &str, key: &str) -> Result<()> {
        let k = format!("{prefix}{key}");
        self.run(|c| c.del(k))
    }

    pub fn exists(&mut self, prefix: &str, key: &str) -> Result<bool> {
        let k = format!("{prefix}{key}");
        self.run(|c| c.exists(k))
    }

    /// One `SCAN` page of the bucket's keys; `None` as the cursor when the scan is complete.
    pub fn list_keys(
        &mut self,
        prefix: &str,
        cursor: Option<&str>,
    ) -> Result<(Vec<String>, Option<String>)> {
        let start = cursor.unwrap_or("0");
        if start.parse::<u64>().is_err() {
            return Err(BackendError::Other(format!("invalid cursor {start:?}")));
        }
        let pattern = format!("{}*", glob_escape(prefix));
        let (next, keys): (String, Vec<Vec<u8>>) = self.run(|c| {
            redis::cmd("SCAN")
                .arg(start)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query(c)
        })?;
        // Keys that are not UTF-8 (written by other clients) cannot be a WIT `string`: skipped.
        let keys = keys
            .into_iter()
            .filter_map(|k| String::from_utf8(k).ok())
            .filter_map(|k| k.strip_prefix(prefix).map(str::to_owned))
            .collect();
        Ok((keys, (next != "0").then_some(next)))
    }

    pub fn get_many(
        &mut self,
        prefix: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
        let values: Vec<Option<Vec<u8>>> = self.run(|c| redis::cmd("MGET").arg(&full).query(c))?;
        Ok(keys.into_iter().zip(values).collect())
    }

    pub fn set_many(&mut self, prefix: &str, pairs: &[(String, Vec<u8>)]) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("MSET");
        for (k, v) in pairs {
            cmd.arg(format!("{prefix}{k}")).arg(v.as_slice());
        }
        self.run(|c| cmd.query(c))
    }

    pub fn delete_many(&mut self, prefix: &str, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
        self.run(|c| c.del(full))
    }

    pub fn increment(&mut self, prefix: &str, key: &str, delta: i64) -> Result<i64> {
        let k = format!("{prefix}{key}");
        self.run(|c| c.incr(k, delta))
    }

    /// Swaps `key` to `value` if it still holds `expected` (`None`: still absent).
    pub fn compare_and_swap(
        &mut self,
        full_key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool> {
        let swapped: i64 = self.run(|c| {
            redis::cmd("EVAL")
                .arg(CAS_SCRIPT)
                .arg(1)
                .arg(full_key)
                .arg(if expected.is_some() { "1" } else { "0" })
                .arg(expected.unwrap_or_default())
                .arg(value)
                .query(c)
        })?;
        Ok(swapped == 1)
    }

    /// The value of a full (prefixed) key.
    pub fn get_full(&mut self, full_key: &str) -> Result<Option<Vec<u8>>> {
        self.run(|c| c.get(full_key))
    }
}
