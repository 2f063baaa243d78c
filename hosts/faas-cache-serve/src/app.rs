//! One served app: its component, compiled once, its scope of named caches, and the
//! `ProxyHandler` that runs its instances with the reuse asked for (the command line's, or Spin's
//! for the Spin stand-in host, which serves through this module too). Invariant: every instance
//! of the app gets a store whose cache ctx shares the app's one scope, and nothing of one app's
//! store reaches another app.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use faas_cache_provider::{CacheCtx, CacheView, Scope, ScopeClock};
use faas_kv_provider::{AppL1, KvCtx, KvView};
use wasmtime::component::{Component, GuestTaskId, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store, StoreContextMut};
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// How instances are reused.
#[derive(Clone, Copy, Debug)]
pub struct Reuse {
    /// Requests one instance serves before it is dropped.
    pub max_requests: usize,
    /// Requests one instance serves at the same time (WASIp3 apps; a WASIp2 one takes one).
    pub max_concurrent: usize,
    /// An idle instance is dropped after this long.
    pub idle_timeout: Duration,
    /// A request that has no response after this long expires (its client gets a 500, and its
    /// instance is dropped).
    pub request_timeout: Duration,
}

impl Reuse {
    /// Up to `max_requests` requests, one at a time (`faas-cache-serve --reuse`).
    pub fn one_at_a_time(max_requests: usize, idle_timeout: Duration) -> Reuse {
        Reuse {
            max_requests,
            max_concurrent: 1,
            idle_timeout,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

impl Default for Reuse {
    /// What `wasmtime serve` and Spin do with a WASIp3 app: 128 requests, 16 at once, 1 s idle.
    fn default() -> Self {
        Reuse {
            max_requests: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// A wall clock every instance of an app reads instead of the machine's (a simulated one, in
/// tests); clones share it.
#[derive(Clone)]
pub struct WallClock(Arc<dyn HostWallClock + Sync>);

impl WallClock {
    /// `clock` as the instances' `wasi:clocks/wall-clock`.
    pub fn new(clock: impl HostWallClock + Sync + 'static) -> WallClock {
        WallClock(Arc::new(clock))
    }
}

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        self.0.resolution()
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}

/// Per-instance state: WASI, WASI HTTP and the cache provider's ctx over one resource table.
pub struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoingRequests,
    cache: CacheCtx,
    /// The app's `wasi:keyvalue` L1 (with `--keyvalue`; without, `open` fails).
    kv: KvCtx<ScopeClock>,
}

/// An app's `wasi:keyvalue` L1, shared by its instances.
pub type AppKv = Arc<AppL1<ScopeClock>>;

impl Host {
    /// A new instance's state: its stdout and stderr go to the server's stderr (stdout carries
    /// only the `listening on` line), its caches in `scope`, `wall_clock` (if any) as its WASI
    /// wall clock.
    pub fn new(scope: Scope, wall_clock: Option<&WallClock>) -> Host {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(wasmtime_wasi::cli::stderr()).inherit_stderr();
        if let Some(clock) = wall_clock {
            wasi.wall_clock(clock.clone());
        }
        Host {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            hooks: NoOutgoingRequests,
            cache: CacheCtx::new(scope),
            kv: KvCtx::new(None),
        }
    }

    /// The same state, with `wasi:keyvalue` served by the app's L1 `kv`.
    pub fn with_keyvalue(mut self, kv: Option<AppKv>) -> Host {
        self.kv = KvCtx::new(kv);
        self
    }

    fn cache_view(&mut self) -> CacheView<'_> {
        CacheView::new(&mut self.cache, &mut self.table)
    }

    fn kv_view(&mut self) -> KvView<'_, ScopeClock> {
        KvView::new(&mut self.kv, &mut self.table)
    }
}

/// Apps make no outgoing HTTP requests here: any attempt is denied.
struct NoOutgoingRequests;

type BoxedIo = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for NoOutgoingRequests {
    fn send_request(
        &mut self,
        _request: hyper::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _io: BoxedIo,
    ) -> Box<
        dyn Future<
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

/// How often a running guest yields to the server (an epoch tick): a guest that loops without
/// end holds no thread, and its request still expires.
pub const EPOCH_TICK: Duration = Duration::from_millis(50);

/// How long a request may run before it expires (its client gets a 500), by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The engine apps run on: the component model, with WASIp3's async support and epoch
/// interruption, ticked every [`EPOCH_TICK`] by a thread that ends with the engine.
pub fn engine() -> wasmtime::Result<Engine> {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("faas-cache-serve epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })?;
    Ok(engine)
}

/// A store for an instance of an app: a guest that runs yields at every epoch tick.
pub fn store(engine: &Engine, host: Host) -> Store<Host> {
    let mut store = Store::new(engine, host);
    store.epoch_deadline_async_yield_and_update(1);
    store.set_epoch_deadline(1);
    store
}

/// All of WASI 0.2 (as `wasmtime serve -Scli`), WASI HTTP 0.2 and 0.3, WASIp3,
/// `faas:cache/{cache,policy,named}` from the provider, and `wasi:keyvalue@0.2.0-draft2` from
/// each app's L1 (with `--keyvalue`; without, `open` fails with an error that says so).
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    faas_cache_provider::add_to_linker(&mut linker, Host::cache_view)?;
    faas_kv_provider::add_to_linker(&mut linker, Host::kv_view)?;
    Ok(linker)
}

/// When an idle instance is dropped.
pub struct Expiry {
    idle_timeout: Duration,
    request_timeout: Duration,
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
        // Idle: the idle timeout. Serving: the request timeout, the second line of defence
        // `on_request_start`'s docs ask for (its future may not be polled while a guest runs).
        let timeout = match status {
            WorkerStatus::Idle => me.idle_timeout,
            _ => me.request_timeout,
        };
        let Some(deadline) = start.checked_add(timeout) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if me.sleep.deadline() != deadline {
            me.sleep.as_mut().reset(deadline);
        }
        me.sleep.as_mut().poll(cx)
    }
}

/// How many requests an instance takes.
pub struct Worker {
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
        // A request that produces no response in time expires.
        Box::pin(tokio::time::sleep(self.reuse.request_timeout))
    }

    fn drop(&self, _: Store<Host>, result: wasmtime::Result<()>) {
        // A trap fails the request it was serving (the client gets a 500); the scope, which
        // the store only shares, is untouched.
        if let Err(e) = result {
            eprintln!("faas-cache-serve: an instance failed: {e:#}");
        }
    }
}

/// What the handler needs to make an instance of the app.
pub struct AppState {
    engine: Engine,
    pre: ProxyPre<Host>,
    scope: Scope,
    reuse: Reuse,
    wall_clock: Option<WallClock>,
    kv: Option<AppKv>,
}

impl HandlerState for AppState {
    type StoreData = Host;
    type WorkerExpiration = Expiry;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<Host, Expiry, Worker>> {
        let host =
            Host::new(self.scope.clone(), self.wall_clock.as_ref()).with_keyvalue(self.kv.clone());
        let mut store = store(&self.engine, host);
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiry {
                idle_timeout: self.reuse.idle_timeout,
                request_timeout: self.reuse.request_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX / 4)),
            },
            state: Worker { reuse: self.reuse },
        })
    }
}

/// A served app.
pub struct App {
    pub prefix: String,
    pub scope: Scope,
    /// The app's `wasi:keyvalue` L1 (with `--keyvalue`).
    pub kv: Option<AppKv>,
    pub handler: ProxyHandler<AppState>,
}

impl App {
    /// Compiles the app at `path` and prepares its instances, which share `scope`.
    pub fn load(
        engine: &Engine,
        linker: &Linker<Host>,
        prefix: String,
        path: &Path,
        scope: Scope,
        reuse: Reuse,
        kv: Option<AppKv>,
    ) -> wasmtime::Result<App> {
        let component = Component::from_file(engine, path)
            .with_context(|| format!("cannot load the app {}", path.display()))?;
        App::from_component(engine, linker, prefix, &component, scope, reuse, None, kv)
            .with_context(|| format!("the app {}", path.display()))
    }

    /// [`App::load`] for a compiled component, with `wall_clock` (if any) as its instances'
    /// WASI wall clock.
    #[allow(clippy::too_many_arguments)]
    pub fn from_component(
        engine: &Engine,
        linker: &Linker<Host>,
        prefix: String,
        component: &Component,
        scope: Scope,
        reuse: Reuse,
        wall_clock: Option<WallClock>,
        kv: Option<AppKv>,
    ) -> wasmtime::Result<App> {
        let pre = linker.instantiate_pre(component)?;
        let pre = match wasmtime_wasi_http::p3::bindings::ServicePre::new(pre.clone()) {
            Ok(p3) => ProxyPre::P3(p3),
            Err(_) => ProxyPre::P2(
                wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre).context(
                    "it exports neither wasi:http/incoming-handler@0.2.x nor wasi:http/handler@0.3.x",
                )?,
            ),
        };
        let handler = ProxyHandler::new(AppState {
            engine: engine.clone(),
            pre,
            scope: scope.clone(),
            reuse,
            wall_clock,
            kv: kv.clone(),
        });
        Ok(App {
            prefix,
            scope,
            kv,
            handler,
        })
    }
}
