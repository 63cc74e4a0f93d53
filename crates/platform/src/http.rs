//! HTTP plumbing shared by the components: JSON answers, the one mapping from errors to
//! responses, the reader's language, and calls between functions.

use ntbcare_domain::language::{Language, Text};
use ntbcare_domain::store::StoreError;
use serde::Serialize;
use spin_sdk::http::{Method, Request, Response};

/// An error answer: 4xx with a message the reader can act on, or 500 that says only
/// "internal error" while the cause goes to the log.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: Text,
    pub field: Option<String>,
    /// Logged, never sent.
    pub cause: Option<String>,
    /// Extra headers, such as `Retry-After`.
    pub headers: Vec<(String, String)>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: Text) -> Self {
        ApiError { status, code: code.into(), message, field: None, cause: None, headers: vec![] }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// 429: too many requests from one address or sender; come back after `secs`.
    pub fn too_many_requests(secs: i64) -> Self {
        ApiError::new(
            429,
            "too-many-requests",
            Text::new(
                format!("Terlalu banyak permintaan. Silakan coba lagi dalam {secs} detik."),
                format!("Too many requests. Please try again in {secs} seconds."),
            ),
        )
        .with_header("retry-after", secs.to_string())
    }

    pub fn with_field(mut self, field: Option<String>) -> Self {
        self.field = field;
        self
    }

    pub fn internal(cause: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            code: "internal".into(),
            message: Text::new(
                "Terjadi kesalahan internal. Silakan coba lagi.",
                "Internal error. Please try again.",
            ),
            field: None,
            cause: Some(cause.into()),
            headers: vec![],
        }
    }

    pub fn not_found(what: Text) -> Self {
        ApiError::new(404, "not-found", what)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            401,
            "unauthorized",
            Text::new("Akses ditolak: token tidak ada atau salah.", "Access denied: missing or wrong token."),
        )
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            405,
            "method-not-allowed",
            Text::new("Metode tidak didukung di alamat ini.", "Method not allowed here."),
        )
    }

    pub fn no_route() -> Self {
        ApiError::not_found(Text::new("Alamat tidak ditemukan.", "No such address."))
    }

    pub fn payload_too_large(max_bytes: usize) -> Self {
        ApiError::new(
            413,
            "payload-too-large",
            Text::new(
                format!("Isi permintaan terlalu besar: paling banyak {} KB.", max_bytes / 1024),
                format!("Request body too large: at most {} KB.", max_bytes / 1024),
            ),
        )
    }

    /// The response, in the reader's language.
    pub fn into_response(self, lang: Language) -> Response {
        if let Some(cause) = &self.cause {
            eprintln!("error {}: {cause}", self.status);
        }
        let mut error = serde_json::json!({ "code": self.code, "message": self.message.get(lang) });
        if let Some(field) = self.field {
            error["field"] = serde_json::Value::String(field);
        }
        let mut resp = json_response(self.status, &serde_json::json!({ "error": error }));
        for (name, value) in self.headers {
            resp.set_header(name, value);
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(e.to_string())
    }
}

/// A JSON answer.
pub fn json_response(status: u16, body: &impl Serialize) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-store")
        .body(serde_json::to_vec(body).expect("answers encode"))
        .build()
}

/// The reader's language, from `Accept-Language`.
pub fn language(req: &Request) -> Language {
    Language::from_accept_language(req.header("accept-language").and_then(|v| v.as_str()))
}

/// The client's IP address: the host's `spin-client-addr` (`ip:port`, the TCP peer), or,
/// when the `client_addr_header` variable names a header (`x-real-ip`), that header's value.
/// Behind an ingress or nginx the peer is the proxy, so every citizen would share one address
/// and one rate limit; name the header only where every request arrives through a proxy that
/// overwrites it (a client could otherwise choose its own address).
pub fn client_ip(req: &Request) -> Option<String> {
    let header = spin_sdk::variables::get("client_addr_header").unwrap_or_default();
    let forwarded = Some(header.trim())
        .filter(|h| !h.is_empty())
        .and_then(|h| req.header(h))
        .and_then(|v| v.as_str())
        // A list (`X-Forwarded-For`): the last entry is the one the nearest proxy added.
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let addr = match forwarded {
        Some(a) => a,
        None => req.header("spin-client-addr").and_then(|v| v.as_str())?,
    };
    let ip = match addr.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => addr,
    };
    Some(ip.trim_start_matches('[').trim_end_matches(']').to_string())
}

/// The request path without its query.
pub fn path(req: &Request) -> &str {
    req.path()
}

/// A query parameter, percent-decoded (the same reader as forms and webhooks use); a query
/// that is not UTF-8 text has no parameters.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let pairs = ntbcare_domain::channels::parse_urlencoded(req.query().as_bytes()).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Require a secret header to equal a Spin variable, compared in constant time.
pub fn require_secret(req: &Request, header: &str, variable: &str) -> ApiResult<()> {
    let expected = crate::variable(variable)?;
    let presented = req.header(header).and_then(|v| v.as_str()).unwrap_or("");
    if !expected.is_empty() && constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// Require `Authorization: Bearer <admin_token>`.
/// The request's body as JSON, or 400 `malformed-json` saying why.
pub fn json_body(req: &Request) -> ApiResult<serde_json::Value> {
    serde_json::from_slice(req.body()).map_err(|e| {
        ApiError::new(
            400,
            "malformed-json",
            Text::new("Isi permintaan bukan JSON yang sah.", format!("The body is not valid JSON: {e}.")),
        )
    })
}

pub fn require_admin(req: &Request) -> ApiResult<()> {
    let expected = crate::variable("admin_token")?;
    let presented = req
        .header("authorization")
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !expected.is_empty() && constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The health answer every component gives at its own route.
pub fn health(component: &str) -> Response {
    json_response(200, &serde_json::json!({ "status": "ok", "component": component }))
}

/// Call another function through the contract: POST JSON to `base_url` + `path` with the
/// internal token, and decode the JSON answer. `base_url` comes from a Spin variable, so the
/// same code reaches `http://<id>.spin.internal` in one app and a URL when deployed apart.
pub async fn call_contract<Req: Serialize, Resp: serde::de::DeserializeOwned>(
    base_url: &str,
    path: &str,
    token_header: &str,
    token: &str,
    request: &Req,
) -> Result<Resp, String> {
    let outgoing = Request::builder()
        .method(Method::Post)
        .uri(format!("{}{path}", base_url.trim_end_matches('/')))
        .header("content-type", "application/json")
        .header(token_header, token)
        .body(serde_json::to_vec(request).map_err(|e| e.to_string())?)
        .build();
    let response: Response =
        spin_sdk::http::send(outgoing).await.map_err(|e| format!("{base_url}{path}: {e}"))?;
    if *response.status() != 200 {
        return Err(format!("{base_url}{path} answered {}", response.status()));
    }
    serde_json::from_slice(response.body()).map_err(|e| format!("{base_url}{path}: bad answer: {e}"))
}
