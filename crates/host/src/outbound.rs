//! Outbound HTTP (`wasi:http/outgoing-handler`): the `send_request` hook of wasmtime-wasi-http.
//!
//! - A request to a host not in the component's `allowed_outbound_hosts` fails at once with
//!   `HttpRequestDenied`, which the guest sees as an error (never a hang), as in Spin.
//! - `http://<component-id>.spin.internal/...` (service chaining) is served in process by
//!   that component, without a network hop, when allowed — spinframework/spin
//!   `crates/trigger-http/src/outbound_http.rs`.
//! - Anything else goes out through wasmtime-wasi-http's default client, once every
//!   key-value write applied so far is durable.

use std::future::Future;
use std::sync::Arc;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::{service_chaining_target, AllowedHosts};
use crate::runtime::{ComponentRuntime, Runtime};

pub struct OutboundHooks {
    runtime: Arc<Runtime>,
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
}

impl OutboundHooks {
    pub fn new(runtime: Arc<Runtime>, component: &ComponentRuntime) -> OutboundHooks {
        OutboundHooks {
            runtime,
            component_id: component.id.clone(),
            allowed: component.allowed_hosts.clone(),
        }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type SendResult = Result<(http::Response<WasiBody>, IoFuture), HttpError>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let uri = request.uri().clone();
        if !self.allowed.allows_url(&uri) {
            crate::log::warn(
                "outbound request denied: not in the component's allowed_outbound_hosts",
                &[
                    ("component", (&*self.component_id).into()),
                    ("url", crate::log::url(&uri).as_str().into()),
                ],
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        if let Some(target) = uri.host().and_then(service_chaining_target) {
            let runtime = self.runtime.clone();
            return Box::new(async move {
                let response = runtime.handle_chained(&target, request).await?;
                Ok((response, Box::new(async { Ok(()) }) as IoFuture))
            });
        }
        // Spin commits each key-value call before it returns, so a component may write a
        // claim and then act on the world (a provider's API, LAPOR!) knowing the claim will
        // survive a crash. This host shares commits between writes of a request; it makes
        // them durable before anything leaves the process, which keeps that promise.
        let runtime = self.runtime.clone();
        Box::new(async move {
            runtime
                .stores
                .sync()
                .await
                .map_err(|e| HttpError::InternalError(Some(format!("key-value sync: {e}"))))?;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((response.map(|b| b.boxed_unsync()), Box::new(io) as IoFuture))
        })
    }
}
