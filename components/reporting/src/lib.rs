//! reporting: monitoring and evaluation figures for leadership and the public.
//!
//! The summary is read from tallies that every event keeps current with atomic increments,
//! so it costs one batch read however many complaints there are.

use ntbcare_domain::directory::Directory;
use ntbcare_domain::store::KeyValue;
use ntbcare_domain::summary::{summary_keys, Summary};
use ntbcare_platform::http::{self as web, json_response};
use ntbcare_platform::{ApiError, ApiResult, SpinStore};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(req: Request) -> Response {
    let lang = web::language(&req);
    route(req).unwrap_or_else(|e| e.into_response(lang))
}

fn route(req: Request) -> ApiResult {
    let path = web::path(&req).trim_end_matches('/').to_string();
    match (req.method(), path.as_str()) {
        (Method::Get, "/api/v1/reports/health") => Ok(web::health("reporting")),
        (Method::Get, "/api/v1/reports/summary") => summary(),
        (_, "/api/v1/reports/summary") => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route()),
    }
}

fn summary() -> ApiResult {
    let directory = Directory::seed();
    let store = SpinStore::open_default()?;
    let values = store.get_many(&summary_keys(&directory))?;
    Ok(json_response(200, &Summary::from_counters(&directory, &values)?))
}
