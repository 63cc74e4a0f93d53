//! The loaded application: compiled components, router, stores and variables, and the
//! invocation of one component for one request (the wasmtime-wasi-http p2 request path).
//!
//! Start-up refusals mirror Spin's: a component that declares a key-value label with no
//! configured store, a required variable with no value, an allowed host that does not parse
//! once its template resolves, and (with `--component-id`) a selected component that chains
//! to one left out.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use http::{HeaderName, HeaderValue, Request, Response};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::bindings::cron::SpinCronPre;
use crate::instance::HostState;
use crate::key_value::Stores;
use crate::manifest::{App, CronTrigger};
use crate::routes::{RouteMatch, Router};
use crate::variables::Resolver;

pub struct Options {
    pub request_timeout: Option<Duration>,
    pub max_request_body: u64,
    pub max_guest_memory: usize,
    /// Use wasmtime's pooling instance allocator (Spin's default).
    pub pooling: bool,
    /// Where compiled components are kept between runs; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
}

pub struct ComponentRuntime {
    pub id: Arc<str>,
    pub description: Option<String>,
    /// `wasi:http/incoming-handler`, for components an HTTP trigger (or chaining) reaches.
    pub pre: Option<ProxyPre<HostState>>,
    /// `handle-cron-event`, for components a `[[trigger.cron]]` runs.
    pub cron: Option<SpinCronPre<HostState>>,
    pub key_value_stores: Arc<HashSet<String>>,
    pub allowed_hosts: Arc<AllowedHosts>,
    pub environment: Vec<(String, String)>,
}

pub struct Runtime {
    pub app_name: String,
    pub app_version: Option<String>,
    pub engine: Engine,
    pub components: HashMap<String, ComponentRuntime>,
    pub router: Router,
    pub stores: Arc<Stores>,
    pub resolver: Arc<Resolver>,
    pub options: Options,
    pub local_addr: OnceLock<SocketAddr>,
    /// `[[trigger.cron]]` of the served components, started by [`crate::cron::start`].
    pub cron_triggers: Vec<CronTrigger>,
}

/// Epoch ticks drive the per-request CPU deadline.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A request that got no response within the request timeout: the server tells a client
/// that was still sending its body (408) from a component that was slow (500).
#[derive(Debug)]
pub struct TimedOut(pub Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no response within {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

impl Runtime {
    pub fn build(
        app: &App,
        stores: Stores,
        resolver: Arc<Resolver>,
        selected: &[String],
        options: Options,
    ) -> Result<Arc<Runtime>> {
        // Components served: those with an HTTP or a cron trigger, limited to --component-id.
        // One component may have both (it then exports both entry points), as on Spin, where
        // each trigger loads the components its own triggers name.
        let mut http_served: Vec<&str> = Vec::new();
        for t in &app.http_triggers {
            if !http_served.contains(&t.component.as_str()) {
                http_served.push(&t.component);
            }
        }
        let mut cron_served: Vec<&str> = Vec::new();
        for t in &app.cron_triggers {
            if !cron_served.contains(&t.component.as_str()) {
                cron_served.push(&t.component);
            }
        }
        for id in selected {
            if !app.components.contains_key(id) {
                bail!("--component-id {id:?}: no such component in the manifest");
            }
            if !http_served.contains(&id.as_str()) && !cron_served.contains(&id.as_str()) {
                bail!("--component-id {id:?}: the component has no trigger");
            }
        }
        if !selected.is_empty() {
            http_served.retain(|id| selected.iter().any(|s| s == id));
            cron_served.retain(|id| selected.iter().any(|s| s == id));
        }
        let mut served = http_served.clone();
        for id in &cron_served {
            if !served.contains(id) {
                served.push(id);
            }
        }

        resolver.ensure_required_resolvable()?;

        let mut config = Config::new();
        config.epoch_interruption(true);
        if options.pooling {
            // As Spin (which also has `--disable-pooling`): instance slots are reserved once and
            // reused, so instantiating per request does not map and unmap memory each time.
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            pool.total_component_instances(1000)
                .total_core_instances(4000)
                .total_memories(2000)
                .total_tables(4000)
                .max_core_instances_per_component(50)
                .max_memories_per_component(4)
                .max_tables_per_component(20)
                .max_memory_size(options.max_guest_memory);
            // Where Linux has PAGEMAP_SCAN (6.7+), a slot reused for the next request is reset
            // by rewriting only the pages the last one dirtied, not by `madvise`, whose TLB
            // shootdowns and page faults on the next request were ~8% of a complaint's CPU
            // (docs/benchmarks.md). Without it, keeping memory resident would mean a memset
            // of all of it per request, which costs more than it saves.
            if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
                pool.linear_memory_keep_resident(1 << 20)
                    .table_keep_resident(1 << 20)
                    .pagemap_scan(wasmtime::Enabled::Yes);
            }
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = match Engine::new(&config) {
            Ok(e) => e,
            Err(e) if options.pooling => {
                crate::log::warn(
                    "pooling allocator unavailable; allocating on demand",
                    &[("error", format!("{e}").as_str().into())],
                );
                config.allocation_strategy(wasmtime::InstanceAllocationStrategy::OnDemand);
                Engine::new(&config).map_err(|e| anyhow!("{e:?}"))?
            }
            Err(e) => return Err(anyhow!("{e:?}")),
        };
        {
            let engine = engine.clone();
            std::thread::Builder::new().name("epoch".into()).spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            })?;
        }
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(|e| anyhow!("{e:?}"))?;
        crate::bindings::SpinImports::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| anyhow!("{e:?}"))?;

        let mut components = HashMap::new();
        for id in &served {
            let c = &app.components[*id];
            for label in &c.key_value_stores {
                if !stores.is_defined(label) {
                    bail!("unknown key_value_stores label {label:?} for component {id:?}");
                }
            }
            let allowed = AllowedHosts::resolve(&c.allowed_outbound_hosts, |v| {
                resolver.app_variable(v).map_err(|e| anyhow!("{e}"))
            })
            .with_context(|| format!("component {id:?}: allowed_outbound_hosts"))?;
            for target in allowed.chaining_targets() {
                if !selected.is_empty() {
                    if target == "*" {
                        bail!("Selected component '{id}' cannot use wildcard service chaining: allowed_outbound_hosts = [\"http://*.spin.internal\"]");
                    }
                    if !http_served.contains(&target.as_str()) {
                        bail!("Selected component '{id}' cannot use service chaining to unselected component: allowed_outbound_hosts = [\"http://{target}.spin.internal\"]");
                    }
                }
            }
            let component = load_component(&engine, &c.source, options.cache_dir.as_deref())
                .with_context(|| format!("loading component {id:?} from {}", c.source.display()))?;
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(|e| anyhow!("{e:?}"))
                .with_context(|| format!("component {id:?} needs an import this host does not provide"))?;
            let pre = if http_served.contains(id) {
                Some(ProxyPre::new(instance_pre.clone()).map_err(|e| anyhow!("{e:?}")).with_context(
                    || format!("component {id:?} does not export wasi:http/incoming-handler@0.2.x"),
                )?)
            } else {
                None
            };
            let cron = if cron_served.contains(id) {
                Some(SpinCronPre::new(instance_pre).map_err(|e| anyhow!("{e:?}")).with_context(|| {
                    format!(
                        "component {id:?} has a [[trigger.cron]] but does not export handle-cron-event \
                         (world fermyon:spin-cron/spin-cron@2.0.0)"
                    )
                })?)
            } else {
                None
            };
            components.insert(
                id.to_string(),
                ComponentRuntime {
                    id: Arc::from(*id),
                    description: c.description.clone(),
                    pre,
                    cron,
                    key_value_stores: Arc::new(c.key_value_stores.iter().cloned().collect()),
                    allowed_hosts: Arc::new(allowed),
                    environment: c.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                },
            );
        }

        let entries: Vec<(&str, &str)> = app
            .http_triggers
            .iter()
            .filter(|t| http_served.contains(&t.component.as_str()))
            .filter_map(|t| t.route.as_deref().map(|r| (t.component.as_str(), r)))
            .collect();
        let (router, duplicates) = Router::build(entries)?;
        if !duplicates.is_empty() {
            eprintln!("The following component routes are duplicates and will never be used:");
            for d in &duplicates {
                let route = if d.route.is_empty() { "/" } else { &d.route };
                eprintln!("  {}: {} (duplicate of {})", d.replaced, route, d.effective);
            }
        }

        Ok(Arc::new(Runtime {
            app_name: app.name.clone(),
            app_version: app.version.clone(),
            engine,
            components,
            router,
            stores: Arc::new(stores),
            resolver,
            options,
            local_addr: OnceLock::new(),
            cron_triggers: app
                .cron_triggers
                .iter()
                .filter(|t| cron_served.contains(&t.component.as_str()))
                .cloned()
                .collect(),
        }))
    }

    /// A fresh store for one invocation: memory limit and CPU deadline set.
    pub fn new_store(self: &Arc<Self>, component: &ComponentRuntime) -> Store<HostState> {
        let mut store = Store::new(&self.engine, HostState::new(self, component));
        store.limiter(|s| &mut s.limits);
        let ticks = match self.options.request_timeout {
            Some(t) => (t.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
            None => u64::MAX / 4,
        };
        store.set_epoch_deadline(ticks);
        store
    }

    /// Run `component_id` for one request. Errors (traps, no response) are the caller's 500.
    pub async fn invoke(
        self: &Arc<Self>,
        component_id: &str,
        route: &RouteMatch,
        mut req: Request<WasiBody>,
        client_addr: SocketAddr,
    ) -> Result<Response<WasiBody>> {
        let component = self
            .components
            .get(component_id)
            .with_context(|| format!("unknown component {component_id:?}"))?;
        prepare_request(&mut req, route, client_addr)?;

        let mut store = self.new_store(component);
        let used_kv = store.data().kv.used.clone();

        let (tx, rx) = tokio::sync::oneshot::channel();
        let request =
            store.data_mut().http().new_incoming_request(Scheme::Http, req).map_err(|e| anyhow!("{e:?}"))?;
        let outparam = store.data_mut().http().new_response_outparam(tx).map_err(|e| anyhow!("{e:?}"))?;
        let pre = component
            .pre
            .clone()
            .with_context(|| format!("component {component_id:?} has no HTTP trigger"))?;
        let task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy.wasi_http_incoming_handler().call_handle(&mut store, request, outparam).await
        });

        let waited = match self.options.request_timeout {
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(r) => r,
                Err(_) => {
                    task.abort();
                    return Err(anyhow!(TimedOut(t))
                        .context(format!("component {component_id:?} gave no response within {t:?}")));
                }
            },
            None => rx.await,
        };
        match waited {
            Ok(Ok(response)) => {
                // Nothing leaves before what the request stored (or read) is durable.
                if used_kv.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Err(e) = self.stores.sync().await {
                        task.abort();
                        bail!("component {component_id:?}: its writes could not be made durable: {e}");
                    }
                }
                // The guest may still be streaming the body; report a trap after the headers.
                let id = component_id.to_string();
                tokio::spawn(async move {
                    match task.await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => crate::log::error(
                            "component error after response started",
                            &[("component", id.as_str().into()), ("error", format!("{e:?}").as_str().into())],
                        ),
                        Err(e) if e.is_cancelled() => {}
                        Err(e) => crate::log::error(
                            "component task failed",
                            &[("component", id.as_str().into()), ("error", format!("{e}").as_str().into())],
                        ),
                    }
                });
                Ok(response.map(|b| b))
            }
            Ok(Err(code)) => bail!("component {component_id:?} responded with error {code:?}"),
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("component {component_id:?} returned without setting a response"),
                Ok(Err(e)) => Err(anyhow!("component {component_id:?} failed: {e:?}")),
                Err(e) => Err(anyhow!("component {component_id:?} task failed: {e}")),
            },
        }
    }

    /// A service-chaining request from one component to `target`, in process.
    pub async fn handle_chained(
        self: &Arc<Self>,
        target: &str,
        mut req: Request<WasiBody>,
    ) -> Result<Response<WasiBody>, wasmtime_wasi_http::Error> {
        if self.components.get(target).is_none_or(|c| c.pre.is_none()) {
            crate::log::error(
                "service chaining: no such component is served by this app",
                &[("component", target.into())],
            );
            return Err(wasmtime_wasi_http::Error::DestinationNotFound);
        }
        // Spin strips a `*.spin.internal` Host header and takes the authority from the URI.
        req.headers_mut().remove(http::header::HOST);
        let route = RouteMatch::synthetic(target, req.uri().path());
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path_and_query().map(|p| crate::log::target(p.as_str())).unwrap_or_default();
        let chained_client: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let response = match self.invoke(target, &route, req, chained_client).await {
            Ok(r) => r,
            Err(e) => {
                crate::log::error(
                    "error processing chained request",
                    &[("component", target.into()), ("error", format!("{e:#}").as_str().into())],
                );
                crate::server::empty(http::StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        crate::server::log_request(target, &method, &path, "/... (chained)", response.status(), started);
        Ok(response)
    }
}

/// Headers and URI as Spin gives them to a WASIp2 component (spinframework/spin
/// `crates/trigger-http/src/headers.rs`, `server.rs::set_req_uri`).
fn prepare_request(req: &mut Request<WasiBody>, route: &RouteMatch, client_addr: SocketAddr) -> Result<()> {
    let uri = req.uri().clone();
    let host = match req.headers().get(http::header::HOST) {
        Some(h) => h.to_str().context("'Host' header is not valid UTF-8")?.to_string(),
        None => match uri.authority() {
            Some(a) => a.to_string(),
            None => "localhost".to_string(),
        },
    };
    let scheme = uri.scheme_str().unwrap_or("http").to_string();
    let path_and_query = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let full_url = format!("{scheme}://{host}{path_and_query}");

    let mut set = vec![
        ("spin-path-info".to_string(), route.path_info.clone()),
        ("spin-full-url".to_string(), full_url),
        ("spin-matched-route".to_string(), route.based_route.clone()),
        ("spin-base-path".to_string(), "/".to_string()),
        ("spin-raw-component-route".to_string(), route.raw_route.clone()),
        ("spin-component-route".to_string(), route.raw_route_or_prefix.clone()),
        ("spin-client-addr".to_string(), client_addr.to_string()),
    ];
    for (name, value) in &route.named {
        set.push((format!("spin-path-match-{}", name.to_ascii_lowercase().replace('_', "-")), value.clone()));
    }
    let headers = req.headers_mut();
    // A client cannot pose as the host: its own spin-* values are replaced, not appended.
    for (name, value) in set {
        if let (Ok(n), Ok(v)) = (name.parse::<HeaderName>(), HeaderValue::from_str(&value)) {
            headers.insert(n, v);
        }
    }
    let new_uri = http::Uri::builder()
        .scheme(scheme.as_str())
        .authority(host.as_str())
        .path_and_query(path_and_query.as_str())
        .build()
        .context("request URI")?;
    *req.uri_mut() = new_uri;
    Ok(())
}

/// Compile `source`, or load it from the cache keyed by its bytes and this engine's settings.
fn load_component(engine: &Engine, source: &Path, cache_dir: Option<&Path>) -> Result<Component> {
    let bytes = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let Some(cache_dir) = cache_dir else {
        return Component::new(engine, &bytes).map_err(|e| anyhow!("{e:?}"));
    };
    let mut hasher = Sha256::new();
    hasher.update(&bytes);
    {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        hasher.update(h.finish().to_le_bytes());
    }
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    let key: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let path = cache_dir.join(format!("{key}.cwasm"));
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of this same engine
        // configuration (its key includes the engine's compatibility hash and our version);
        // wasmtime also checks the header before using it.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(c) => return Ok(c),
            Err(e) => crate::log::warn(
                "ignoring unusable compile cache entry",
                &[
                    ("path", path.display().to_string().as_str().into()),
                    ("error", format!("{e:?}").as_str().into()),
                ],
            ),
        }
    }
    let component = Component::new(engine, &bytes).map_err(|e| anyhow!("{e:?}"))?;
    if let Ok(serialized) = component.serialize() {
        let _ = std::fs::create_dir_all(cache_dir);
        let tmp = cache_dir.join(format!("{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, serialized).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(component)
}
