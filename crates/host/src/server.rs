//! The HTTP trigger's server: tokio + hyper (HTTP/1.1 and HTTP/2), routing, Spin's
//! `/.well-known/spin/{health,info}`, request-body limit, one structured log line per request
//! ([`crate::log`]), and graceful stop on SIGINT/SIGTERM.
//!
//! Connections are bounded before and between requests, as nginx's `client_header_timeout`
//! and `keepalive_timeout` bound them: a client has [`Limits::header_read_timeout`] to send a
//! whole request head (from the moment it connects, or from the end of its previous response
//! on a kept-alive connection); a client that sends nothing, half a request line, or headers a
//! byte at a time is disconnected when it runs out. Without this, each such client held a
//! file descriptor and a task for ever (6,000 idle connections were held in a test). At most
//! [`Limits::max_connections`] connections are served at once; more wait in the kernel's
//! listen backlog, unaccepted, rather than exhausting the host's file descriptors.
//!
//! Why the host reads the first bytes itself: hyper-util's `auto` builder first reads up to
//! 24 bytes to tell HTTP/1 from HTTP/2 and has no timeout on that read
//! (hyperium/hyper#3962), so hyper's own header timeout only starts once the client has sent
//! something. The host makes that read itself, under the same deadline, and hands the bytes
//! read to hyper with the protocol chosen. HTTP/2 (prior knowledge, `h2c`; no browser speaks
//! it without TLS) must send its preface in time too; after that hyper has no header timeout
//! for it, and an idle HTTP/2 connection is only closed when it stops answering pings.
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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use ntbcare_language::Language;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
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

/// How long connections may wait and how many there may be (see the module's docs).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest a client may take to send a request head, counted from its connection or from
    /// the end of its previous response; also how long an idle kept-alive connection stays.
    pub header_read_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// The first bytes an HTTP/2 client with prior knowledge sends (RFC 9113, 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Bind, print Spin's startup lines, and serve until SIGINT/SIGTERM.
pub async fn serve(runtime: Arc<Runtime>, listen: SocketAddr, limits: Limits) -> Result<()> {
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
    // Connections still being read for their first request are not hyper's yet: they are told
    // to stop through this instead.
    let (stopping, _) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut shutdown = Box::pin(shutdown_signal());
    loop {
        tokio::select! {
            accepted = async {
                // Accept only with a free slot: beyond the limit, clients wait in the backlog.
                let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
                (listener.accept().await, slot)
            } => {
                let (stream, client_addr, slot) = match accepted {
                    (Ok((stream, addr)), slot) => (stream, addr, slot),
                    (Err(e), _) => {
                        log::warn("accept failed", &[("error", e.to_string().as_str().into())]);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let runtime = runtime.clone();
                let watcher = graceful.watcher();
                let mut stopping = stopping.subscribe();
                tokio::spawn(async move {
                    let _slot = slot;
                    let sniffed = tokio::select! {
                        s = tokio::time::timeout(limits.header_read_timeout, sniff(stream)) => s,
                        _ = stopping.wait_for(|stop| *stop) => return,
                    };
                    // Nothing, or too little to tell the protocol, in time: close.
                    let Ok(Some((protocol, io))) = sniffed else { return };
                    let service = hyper::service::service_fn(move |req| {
                        let runtime = runtime.clone();
                        async move { Ok::<_, Infallible>(handle(runtime, req, client_addr).await) }
                    });
                    let mut builder = Builder::new(TokioExecutor::new());
                    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
                    builder
                        .http2()
                        .timer(TokioTimer::new())
                        .keep_alive_interval(limits.header_read_timeout);
                    let builder = match protocol {
                        Protocol::Http1 => builder.http1_only(),
                        Protocol::Http2 => builder.http2_only(),
                    };
                    let conn = builder.serve_connection(TokioIo::new(io), service).into_owned();
                    let _ = watcher.watch(conn).await;
                });
            }
            _ = &mut shutdown => {
                log::info("shutting down: finishing requests in flight", &[]);
                drop(listener);
                let _ = stopping.send(true);
                if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
                    log::warn("some requests did not finish within 10s", &[]);
                }
                return Ok(());
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Http1,
    Http2,
}

/// Read until the first bytes tell HTTP/1 from HTTP/2 (HTTP/2's preface, or anything else);
/// `None` if the client closes first. The bytes read are given back ahead of the stream.
async fn sniff(mut stream: TcpStream) -> Option<(Protocol, Prefixed)> {
    let mut buf = [0u8; H2_PREFACE.len()];
    let mut len = 0;
    loop {
        let n = stream.read(&mut buf[len..]).await.ok()?;
        if n == 0 {
            return None;
        }
        len += n;
        let protocol = if buf[..len] != H2_PREFACE[..len] {
            Protocol::Http1
        } else if len == H2_PREFACE.len() {
            Protocol::Http2
        } else {
            continue;
        };
        return Some((protocol, Prefixed { prefix: Bytes::copy_from_slice(&buf[..len]), inner: stream }));
    }
}

/// A TCP stream with bytes already read from it put back in front.
struct Prefixed {
    prefix: Bytes,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(out.remaining());
            out.put_slice(&self.prefix.split_to(n));
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, out)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
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
    // Never the query's values: they carry tracking secrets (`?secret=`, `?kode=`), see crate::log.
    let shown = req.uri().path_and_query().map(|p| log::target(p.as_str())).unwrap_or_else(|| path.clone());

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
