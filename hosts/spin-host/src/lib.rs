//! What Spin does with the app, done with crates.io parts so it can be tested here:
//!
//! 1. [`compose`]: plug the faas:cache component into the app's `faas:cache/cache@0.1.0` import
//!    with `wac-graph` (Spin composes component dependencies with wac the same way).
//! 2. [`serve`]: serve the composed component over real HTTP with `wasmtime-wasi-http`'s
//!    `ProxyHandler`, which reuses one WASIp3 instance for many requests (up to 128 in a row, 16 at
//!    once, like `spin up` and `wasmtime serve`), so the cache lives across requests.
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
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use std::future::Future;
use wac_graph::{plug, types::Package, CompositionGraph, EncodeOptions};
use wasmtime::component::{Component, GuestTaskId, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

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

/// Per-instance host state: WASI (clocks, random, cli) and WASI HTTP.
struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoingRequests,
}

impl Host {
    /// A new instance's state: stderr inherited, `clock` (if any) as the wall clock.
    fn new(clock: Option<&SimulatedClock>) -> Host {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr();
        if let Some(clock) = clock {
            wasi.wall_clock(clock.clone());
        }
        Host {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: NoOutgoingRequests,
        }
    }
}

/// The app makes no outgoing requests: any attempt is denied (and the TLS stack stays out).
struct NoOutgoingRequests;

/// A future the hooks hand back to wasmtime-wasi-http.
type BoxedIo = Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for NoOutgoingRequests {
    fn send_request(
        &mut self,
        _request: hyper::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _io: BoxedIo,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (hyper::Response<wasmtime_wasi_http::WasiBody>, BoxedIo),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// Instance reuse limits, as Spin 3.6+ and `wasmtime serve` use them for WASIp3 handlers.
#[derive(Clone, Copy, Debug)]
pub struct Reuse {
    /// Requests one instance serves before it is replaced (Spin: 128).
    pub max_requests: usize,
    /// Requests one instance serves at the same time (Spin: 16).
    pub max_concurrent: usize,
    /// An idle instance is dropped after this long (Spin: 1 s).
    pub idle_timeout: Duration,
}

impl Default for Reuse {
    fn default() -> Self {
        Reuse {
            max_requests: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

struct Server {
    engine: Engine,
    pre: ProxyPre<Host>,
    reuse: Reuse,
    clock: Option<SimulatedClock>,
}

struct Expiry {
    idle_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiry {
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        status: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        let me = self.get_mut();
        if status != WorkerStatus::Idle {
            return Poll::Pending;
        }
        let deadline = tokio::time::Instant::from_std(start + me.idle_timeout);
        if me.sleep.deadline() != deadline {
            me.sleep.as_mut().reset(deadline);
        }
        me.sleep.as_mut().poll(cx)
    }
}

struct Worker {
    reuse: Reuse,
}

impl WorkerState for Worker {
    type StoreData = Host;
    type RequestData = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        if total >= self.reuse.max_requests {
            ShouldAccept::Never
        } else if concurrent >= self.reuse.max_concurrent {
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        _: StoreContextMut<'_, Host>,
        _: (),
        _: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        // A request that produces no response in 30 s expires.
        Box::pin(tokio::time::sleep(Duration::from_secs(30)))
    }

    fn drop(&self, _: Store<Host>, result: wasmtime::Result<()>) {
        // A trap fails the requests it was serving (they get a 500); workers cancelled at
        // shutdown end here too, so nothing is printed.
        let _ = result;
    }
}

impl HandlerState for Server {
    type StoreData = Host;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<Host, Expiry, Worker>> {
        let mut store = Store::new(&self.engine, Host::new(self.clock.as_ref()));
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiry {
                idle_timeout: self.reuse.idle_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX / 4)),
            },
            state: Worker { reuse: self.reuse },
        })
    }
}

/// The engine HTTP apps run on: the component model with its async (WASIp3) support.
fn proxy_engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    Engine::new(&config)
}

/// WASIp2 and WASIp3, and WASIp3 HTTP: what a served app may import.
fn proxy_linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// How long `component` (a composed HTTP app) takes to compile, and then to instantiate, in the
/// engine and linker [`serve`] uses (for the performance report).
pub async fn compile_and_instantiate(component: &[u8]) -> wasmtime::Result<(Duration, Duration)> {
    let engine = proxy_engine()?;
    let started = Instant::now();
    let component = Component::new(&engine, component)?;
    let compile = started.elapsed();
    let pre = proxy_linker(&engine)?.instantiate_pre(&component)?;
    let mut store = Store::new(&engine, Host::new(None));
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
    let engine = proxy_engine()?;
    let component = Component::new(&engine, component)?;
    let pre = proxy_linker(&engine)?.instantiate_pre(&component)?;
    let pre = ProxyPre::P3(
        wasmtime_wasi_http::p3::bindings::ServicePre::new(pre)
            .context("the component does not export wasi:http/handler@0.3.0")?,
    );
    let handler = ProxyHandler::new(Server {
        engine,
        pre,
        reuse,
        clock,
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        async move {
                            let req = req.map(|body| body.map_err(Into::into).boxed_unsync());
                            match handler.handle((), req).await {
                                Ok(response) => Ok::<_, std::convert::Infallible>(response),
                                Err(e) => {
                                    eprintln!("request failed: {e:?}");
                                    let body = http_body_util::Full::new(hyper::body::Bytes::from(
                                        "500\n",
                                    ))
                                    .map_err(|never| match never {})
                                    .boxed_unsync();
                                    let mut response = hyper::Response::new(body);
                                    *response.status_mut() =
                                        hyper::StatusCode::INTERNAL_SERVER_ERROR;
                                    Ok(response)
                                }
                            }
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok((bound, task))
}
