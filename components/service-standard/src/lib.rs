//! service-standard: the published *Standar Pelayanan Pengaduan*, for anyone, without signing
//! in: `GET /standar-pelayanan` (a page, Bahasa Indonesia, `?lang=en` for English) and
//! `GET /api/v1/service-standard` (the same value as JSON).
//!
//! Glue only: read the documents in force from the store exactly as casework and routing read
//! them (`ntbcare_platform::data`), with their versions, hand them to
//! `ntbcare_domain::service_standard::build`, and encode. Reading on every request means the
//! page says what the rules say the moment an administrator saves new ones. It only reads:
//! no key is written, and it never opens the identity store.

mod page;

use ntbcare_domain::channels::sms_gateway::parse_rfc3339;
use ntbcare_domain::language::Language;
use ntbcare_domain::service_standard::{self, effective_from_key, DocumentVersion, ServiceStandard, Sources};
use ntbcare_domain::store::KeyValue;
use ntbcare_platform::data::{self, Document};
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{ApiError, ApiResult, SpinStore};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

pub const PAGE: &str = "/standar-pelayanan";
pub const API: &str = "/api/v1/service-standard";

#[http_component]
fn handle(req: Request) -> Response {
    let lang = language(&req);
    route(&req, lang).unwrap_or_else(|e| e.into_response(lang))
}

/// `?lang=en` or `?lang=id` first (a link a person can share), then `Accept-Language`.
fn language(req: &Request) -> Language {
    match web::query_param(req, "lang") {
        Some(lang) => Language::from_accept_language(Some(&lang)),
        None => web::language(req),
    }
}

fn route(req: &Request, lang: Language) -> ApiResult {
    let path = web::path(req).trim_end_matches('/');
    let get = req.method() == &Method::Get;
    match path {
        PAGE if get => Ok(Response::builder()
            .status(200)
            .header("content-type", "text/html; charset=utf-8")
            .header("cache-control", "no-store")
            .body(page::render(&standard()?, lang))
            .build()),
        API if get => Ok(json_response(200, &standard()?)),
        PAGE | API => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

/// The standard the documents in force describe.
fn standard() -> ApiResult<ServiceStandard> {
    let store = SpinStore::open_default()?;
    let directory = data::directory(&store)?;
    let sla = data::sla_rules(&store)?;
    let calendar = data::calendar(&store)?;
    let routing = data::routing_rules(&store, &directory)?;
    Ok(service_standard::build(Sources {
        sla: (&sla, version(&store, "sla-rules", Document::SlaRules)?),
        calendar: (&calendar, version(&store, "calendar", Document::Calendar)?),
        directory: (&directory, version(&store, "directory", Document::Directory)?),
        routing: (&routing, version(&store, "routing-rules", Document::RoutingRules)?),
    }))
}

/// The version of a document in force: the administrator's saved text, or the seed.
fn version(store: &SpinStore, name: &str, doc: Document) -> ApiResult<DocumentVersion> {
    let saved = store.get(doc.key())?.is_some();
    let text = data::text(store, doc)?;
    let effective_from = store
        .get(&effective_from_key(doc.key()))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| parse_rfc3339(&s));
    Ok(DocumentVersion::of(name, &text, saved, effective_from))
}
