//! The HTTP trigger's server: tokio + hyper (HTTP/1.1 and HTTP/2), routing, Spin's
//! `/.well-known/spin/{health,info}`, request-body limit, one structured log line per request
//! ([`crate::log`]), and graceful stop on SIGINT/SIGTERM.
//!
//! `/.well-known/spin/health` answers `200 OK` whenever the process serves, as Spin's does
//! (spinframework/spin `crates/trigger-http/src/server.rs`, `well_known`): it is the liveness
//! and readiness probe of one function's process and touches neither components nor stores.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use ntbcare_language::Language;
use tokio::net::TcpListener;
use wasmtime_wasi_http::WasiBody;

use crate::log;
use crate::runtime::{Runtime, TimedOut};

const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

pub fn empty(status: StatusCode) -> Response<WasiBody> {
    body(status, Bytes::new())
}

/// What the host itself refuses or fails with, before or around a component, as JSON in the
/// shape the app's own errors have (`{"error": {"code", "message"}}`), so a client reads
/// every error alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostError {
    NoRoute,
    BodyTooLarge(u64),
    BodyTooSlow,
    Internal,
}

impl HostError {
    fn status(self) -> StatusCode {
        match self {
            HostError::NoRoute => StatusCode::NOT_FOUND,
            HostError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HostError::BodyTooSlow => StatusCode::REQUEST_TIMEOUT,
            HostError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn answer(self, lang: Language) -> Response<WasiBody> {
        let (code, id, en) = match self {
            HostError::NoRoute => (
                "no-route",
                "Alamat ini tidak ada.".to_string(),
                "There is nothing at this address.".to_string(),
            ),
            HostError::BodyTooLarge(limit) => (
                "payload-too-large",
                format!("Isi permintaan terlalu besar: paling banyak {} KB.", limit / 1024),
                format!("Request body too large: at most {} KB.", limit / 1024),
            ),
            HostError::BodyTooSlow => (
                "request-timeout",
                "Isi permintaan datang terlalu lambat; kirim ulang.".to_string(),
                "The request body arrived too slowly; send it again.".to_string(),
            ),
            HostError::Internal => (
                "internal-error",
                "Terjadi kesalahan di server; coba lagi nanti.".to_string(),
                "Something went wrong on the server; try again later.".to_string(),
            ),
        };
        let message = if lang == Language::En { en } else { id };
        let json = format!(
            "{{\"error\":{{\"code\":\"{code}\",\"message\":\"{}\"}}}}",
            message.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let mut r = body(self.status(), Bytes::from(json));
        r.headers_mut()
            .insert(http::header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        r
    }
}

fn body(status: StatusCode, bytes: Bytes) -> Response<WasiBody> {
    let mut r = Response::new(Full::new(bytes).map_err(|never: Infallible| match never {}).boxed_unsync());
    *r.status_mut() = status;
    r
}

pub fn log_request(
    component: &str,
    method: &Method,
    path: &str,
    route: &str,
    status: StatusCode,
    started: Instant,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // 5xx are the host's or a component's failures: an operator alerts on them.
    let level = if status.is_server_error() { log::Level::Error } else { log::Level::Info };
    log::emit(
        level,
        "request",
        &[
            ("component", component.into()),
            ("method", method.as_str().into()),
            ("path", path.into()),
            ("route", route.into()),
            ("status", i64::from(status.as_u16()).into()),
            ("duration_ms", log::Value::Ms(ms)),
        ],
    );
}

/// Bind, print Spin's startup lines, and serve until SIGINT/SIGTERM.
pub async fn serve(runtime: Arc<Runtime>, listen: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("{listen} is already in use")
        } else {
            anyhow::anyhow!("Unable to listen on {listen}: {e}")
        }
    })?;
    let local = listener.local_addr()?;
    let _ = runtime.local_addr.set(local);
    print_startup(&runtime, local)?;
    let base = format!("http://{local}");
    let mut components: Vec<&str> = runtime.components.keys().map(String::as_str).collect();
    components.sort_unstable();
    log::info(
        "serving",
        &[("listen", base.as_str().into()), ("components", components.join(",").as_str().into())],
    );

    let graceful = GracefulShutdown::new();
    let mut shutdown = Box::pin(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client_addr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        log::warn("accept failed", &[("error", e.to_string().as_str().into())]);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let runtime = runtime.clone();
                let service = hyper::service::service_fn(move |req| {
                    let runtime = runtime.clone();
                    async move { Ok::<_, Infallible>(handle(runtime, req, client_addr).await) }
                });
                let builder = Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => {
                log::info("shutting down: finishing requests in flight", &[]);
                drop(listener);
                if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
                    log::warn("some requests did not finish within 10s", &[]);
                }
                return Ok(());
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn print_startup(runtime: &Runtime, local: SocketAddr) -> Result<()> {
    let base = format!("http://{local}");
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nServing {base}")?;
    writeln!(out, "Available Routes:")?;
    for r in runtime.router.routes() {
        writeln!(out, "  {}: {base}{}", r.component_id, r.display())?;
        if let Some(d) = runtime.components.get(&r.component_id).and_then(|c| c.description.as_ref()) {
            writeln!(out, "    {d}")?;
        }
    }
    out.flush().context("flushing stdout")?;
    Ok(())
}

async fn handle(
    runtime: Arc<Runtime>,
    req: Request<Incoming>,
    client_addr: SocketAddr,
) -> Response<WasiBody> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let lang = Language::from_accept_language(
        req.headers().get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let shown = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.clone());

    if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
        return match well_known {
            "health" => body(StatusCode::OK, Bytes::from_static(b"OK")),
            "info" => {
                let info = format!(
                    "{{\n  \"name\": {:?},\n  \"version\": {:?},\n  \"oci_image_digest\": null\n}}",
                    runtime.app_name,
                    runtime.app_version.clone().unwrap_or_default()
                );
                let mut r = body(StatusCode::OK, Bytes::from(info));
                r.headers_mut().insert(http::header::CONTENT_TYPE, "application/json".parse().unwrap());
                r
            }
            _ => empty(StatusCode::NOT_FOUND),
        };
    }

    let Some(route) = runtime.router.route(&path) else {
        log_request("-", &method, &shown, "(none)", StatusCode::NOT_FOUND, started);
        return HostError::NoRoute.answer(lang);
    };

    let limit = runtime.options.max_request_body;
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        log_request(
            &route.component_id,
            &method,
            &shown,
            &route.raw_route,
            StatusCode::PAYLOAD_TOO_LARGE,
            started,
        );
        return HostError::BodyTooLarge(limit).answer(lang);
    }
    // Bodies without a declared length are cut off at the limit: the guest sees a stream error.
    let body = Arc::new(BodyState::default());
    body.ended.store(req.body().is_end_stream(), Ordering::Relaxed);
    let seen = body.clone();
    let req = req.map(|b| {
        let over = seen.clone();
        Limited::new(Watched { inner: b, state: seen }, limit as usize)
            .map_err(move |e| {
                if e.is::<LengthLimitError>() {
                    over.over_limit.store(true, Ordering::Relaxed);
                }
                wasmtime_wasi_http::Error::InternalError(Some(e.to_string()))
            })
            .boxed_unsync()
    });

    let response = match runtime.invoke(&route.component_id, &route, req, client_addr).await {
        // The host's limits are the host's answers, whatever the guest made of the cut-off
        // stream: 413 past the body limit, 408 for a client still sending at the timeout.
        Ok(r) if r.status().is_server_error() && body.over_limit.load(Ordering::Relaxed) => {
            HostError::BodyTooLarge(limit).answer(lang)
        }
        Ok(r) => r,
        Err(e) => {
            log::error(
                "error processing request",
                &[
                    ("component", route.component_id.as_str().into()),
                    ("error", format!("{e:#}").as_str().into()),
                ],
            );
            if body.over_limit.load(Ordering::Relaxed) {
                HostError::BodyTooLarge(limit).answer(lang)
            } else if e.is::<TimedOut>() && !body.ended.load(Ordering::Relaxed) {
                HostError::BodyTooSlow.answer(lang)
            } else {
                HostError::Internal.answer(lang)
            }
        }
    };
    log_request(&route.component_id, &method, &shown, &route.raw_route, response.status(), started);
    response
}

/// What became of a request body while the guest read it.
#[derive(Default)]
struct BodyState {
    /// The client sent all of it (or there was none).
    ended: AtomicBool,
    /// It ran past `--max-request-body`.
    over_limit: AtomicBool,
}

/// A request body that records in [`BodyState`] when it ends.
struct Watched {
    inner: Incoming,
    state: Arc<BodyState>,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.state.ended.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
