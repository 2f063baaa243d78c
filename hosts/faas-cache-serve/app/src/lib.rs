//! The app that `faas-cache-serve`'s tests and benchmark serve: a WASIp2 HTTP handler whose
//! query says what to do with the cache (`faas:cache/{cache,policy,named}`, served by the host
//! or by the composed component). The path is not read, so the app works at any prefix; it is
//! echoed in `x-path`.
//!
//! | query | answer |
//! | --- | --- |
//! | `op=hit&key=K[&size=N]` (the default op) | `K`'s value from the named cache `items` (4 MiB, 60 s TTL), `x-cache: hit`; on a miss the value is made (`N` bytes), stored, `x-cache: miss` |
//! | `op=open&cache=C[&max=SIZE\|none][&items=N][&ttl=S][&policy=s3-fifo]` | `named.open`: 200 and `describe()`, or 409 and the error |
//! | `op=create[&max=SIZE\|none]` | `cache-dict.create` (a cache of this instance): 200 or 409 |
//! | `op=set&cache=C&key=K&value=V[&ttl=S]` | opens `C` (1 MiB) and sets: 200, or 409 and the error |
//! | `op=get&cache=C&key=K` | 200 and the value, or 404 |
//! | `op=names` | `named.names()`, one a line |
//! | `op=stats&cache=C` | `hits=H misses=M len=L bytes=B` |
//! | `op=ttl&cache=C&key=K` | `get-ttl`: the seconds left, `never`, or 404 |
//! | `op=instance` | how many requests this instance has served, this one included |
//! | `op=tick` | `tick()`'s count |
//! | `op=loop&key=K&n=N` | opens `items` (as `op=hit`), stores `K` (100 B) if absent, then `N` gets of it; the hits |
//! | `op=fill&cache=C&max=SIZE&n=N&size=S[&from=F]` | opens `C` and sets keys `F`..`F+N` to `S`-byte values; the cache's bytes |
//! | `op=nop` | nothing: no cache call at all (the no-cache baseline) |
//! | `op=kv-get&key=K[&bucket=B]` | `wasi:keyvalue` `get` in bucket `B` (`default`): 200 and the value, or 404 |
//! | `op=kv-set&key=K&value=V[&bucket=B]` | `set`: 200, or 409 and the error |
//! | `op=kv-delete&key=K`, `op=kv-exists&key=K`, `op=kv-incr&key=K&delta=D` | `delete`, `exists` (`true`/`false`), `increment` (the new value) |
//! | `op=kv-many&keys=A,B,...` | `get-many`: `K=V` or `K` (absent), one a line |
//! | `op=trap` | the instance traps |
//! | `op=spin` | the instance loops without end (until the server's request timeout) |
//!
//! Values in the query are percent-decoded (so names can hold any byte). Invariant: nothing but
//! `op=trap` panics.

#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: ["../../../wit", "wit"],
        world: "faas:serve-app/app",
        generate_all,
    });
}

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::faas::cache::cache::{tick, CacheDict, CacheError, Expiry, Options};
use bindings::faas::cache::named;
use bindings::faas::cache::policy::EvictionPolicy;
use bindings::wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use bindings::wasi::keyvalue::{atomics, batch, store};

struct App;

thread_local! {
    /// Requests this instance has served.
    static SERVED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[allow(unsafe_code)]
mod export {
    use super::{bindings, App};
    bindings::export!(App with_types_in bindings);
}

/// What one request answers: a status, headers and a body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn status(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            ..Reply::ok(body)
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query's parameters, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(path_with_query: &str) -> Query {
        let query = path_with_query.split_once('?').map_or("", |(_, q)| q);
        Query(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn describe(e: &CacheError) -> String {
    match e {
        CacheError::DataTooLarge(x) => format!(
            "data-too-large: {} bytes, {} available",
            x.entry_bytes, x.available_bytes
        ),
        CacheError::InvalidArgument(m) => format!("invalid-argument: {m}"),
        CacheError::KeyNotFound => "key-not-found".into(),
        CacheError::CorruptSnapshot(m) => format!("corrupt-snapshot: {m}"),
        CacheError::OutOfMemory => "out-of-memory".into(),
    }
}

/// The options a query asks for (`max` defaults to `default_max`; `none` removes it).
fn options(q: &Query, default_max: &str) -> Options {
    let max = q.get("max").unwrap_or(default_max);
    Options {
        default_ttl: q.get("ttl").and_then(|t| t.parse().ok()),
        max_size: (max != "none").then(|| max.to_owned()),
        max_items: q.get("items").and_then(|n| n.parse().ok()),
        removal_log_capacity: 0,
    }
}

fn policy(q: &Query) -> EvictionPolicy {
    match q.get("policy") {
        Some("s3-fifo") => EvictionPolicy::S3Fifo,
        _ => EvictionPolicy::Lru,
    }
}

fn open(q: &Query, default_max: &str) -> Result<CacheDict, Reply> {
    let name = q.get("cache").unwrap_or("items");
    named::open(name, &options(q, default_max), policy(q))
        .map_err(|e| Reply::status(409, describe(&e)))
}

fn kv_error(e: &store::Error) -> Reply {
    Reply::status(
        409,
        match e {
            store::Error::NoSuchStore => "no-such-store".to_owned(),
            store::Error::AccessDenied => "access-denied".to_owned(),
            store::Error::Other(m) => format!("other: {m}"),
        },
    )
}

/// The `kv-*` ops: `wasi:keyvalue` as the host provides it.
fn keyvalue(op: &str, q: &Query) -> Reply {
    let bucket = match store::open(q.get("bucket").unwrap_or("default")) {
        Ok(bucket) => bucket,
        Err(e) => return kv_error(&e),
    };
    let key = q.get("key").unwrap_or("k");
    let answer = match op {
        "kv-get" => bucket.get(key).map(|v| match v {
            Some(v) => Reply::ok(v),
            None => Reply::status(404, "absent"),
        }),
        "kv-set" => bucket
            .set(key, q.get("value").unwrap_or("").as_bytes())
            .map(|()| Reply::ok("ok")),
        "kv-delete" => bucket.delete(key).map(|()| Reply::ok("ok")),
        "kv-exists" => bucket.exists(key).map(|e| Reply::ok(e.to_string())),
        "kv-incr" => {
            let delta = q.get("delta").and_then(|d| d.parse().ok()).unwrap_or(1);
            atomics::increment(&bucket, key, delta).map(|n| Reply::ok(n.to_string()))
        }
        "kv-many" => {
            let keys: Vec<String> = q
                .get("keys")
                .unwrap_or("")
                .split(',')
                .map(str::to_owned)
                .collect();
            batch::get_many(&bucket, &keys).map(|pairs| {
                let lines: Vec<String> = pairs
                    .into_iter()
                    .map(|(k, v)| match v {
                        Some(v) => format!("{k}={}", String::from_utf8_lossy(&v)),
                        None => k,
                    })
                    .collect();
                Reply::ok(lines.join("\n"))
            })
        }
        _ => return Reply::status(400, "unknown kv op"),
    };
    answer.unwrap_or_else(|e| kv_error(&e))
}

/// The options of the `items` cache that `op=hit` and `op=loop` use: 4 MiB, 60 s TTL.
fn items_options() -> Options {
    Options {
        default_ttl: Some(60.0),
        max_size: Some("4M".into()),
        max_items: None,
        removal_log_capacity: 0,
    }
}

fn hit(q: &Query) -> Reply {
    let key = q.get("key").unwrap_or("k");
    let cache = match named::open("items", &items_options(), EvictionPolicy::Lru) {
        Ok(cache) => cache,
        Err(e) => return Reply::status(409, describe(&e)),
    };
    let (value, hit) = match cache.get(key) {
        Some(value) => (value, true),
        None => {
            let size = q
                .get("size")
                .and_then(|s| s.parse().ok())
                .unwrap_or(100usize);
            let mut value = format!("value of {key} ").into_bytes();
            value.resize(size.max(1), b'.');
            let _ = cache.set(key, &value);
            (value, false)
        }
    };
    let mut reply = Reply::ok(value);
    reply
        .headers
        .push(("x-cache".into(), if hit { "hit" } else { "miss" }.into()));
    reply
}

fn answer(path_with_query: &str) -> Reply {
    let q = Query::parse(path_with_query);
    let mut reply = match q.get("op").unwrap_or("hit") {
        "hit" => hit(&q),
        "open" => match open(&q, "1M") {
            Ok(cache) => Reply::ok(cache.describe()),
            Err(reply) => reply,
        },
        "create" => match CacheDict::create(&options(&q, "1M")) {
            Ok(cache) => Reply::ok(cache.describe()),
            Err(e) => Reply::status(409, describe(&e)),
        },
        "set" => match open(&q, "1M") {
            Ok(cache) => {
                let key = q.get("key").unwrap_or("k");
                let value = q.get("value").unwrap_or("").as_bytes();
                let expiry = match q.get("ttl").and_then(|t| t.parse().ok()) {
                    Some(ttl) => Expiry::Ttl(ttl),
                    None => Expiry::DefaultTtl,
                };
                match cache.set_with_expiry(key, value, expiry) {
                    Ok(()) => Reply::ok("stored"),
                    Err(e) => Reply::status(409, describe(&e)),
                }
            }
            Err(reply) => reply,
        },
        "get" => match open(&q, "1M") {
            Ok(cache) => match cache.get(q.get("key").unwrap_or("k")) {
                Some(value) => Reply::ok(value),
                None => Reply::status(404, "absent"),
            },
            Err(reply) => reply,
        },
        "names" => Reply::ok(named::names().join("\n")),
        "stats" => match open(&q, "1M") {
            Ok(cache) => {
                let s = cache.stats();
                Reply::ok(format!(
                    "hits={} misses={} len={} bytes={}",
                    s.hits,
                    s.misses,
                    cache.len(),
                    cache.byte_size()
                ))
            }
            Err(reply) => reply,
        },
        "ttl" => match open(&q, "1M") {
            Ok(cache) => match cache.get_ttl(q.get("key").unwrap_or("k")) {
                Ok(Some(ttl)) => Reply::ok(ttl.to_string()),
                Ok(None) => Reply::ok("never"),
                Err(e) => Reply::status(404, describe(&e)),
            },
            Err(reply) => reply,
        },
        "instance" => Reply::ok(SERVED.with(|s| s.get()).to_string()),
        "tick" => Reply::ok(tick().to_string()),
        "loop" => {
            let key = q.get("key").unwrap_or("k");
            let n: u64 = q.get("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            match named::open("items", &items_options(), EvictionPolicy::Lru) {
                Ok(cache) => {
                    if !cache.contains(key) {
                        let _ = cache.set(key, &[b'v'; 100]);
                    }
                    let hits = (0..n).filter(|_| cache.get(key).is_some()).count();
                    Reply::ok(hits.to_string())
                }
                Err(e) => Reply::status(409, describe(&e)),
            }
        }
        "fill" => match open(&q, "1M") {
            Ok(cache) => {
                let n: u64 = q.get("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                let from: u64 = q.get("from").and_then(|n| n.parse().ok()).unwrap_or(0);
                let size: usize = q.get("size").and_then(|n| n.parse().ok()).unwrap_or(100);
                let value = vec![b'f'; size];
                for i in from..from + n {
                    let _ = cache.set(&format!("fill-{i}"), &value);
                }
                Reply::ok(cache.byte_size().to_string())
            }
            Err(reply) => reply,
        },
        "nop" => Reply::ok("nop"),
        op if op.starts_with("kv-") => keyvalue(op, &q),
        "trap" => panic!("asked to trap"),
        "spin" => {
            let mut n = 0u64;
            loop {
                n = core::hint::black_box(n.wrapping_add(1));
            }
        }
        other => Reply::status(400, format!("unknown op {other:?}")),
    };
    let path = path_with_query.split('?').next().unwrap_or("");
    reply.headers.push(("x-path".into(), path.to_owned()));
    reply
}

fn respond(out: ResponseOutparam, reply: Reply) {
    let entries: Vec<(String, Vec<u8>)> = reply
        .headers
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    let Ok(headers) = Fields::from_list(&entries) else {
        return;
    };
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = body.write() {
        for chunk in reply.body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}

impl Guest for App {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        SERVED.with(|s| s.set(s.get() + 1));
        let path = request.path_with_query().unwrap_or_default();
        respond(out, answer(&path));
    }
}
