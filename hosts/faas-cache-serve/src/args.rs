//! The command line. Invariant: every option the spec names is here with its default;
//! values are checked when parsed, so a bad one fails before anything starts.

use std::path::PathBuf;

use clap::Parser;

/// Serve wasi:http components (WASIp2 `incoming-handler` or WASIp3 `handler`) with
/// `faas:cache/{cache,policy,named}` provided by the host: each app's named caches outlive its
/// instances.
#[derive(Parser, Debug, Clone)]
#[command(name = "faas-cache-serve", version)]
pub struct Args {
    /// The app to serve at `/` (the same as `--app /=APP.wasm`).
    #[arg(value_name = "APP.wasm")]
    pub app: Option<PathBuf>,

    /// An app served at a path prefix (repeatable; the longest prefix wins; the app sees the
    /// whole path). Each app has its own scope of named caches.
    #[arg(long = "app", value_name = "PREFIX=APP.wasm", value_parser = parse_app)]
    pub apps: Vec<(String, PathBuf)>,

    /// The address to listen on, HOST:PORT (a name such as `localhost` is resolved; port 0
    /// picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    pub addr: String,

    /// Requests an instance serves, one at a time, before it is dropped (1: a fresh instance
    /// per request).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub reuse: u64,

    /// Seconds an idle reused instance is kept (with `--reuse` above 1).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = parse_seconds)]
    pub idle_timeout: f64,

    /// Seconds a request may run without a response before it expires (500; the instance is
    /// dropped). A guest that loops without end yields every 50 ms, so it holds no thread.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = parse_seconds)]
    pub request_timeout: f64,

    /// Per app: the largest sum of its named caches' byte limits ("64M", "1G", bytes).
    #[arg(long, default_value = "64M", value_parser = parse_ceiling)]
    pub ceiling: u64,

    /// Per app: the most named caches (0: no named cache may be opened).
    #[arg(long, default_value_t = 256)]
    pub max_names: u32,

    /// Restore every app's named caches from FILE at start (if it exists); write them to FILE
    /// atomically on SIGINT or SIGTERM.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Seconds between background purges of expired entries.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = parse_seconds)]
    pub purge_every: f64,

    /// Provide `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft2` to every app from this Redis,
    /// through an L1 per app that all its instances share and that Redis keeps coherent
    /// (client-side caching). Bucket B's key K is the Redis key `B:K`.
    #[arg(long, value_name = "redis://HOST:PORT")]
    pub keyvalue: Option<String>,

    /// With `--keyvalue`: the bucket identifiers an app may open, comma-separated (any other
    /// gets `no-such-store`).
    #[arg(
        long,
        default_value = "default",
        value_name = "LIST",
        value_delimiter = ','
    )]
    pub buckets: Vec<String>,

    /// With `--keyvalue`: the L1's byte budget per app (as `faas:kv-l1`'s `l1_max_size`).
    #[arg(long, value_name = "SIZE")]
    pub l1_max_size: Option<String>,

    /// With `--keyvalue`: the L1's item limit per app (`l1_max_items`; none by default).
    #[arg(long, value_name = "N")]
    pub l1_max_items: Option<String>,

    /// With `--keyvalue`: seconds an L1 entry lives (`l1_ttl_seconds`, 5 by default); the
    /// staleness bound while Redis cannot track.
    #[arg(long, value_name = "SECONDS")]
    pub l1_ttl_seconds: Option<String>,

    /// With `--keyvalue`: seconds a cached absence lives (`l1_negative_ttl_seconds`; 0, off,
    /// by default).
    #[arg(long, value_name = "SECONDS")]
    pub l1_negative_ttl_seconds: Option<String>,

    /// With `--keyvalue`: seconds past its TTL a value may still answer when Redis fails
    /// (`l1_stale_if_error_seconds`; 0, off, by default).
    #[arg(long, value_name = "SECONDS")]
    pub l1_stale_if_error_seconds: Option<String>,

    /// With `--keyvalue`: the L1's eviction policy, `s3-fifo` (default) or `lru` (`l1_policy`).
    #[arg(long, value_name = "POLICY")]
    pub l1_policy: Option<String>,
}

impl Args {
    /// The L1 settings of `--keyvalue`, validated as `faas:kv-l1` validates its config keys.
    pub fn l1_settings(&self) -> Result<faas_kv_l1_core::Settings, String> {
        use faas_kv_l1_core::settings as keys;
        faas_kv_l1_core::Settings::from_config(|key| {
            Ok(match key {
                keys::MAX_SIZE_KEY => self.l1_max_size.clone(),
                keys::MAX_ITEMS_KEY => self.l1_max_items.clone(),
                keys::TTL_KEY => self.l1_ttl_seconds.clone(),
                keys::NEGATIVE_TTL_KEY => self.l1_negative_ttl_seconds.clone(),
                keys::STALE_IF_ERROR_KEY => self.l1_stale_if_error_seconds.clone(),
                keys::POLICY_KEY => self.l1_policy.clone(),
                _ => None,
            })
        })
        .map_err(|e| e.replace("config l1_", "--l1-").replace('_', "-"))
    }

    /// Every app with its prefix: the positional one at `/`, then the `--app` ones.
    pub fn all_apps(&self) -> Vec<(String, PathBuf)> {
        let mut apps: Vec<(String, PathBuf)> = self
            .app
            .iter()
            .map(|path| ("/".to_owned(), path.clone()))
            .collect();
        apps.extend(self.apps.iter().cloned());
        apps
    }
}

fn parse_app(s: &str) -> Result<(String, PathBuf), String> {
    let (prefix, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected PREFIX=APP.wasm"))?;
    if !prefix.starts_with('/') {
        return Err(format!("prefix `{prefix}`: must start with `/`"));
    }
    if path.is_empty() {
        return Err(format!("`{s}`: no file after `=`"));
    }
    Ok((prefix.to_owned(), PathBuf::from(path)))
}

fn parse_addr(s: &str) -> Result<String, String> {
    match s.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(s.to_owned()),
        _ => Err(format!("`{s}`: expected HOST:PORT")),
    }
}

fn parse_ceiling(s: &str) -> Result<u64, String> {
    faas_cache::parse_size(s).map_err(|e| e.to_string())
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.001..1e9).contains(&v) => Ok(v),
        _ => Err(format!("`{s}`: expected a number of seconds from 0.001")),
    }
}
