//! Per-request instance state (the `T` of `Store<T>`) and the guest's stdout/stderr.
//!
//! Every request gets a fresh `Store` with a fresh `HostState`, as Spin gives every request
//! to a WASIp2 component a fresh instance: nothing a guest keeps in memory survives a request.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::key_value::host::KvCtx;
use crate::outbound::OutboundHooks;
use crate::runtime::{ComponentRuntime, Runtime};
use crate::variables::Resolver;

pub struct HostState {
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub table: ResourceTable,
    pub hooks: OutboundHooks,
    pub kv: KvCtx,
    pub component_id: Arc<str>,
    pub resolver: Arc<Resolver>,
    pub limits: StoreLimits,
}

impl HostState {
    pub fn new(runtime: &Arc<Runtime>, component: &ComponentRuntime) -> HostState {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(GuestOutput { prefix: component.id.clone(), stderr: false })
            .stderr(GuestOutput { prefix: component.id.clone(), stderr: true })
            .envs(&component.environment);
        HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks::new(runtime.clone(), component),
            kv: KvCtx {
                allowed: component.key_value_stores.clone(),
                stores: runtime.stores.clone(),
                used: Default::default(),
                last_written: Default::default(),
            },
            component_id: component.id.clone(),
            resolver: runtime.resolver.clone(),
            // A runaway guest should fail its own request, not take the host's memory.
            limits: StoreLimitsBuilder::new().memory_size(runtime.options.max_guest_memory).build(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// Guest stdout/stderr, forwarded line by line to the host's own stdout/stderr with the
/// component id in front, so interleaved output of concurrent requests stays readable
/// (Spin prefixes component output the same way when it follows several components).
#[derive(Clone)]
struct GuestOutput {
    prefix: Arc<str>,
    stderr: bool,
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter { out: self.clone(), buf: Vec::new() })
    }
}

struct LineWriter {
    out: GuestOutput,
    buf: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, all: bool) {
        let mut lines = Vec::new();
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            lines.push(line);
        }
        if all && !self.buf.is_empty() {
            let mut rest = std::mem::take(&mut self.buf);
            rest.push(b'\n');
            lines.push(rest);
        }
        if lines.is_empty() {
            return;
        }
        let mut text = Vec::new();
        for l in lines {
            text.extend_from_slice(format!("[{}] ", self.out.prefix).as_bytes());
            text.extend_from_slice(&l);
        }
        if self.out.stderr {
            let _ = std::io::stderr().lock().write_all(&text);
        } else {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&text);
            let _ = o.flush();
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.buf.extend_from_slice(buf);
        self.emit(false);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit(true);
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit(true);
    }
}
