//! What Spin does with the app, done with crates.io parts so it can be tested here:
//!
//! 1. [`compose`]: plug the faas:cache component into the app's `faas:cache/cache@0.1.0` import
//!    with `wac-graph` (Spin composes component dependencies with wac the same way).
//! 2. [`serve`]: serve the composed component over real HTTP through `faas-cache-serve`'s serving
//!    code (`wasmtime-wasi-http`'s `ProxyHandler`), which reuses one WASIp3 instance for many
//!    requests (up to 128 in a row, 16 at once, like `spin up` and `wasmtime serve`), so the
//!    cache lives across requests. (The composed app imports no `faas:cache`: the host's
//!    provider, linked in too, goes unused.)
//!
//! 3. [`python::PythonGuest`]: run the Python package's test guest (componentize-py) with
//!    WASIp2, on a [`SimulatedClock`].
//!
//! [`serve_with_clock`] gives every instance a [`SimulatedClock`] as its WASI wall clock, so a
//! test can move time. Invariant: the host adds nothing to the app's behaviour; every header the
//! tests check comes from the guest.

pub mod client;
pub mod clock;
pub mod python;

pub use clock::SimulatedClock;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faas_cache_provider::{Scope, ScopeLimits};
pub use faas_cache_serve::Reuse;
use faas_cache_serve::{engine, linker, serve_until, App, Host, Router, WallClock};
use wac_graph::{plug, types::Package, CompositionGraph, EncodeOptions};
use wasmtime::component::Component;
use wasmtime::error::Context as _;

/// Plugs `dependency` (a component exporting `faas:cache/cache@0.1.0`) into `app`'s matching
/// import and returns the encoded, validated composition.
pub fn compose(app: &[u8], dependency: &[u8]) -> wasmtime::Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let app = Package::from_bytes("spin:app", None, app.to_vec(), graph.types_mut())
        .map_err(|e| wasmtime::format_err!("the app: {e:#}"))?;
    let app = graph.register_package(app)?;
    let dep = Package::from_bytes("faas:cache", None, dependency.to_vec(), graph.types_mut())
        .map_err(|e| wasmtime::format_err!("the dependency: {e:#}"))?;
    let dep = graph.register_package(dep)?;
    plug(&mut graph, vec![dep], app)?;
    let bytes = graph.encode(EncodeOptions::default())?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("the composed component does not validate")?;
    Ok(bytes)
}

/// The import names of a component (to show what the composition still needs from its host).
pub fn imports(component: &[u8]) -> wasmtime::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload? {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(section) if depth == 0 => {
                for import in section {
                    names.push(import?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// How long `component` (a composed HTTP app) takes to compile, and then to instantiate, in the
/// engine and linker [`serve`] uses (for the performance report).
pub async fn compile_and_instantiate(component: &[u8]) -> wasmtime::Result<(Duration, Duration)> {
    let engine = engine()?;
    let started = Instant::now();
    let component = Component::new(&engine, component)?;
    let compile = started.elapsed();
    let pre = linker(&engine)?.instantiate_pre(&component)?;
    let host = Host::new(Scope::new(ScopeLimits::default()), None);
    let mut store = faas_cache_serve::store(&engine, host);
    let started = Instant::now();
    pre.instantiate_async(&mut store).await?;
    Ok((compile, started.elapsed()))
}

/// Compiles `component` and serves it on `addr` until the returned task is aborted. Returns the
/// bound address (use port 0 for any free port).
pub async fn serve(
    component: &[u8],
    addr: SocketAddr,
    reuse: Reuse,
) -> wasmtime::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_with_clock(component, addr, reuse, None).await
}

/// [`serve`], with `clock` (when given) as every instance's WASI wall clock.
pub async fn serve_with_clock(
    component: &[u8],
    addr: SocketAddr,
    reuse: Reuse,
    clock: Option<SimulatedClock>,
) -> wasmtime::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let engine = engine()?;
    let component = Component::new(&engine, component)?;
    let app = App::from_component(
        &engine,
        &linker(&engine)?,
        "/".into(),
        &component,
        Scope::new(ScopeLimits::default()),
        reuse,
        clock.map(WallClock::new),
        None,
    )?;
    let router = Arc::new(Router::new(vec![app]));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(serve_until(
        listener,
        router,
        std::future::pending(),
        Duration::from_secs(1),
    ));
    Ok((bound, task))
}
