//! A blocking HTTP client over `wasi:http/outgoing-handler`, with timeouts.
//!
//! `spin_sdk::http::send` passes no request options, so a LAPOR! that accepts the connection
//! and never answers would hold the sync until the host gives up. Here the first-byte and
//! connect timeouts are set on every call, and a transport failure is told apart by whether
//! the request can have reached LAPOR! (see `LaporError::delivery`).

use ntbcare_domain::lapor::wire::{LaporError, Method as WireMethod, WireRequest, WireResponse};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Answers larger than this are cut off (and then fail to parse): master lists are the
/// largest thing LAPOR! sends.
const MAX_BODY: usize = 8 * 1024 * 1024;

pub fn send(request: &WireRequest, timeout_ms: u64) -> Result<WireResponse, LaporError> {
    let (scheme, rest) = match request.url.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        _ => return Err(LaporError::Unreachable(format!("not an http(s) URL: {}", request.url))),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut headers: Vec<(String, Vec<u8>)> =
        request.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec())).collect();
    if request.method == WireMethod::Post {
        // A length rather than chunked encoding: some gateways refuse chunked uploads.
        headers.push(("content-length".into(), request.body.len().to_string().into_bytes()));
    }
    let fields =
        Fields::from_list(&headers).map_err(|e| LaporError::Unreachable(format!("headers: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match request.method {
        WireMethod::Get => Method::Get,
        WireMethod::Post => Method::Post,
    };
    let bad = |what: &str| LaporError::Unreachable(format!("bad {what} in {}", request.url));
    outgoing.set_method(&method).map_err(|_| bad("method"))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|_| bad("scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|_| bad("authority"))?;
    outgoing.set_path_with_query(Some(path)).map_err(|_| bad("path"))?;
    let body = outgoing.body().map_err(|_| bad("body"))?;

    let options = RequestOptions::new();
    let nanos = timeout_ms.saturating_mul(1_000_000);
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(|e| classify(&e))?;

    {
        let stream = body.write().map_err(|_| bad("body stream"))?;
        for chunk in request.body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| LaporError::Timeout(format!("writing the body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| classify(&e))?;

    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(e))) => return Err(classify(&e)),
            Some(Err(())) => return Err(LaporError::Timeout("response already taken".into())),
            None => future.subscribe().block(),
        }
    };
    let status = response.status();
    let incoming = response.consume().map_err(|_| LaporError::Timeout("no response body".into()))?;
    let stream = incoming.stream().map_err(|_| LaporError::Timeout("no response body stream".into()))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_BODY {
                    break;
                }
            }
            Err(wasi::io::streams::StreamError::Closed) => break,
            Err(e) => return Err(LaporError::Timeout(format!("reading the answer: {e:?}"))),
        }
    }
    Ok(WireResponse { status, body: bytes })
}

/// Whether the request can have reached the server.
fn classify(e: &ErrorCode) -> LaporError {
    use ErrorCode as E;
    match e {
        E::DnsTimeout
        | E::DnsError(_)
        | E::DestinationNotFound
        | E::DestinationUnavailable
        | E::DestinationIpProhibited
        | E::DestinationIpUnroutable
        | E::ConnectionRefused
        | E::ConnectionTimeout
        | E::HttpRequestDenied
        | E::HttpRequestUriInvalid
        | E::TlsProtocolError
        | E::TlsCertificateError
        | E::TlsAlertReceived(_) => LaporError::Unreachable(format!("{e:?}")),
        _ => LaporError::Timeout(format!("{e:?}")),
    }
}
