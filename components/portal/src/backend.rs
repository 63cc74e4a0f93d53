//! The portal's only way to the data: intake's and casework's public HTTP APIs.
//!
//! Inside one app the base URLs are Spin service chaining (`http://intake.spin.internal`),
//! in process; deployed apart they are the other deployment's URL, from the `intake_url` and
//! `casework_url` variables. The portal holds no complaint data of its own: what a page shows
//! is exactly what the API lets this caller see (so a confidential reporter, absent from the
//! casework API, cannot appear on an agency page).

use ntbcare_domain::language::Language;
use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};

use crate::PageError;

/// An API's answer: its status and JSON (`Null` when the body is not JSON).
pub struct Reply {
    pub status: u16,
    pub json: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The API's own message for an error answer, in the reader's language.
    pub fn error_message(&self) -> Option<String> {
        self.json["error"]["message"].as_str().map(str::to_string)
    }

    pub fn error_field(&self) -> Option<String> {
        self.json["error"]["field"].as_str().map(str::to_string)
    }

    /// An error page for an answer the caller did not expect.
    pub fn into_error(self, lang: Language) -> PageError {
        match self.status {
            400..=499 => PageError::new(
                self.status,
                self.error_message().unwrap_or_else(|| {
                    crate::t(lang, "Permintaan tidak dapat diproses.", "The request could not be processed.")
                        .into()
                }),
            ),
            _ => PageError::unavailable(lang, format!("backend answered {}: {}", self.status, self.json)),
        }
    }
}

/// Which API.
#[derive(Clone, Copy)]
pub enum Api {
    Intake,
    Casework,
}

impl Api {
    fn base_url(self) -> String {
        let (variable, default) = match self {
            Api::Intake => ("intake_url", "http://intake.spin.internal"),
            Api::Casework => ("casework_url", "http://casework.spin.internal"),
        };
        spin_sdk::variables::get(variable).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.into())
    }
}

/// A call to an API.
pub struct Call {
    api: Api,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Call {
    pub fn new(api: Api, method: Method, path: impl Into<String>) -> Call {
        Call { api, method, path: path.into(), headers: vec![], body: vec![] }
    }

    pub fn get(api: Api, path: impl Into<String>) -> Call {
        Call::new(api, Method::Get, path)
    }

    pub fn post(api: Api, path: impl Into<String>) -> Call {
        Call::new(api, Method::Post, path)
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Call {
        let value = format!("Bearer {token}");
        self.header("authorization", &value)
    }

    pub fn json(mut self, body: &Value) -> Call {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }

    pub fn raw(mut self, content_type: &str, body: Vec<u8>) -> Call {
        self.body = body;
        self.header("content-type", content_type)
    }

    /// Send it, asking for answers in the reader's language.
    pub async fn send(self, lang: Language) -> Result<Reply, PageError> {
        let url = format!("{}{}", self.api.base_url().trim_end_matches('/'), self.path);
        let mut builder = Request::builder();
        builder.method(self.method).uri(&url).header("accept-language", lang.code());
        for (k, v) in &self.headers {
            builder.header(k.as_str(), v.as_str());
        }
        // Deployed apart, intake sees the portal's address (or the ingress's) on every
        // complaint; the internal token tells it the caller is the portal, which has applied the
        // per-address limit itself (in one app, service chaining's 0.0.0.0 says the same).
        if let Api::Intake = self.api {
            if let Some(token) = spin_sdk::variables::get("internal_token").ok().filter(|t| !t.is_empty()) {
                builder.header(ntbcare_contract::INTERNAL_TOKEN_HEADER, token.as_str());
            }
        }
        let request = builder.body(self.body).build();
        let response: Response = spin_sdk::http::send(request)
            .await
            .map_err(|e| PageError::unavailable(lang, format!("{url}: {e}")))?;
        let json = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        Ok(Reply { status: *response.status(), json })
    }
}
