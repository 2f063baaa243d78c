//! # faas-cache-serve
//!
//! Serves `wasi:http` components the way `wasmtime serve` does (WASIp2 `incoming-handler` with
//! all of WASI 0.2, or WASIp3 `handler`), with `faas:cache/{cache,policy,named}` provided by the
//! host (`faas-cache-provider`): each app has a scope of named caches that every instance of it
//! shares and that outlives them, so an app served with a fresh instance per request still gets
//! hits. Apps sit at path prefixes (the longest prefix wins); `--state FILE` keeps the caches
//! across restarts.
//!
//! Invariants: a request reaches exactly one app, the one with the longest matching prefix, or
//! gets a 404; a failing or trapping instance gets its request a 500 and touches nothing else;
//! on SIGINT or SIGTERM the server stops accepting, lets the requests in flight finish (10 s at
//! most), writes the state file (when asked to) and exits 0.

mod app;
mod args;
mod state;

use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Bytes;
use wasmtime::error::Context as _;

pub use app::{engine, linker, store, App, AppKv, Host, Reuse, WallClock, REQUEST_TIMEOUT};
pub use args::Args;
use faas_cache_provider::{Scope, ScopeLimits};

/// The apps, longest prefix first.
pub struct Router {
    apps: Vec<App>,
}

impl Router {
    /// A router over `apps`.
    pub fn new(mut apps: Vec<App>) -> Router {
        apps.sort_by_key(|app| std::cmp::Reverse(app.prefix.len()));
        Router { apps }
    }

    /// The app with the longest prefix that `path` starts with at a segment boundary: `/api`
    /// serves `/api`, `/api/...` and `/api?...`, not `/apiary`; `/` serves every path.
    pub fn route(&self, path: &str) -> Option<&App> {
        self.apps.iter().find(|app| {
            path.strip_prefix(app.prefix.as_str()).is_some_and(|rest| {
                app.prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?'])
            })
        })
    }

    /// Every app with its scope.
    pub fn scopes(&self) -> Vec<(String, Scope)> {
        self.apps
            .iter()
            .map(|a| (a.prefix.clone(), a.scope.clone()))
            .collect()
    }
}

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

fn plain(status: hyper::StatusCode, text: &'static str) -> hyper::Response<Body> {
    let body = http_body_util::Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = status;
    response
}

/// Answers one request with the app its path routes to.
async fn answer(
    router: Arc<Router>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Body>, Infallible> {
    let Some(app) = router.route(req.uri().path()) else {
        return Ok(plain(hyper::StatusCode::NOT_FOUND, "no app at this path\n"));
    };
    let req = req.map(|body| body.map_err(Into::into).boxed_unsync());
    match app.handler.handle((), req).await {
        Ok(response) => Ok(response),
        Err(e) => {
            eprintln!("faas-cache-serve: {}: request failed: {e:#}", app.prefix);
            Ok(plain(
                hyper::StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error\n",
            ))
        }
    }
}

/// Accepts connections on `listener` and serves them with `router` until `stop` resolves, then
/// lets the requests in flight finish (for at most `drain`) and closes every connection.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Arc<Router>,
    stop: impl std::future::Future<Output = ()>,
    drain: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    eprintln!("faas-cache-serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |req| answer(router.clone(), req));
        let io = hyper_util::rt::TokioIo::new(stream);
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(io, service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!(
            "faas-cache-serve: requests still running after {} s; stopping anyway",
            drain.as_secs()
        );
    }
}

/// Resolves on the first SIGINT or SIGTERM. Registers both handlers before it returns, so a
/// signal that comes before the future is polled is not lost (nor fatal).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// A seed for an L1's key hashing that another process cannot guess.
fn random_seed() -> (u64, u64) {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    (state.hash_one(1u8), state.hash_one(2u8))
}

/// Runs the server as `args` say, until SIGINT or SIGTERM.
pub async fn run(args: Args) -> wasmtime::Result<()> {
    // First, so that a signal while the apps compile stops the server cleanly (exit 0).
    let stop = shutdown_signal().context("cannot listen for SIGINT/SIGTERM")?;
    let apps = args.all_apps();
    if apps.is_empty() {
        wasmtime::bail!("no app to serve: give APP.wasm or --app PREFIX=APP.wasm");
    }
    let mut prefixes: Vec<&str> = apps.iter().map(|(p, _)| p.as_str()).collect();
    prefixes.sort_unstable();
    if let Some(w) = prefixes.windows(2).find(|w| w[0] == w[1]) {
        wasmtime::bail!("two apps at the prefix {}", w[0]);
    }
    let limits = ScopeLimits {
        ceiling: Some(args.ceiling),
        max_names: Some(args.max_names as usize),
    };
    let reuse = Reuse {
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        ..Reuse::one_at_a_time(
            usize::try_from(args.reuse).unwrap_or(usize::MAX),
            Duration::from_secs_f64(args.idle_timeout),
        )
    };
    let l1_settings = match &args.keyvalue {
        Some(_) => Some(args.l1_settings().map_err(wasmtime::Error::msg)?),
        None => None,
    };
    let engine = engine()?;
    let linker = linker(&engine)?;
    let mut loaded = Vec::new();
    for (prefix, path) in apps {
        let kv = match (&args.keyvalue, &l1_settings) {
            (Some(url), Some(settings)) => Some(Arc::new(
                faas_kv_provider::AppL1::new(
                    url,
                    &args.buckets,
                    settings.clone(),
                    faas_cache_provider::ScopeClock::System,
                    random_seed(),
                )
                .map_err(|e| wasmtime::Error::msg(format!("--keyvalue {url}: {e}")))?,
            )),
            _ => None,
        };
        loaded.push(App::load(
            &engine,
            &linker,
            prefix,
            &path,
            Scope::new(limits),
            reuse,
            kv,
        )?);
    }
    let router = Arc::new(Router::new(loaded));
    let scopes = router.scopes();
    let mut kept = match &args.state {
        Some(path) => {
            let mut saved = state::load(path);
            state::restore(path, &mut saved, &scopes);
            saved
        }
        None => state::Saved::default(),
    };

    let listener = tokio::net::TcpListener::bind(args.addr.as_str())
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let bound = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{bound}")?;
        out.flush()?;
    }

    let purging = {
        let scopes = scopes.clone();
        let every = Duration::from_secs_f64(args.purge_every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for (_, scope) in &scopes {
                    scope.purge_expired();
                }
            }
        })
    };
    serve_until(listener, router, stop, Duration::from_secs(10)).await;
    purging.abort();
    if let Some(path) = &args.state {
        // Keep what was saved for prefixes not served now: it is written back.
        for (prefix, _) in &scopes {
            kept.scopes.remove(prefix);
        }
        state::save(path, &scopes, &kept)
            .with_context(|| format!("cannot write the state file {}", path.display()))?;
        eprintln!("faas-cache-serve: state written to {}", path.display());
    }
    Ok(())
}
