//! The one place a provider request leaves NTB Care: `wasi:http/outgoing-handler`, with
//! timeouts. spin-sdk's `http::send` passes no request options, so a provider that never
//! answers would hold the sweep until the host gives up; the options bound every call.

use ntbcare_domain::delivery::sweep::{Answer, Transport};
use ntbcare_domain::delivery::ProviderRequest;
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

pub struct WasiTransport {
    /// Connect, first-byte and between-bytes timeout.
    pub timeout_ms: u64,
}

/// `scheme://authority/path?query` into its parts.
fn split_url(url: &str) -> Result<(Scheme, &str, &str), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("`{url}` has no scheme"))?;
    let scheme = match scheme {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => Scheme::Other(other.to_string()),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok((scheme, authority, path))
}

fn fail(what: &str, err: impl std::fmt::Debug) -> String {
    format!("{what}: {err:?}")
}

fn method(m: &str) -> Method {
    match m {
        "GET" => Method::Get,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        _ => Method::Post,
    }
}

impl Transport for WasiTransport {
    fn send(&self, r: &ProviderRequest) -> Result<Answer, String> {
        let (scheme, authority, path) = split_url(&r.url)?;
        let headers = Fields::new();
        for (name, value) in &r.headers {
            headers
                .append(&name.to_ascii_lowercase(), &value.as_bytes().to_vec())
                .map_err(|x| fail("header", x))?;
        }
        headers
            .append(&"content-length".to_string(), &r.body.len().to_string().into_bytes())
            .map_err(|x| fail("header", x))?;
        let request = OutgoingRequest::new(headers);
        let bad = |what: &'static str| move |_| format!("bad request {what}");
        request.set_method(&method(&r.method)).map_err(bad("method"))?;
        request.set_scheme(Some(&scheme)).map_err(bad("scheme"))?;
        request.set_authority(Some(authority)).map_err(bad("authority"))?;
        request.set_path_with_query(Some(path)).map_err(bad("path"))?;
        let body = request.body().map_err(bad("body"))?;
        let options = RequestOptions::new();
        let ns = self.timeout_ms.saturating_mul(1_000_000);
        // A host that does not support an option refuses it; the call then has its default.
        let _ = options.set_connect_timeout(Some(ns));
        let _ = options.set_first_byte_timeout(Some(ns));
        let _ = options.set_between_bytes_timeout(Some(ns));
        let future = outgoing_handler::handle(request, Some(options)).map_err(|x| fail("send", x))?;
        {
            let stream = body.write().map_err(bad("body stream"))?;
            for chunk in r.body.chunks(4096) {
                stream.blocking_write_and_flush(chunk).map_err(|x| fail("writing the body", x))?;
            }
        }
        OutgoingBody::finish(body, None).map_err(|x| fail("finishing the body", x))?;
        future.subscribe().block();
        let response = future
            .get()
            .ok_or("no response")?
            .map_err(|_| "response taken twice".to_string())?
            .map_err(|x| fail("no answer", x))?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let incoming = response.consume().map_err(bad("response body"))?;
        let mut bytes = Vec::new();
        {
            let stream = incoming.stream().map_err(bad("response stream"))?;
            loop {
                match stream.blocking_read(64 * 1024) {
                    Ok(chunk) => bytes.extend(chunk),
                    Err(StreamError::Closed) => break,
                    Err(x) => return Err(format!("reading the answer: {x:?}")),
                }
            }
        }
        drop(IncomingBody::finish(incoming));
        Ok(Answer { status, headers, body: bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        let (s, a, p) = split_url("http://127.0.0.1:8080/v21.0/1/messages?x=1").unwrap();
        assert!(matches!(s, Scheme::Http));
        assert_eq!((a, p), ("127.0.0.1:8080", "/v21.0/1/messages?x=1"));
        assert_eq!(split_url("https://api.example").unwrap().2, "/");
    }
}
